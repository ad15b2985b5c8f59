"""`chainrule train`: train a multi-layer perceptron on your own CSV file."""

from __future__ import annotations

import argparse

HELP = "train a neural network on your own CSV file (one column is the target)"

MODEL = "model.npz"
LOSS_PLOT = "loss.png"


def _hidden(text):
    text = text.strip()
    if not text or text == "0":
        return []
    try:
        widths = [int(w) for w in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths like 16,16, got {text!r}"
        ) from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return widths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("csv", help="CSV file with a header row; every other column is a feature")
    parser.add_argument("--target", required=True, metavar="COL",
                        help="name of the column to predict")
    parser.add_argument("--hidden", type=_hidden, default=[16], metavar="W1,W2,...",
                        help="hidden layer widths (default 16; 0 for a linear model)")
    parser.add_argument("--activation", choices=("tanh", "relu", "sigmoid"), default="tanh",
                        help="hidden-unit activation (default tanh)")
    parser.add_argument("--loss", choices=("mse", "cross-entropy"), default="mse",
                        help="mse: predict a number; cross-entropy: predict a class label "
                             "(default mse)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="adam",
                        help="adam, or sgd with momentum 0.9 (default adam)")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default 0.01 for adam, 0.05 for sgd)")
    parser.add_argument("--epochs", type=int, default=100, help="passes over the data (100)")
    parser.add_argument("--batch-size", type=int, default=32, help="rows per step (32)")
    parser.add_argument("--val-fraction", type=float, default=0.2,
                        help="part of the rows held out for validation (0.2; 0 for none)")
    parser.add_argument("--seed", type=int, default=0, help="seed of split, weights, shuffling")
    parser.add_argument("--out", default=".", metavar="DIR",
                        help=f"folder for {MODEL} and {LOSS_PLOT} (default: working folder)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _check(args):
    from ..errors import UserError

    if args.epochs < 1:
        raise UserError(f"--epochs must be at least 1, got {args.epochs}")
    if args.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {args.batch_size}")
    if args.lr is not None and not args.lr > 0:
        raise UserError(f"--lr must be a positive number, got {args.lr}")
    if not 0 <= args.val_fraction < 1:
        raise UserError(f"--val-fraction must be in [0, 1), got {args.val_fraction}")


def run(args: argparse.Namespace) -> int:
    from .. import distributed
    from ..data import read_csv
    from ..errors import UserError
    from ..progress import Progress
    from . import mlp
    from .common import output_folder

    _check(args)
    if not distributed.is_initialized():  # under mpirun/srun: data-parallel over its ranks
        distributed.init_process_group()
    lead, size = distributed.get_rank() == 0, distributed.get_world_size()
    classification = args.loss == "cross-entropy"
    table = read_csv(args.csv, target=args.target, labels=classification)
    if classification and len(table.classes) < 2:
        raise UserError(f"{args.csv}: column {args.target!r} has only one class label")
    out = output_folder(args.out)
    with Progress(args.epochs, desc="training", disable=args.no_progress or not lead) as bar:
        trained, history = mlp.train(
            table, hidden=args.hidden, activation=args.activation, loss=args.loss,
            optimizer=args.optimizer, lr=args.lr, epochs=args.epochs,
            batch_size=args.batch_size, val_fraction=args.val_fraction, seed=args.seed,
            progress=bar)
    if not lead:  # rank 0 alone writes the files and the report
        return 0
    model_path = out / MODEL
    trained.save(model_path)

    shape = "-".join(str(w) for w in [table.X.shape[1], *args.hidden, trained.config["n_out"]])
    print(f"Trained a {shape} {args.activation} network on {len(table)} rows of {args.csv} "
          f"({args.epochs} epochs, {args.optimizer}"
          + (f", data-parallel on {size} processes)." if size > 1 else ")."))
    line = f"Final {args.loss} loss: training {history['train'][-1]:.4g}"
    if history["val"]:
        line += f", validation {history['val'][-1]:.4g}"
    if "val_accuracy" in history:
        line += f"; validation accuracy {100 * history['val_accuracy']:.1f}%"
    if "val_rmse" in history:
        line += f"; validation RMSE {history['val_rmse']:.4g} (in {args.target}'s units)"
    print(line)
    print(f"Model written to {model_path}")
    try:
        from .. import plots

        path = plots.loss_curves(history, out / LOSS_PLOT, ylabel=f"{args.loss} loss")
    except UserError as e:
        print(f"No loss plot written: {e}")
    else:
        print(f"Loss plot written to {path}")
    print(f"Apply it: chainrule predict {model_path} data.csv")
    return 0
