"""`chainrule demo`: the text's case study end to end (Bishop §5.3, Figure 5.3)."""

from __future__ import annotations

import argparse

from . import DEMO_LR, DEMO_STEPS

HELP = "train the text's 1-3-1 tanh network on the four Figure 5.3 problems and draw them"

FIGURE = "figure_5_3.png"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=".", metavar="DIR",
                        help="folder for the figure (default: the working folder)")
    parser.add_argument("--steps", type=int, default=DEMO_STEPS,
                        help=f"gradient-descent steps per problem (default {DEMO_STEPS})")
    parser.add_argument("--lr", type=float, default=DEMO_LR,
                        help=f"learning rate η in w ← w − η∇E (default {DEMO_LR})")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the data and the initial weights (default 0)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..data import FIGURE_5_3, FIGURE_5_3_LABELS
    from ..errors import UserError
    from ..progress import Progress
    from . import casestudy
    from .common import output_folder

    if args.steps < 1:
        raise UserError(f"--steps must be at least 1, got {args.steps}")
    if not args.lr > 0:
        raise UserError(f"--lr must be a positive number, got {args.lr}")
    out = output_folder(args.out)

    results = []
    with Progress(args.steps * len(FIGURE_5_3), desc="training",
                  disable=args.no_progress) as bar:
        for name in FIGURE_5_3:
            bar.set_description(f"training on {FIGURE_5_3_LABELS[name]}")
            results.append(casestudy.fit(name, steps=args.steps, lr=args.lr,
                                         seed=args.seed, progress=bar))

    print(f"The text's 1-3-1 tanh network, plain gradient descent, η = {args.lr:g}, "
          f"50 points per problem:")
    print(f"{'problem':<9} {'steps':>7} {'final E':>11} {'time':>8}")
    for r in results:
        print(f"{FIGURE_5_3_LABELS[r['name']]:<9} {args.steps:>7} "
              f"{r['errors'][-1]:>11.5f} {r['seconds']:>7.2f}s")
    worst = max(r["grad_diff"] for r in results)
    print(f"Largest difference between back-propagated gradients and eqs. 5.9-5.12: "
          f"{worst:.1e}")
    if not np.isfinite([r["errors"][-1] for r in results]).all():
        print(f"Training diverged: try a smaller --lr than {args.lr:g}.")

    try:
        grid = np.linspace(-1.0, 1.0, 201)
        panels = []
        for r in results:
            fit, hidden = casestudy.curves(r["model"], grid)
            panels.append({"title": FIGURE_5_3_LABELS[r["name"]], "x": r["x"], "t": r["t"],
                           "grid": grid, "fit": fit, "hidden": hidden,
                           "errors": r["errors"]})
        from .. import plots

        path = plots.figure_5_3(panels, out / FIGURE)
    except UserError as e:  # the plot extra is missing
        print(f"No figure written: {e}")
    else:
        print(f"Figure written to {path}")
    return 0
