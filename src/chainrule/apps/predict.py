"""`chainrule predict`: apply a model made by `chainrule train` to a CSV file."""

from __future__ import annotations

import argparse

HELP = "apply a model saved by `chainrule train` to the rows of a CSV file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="model file written by `chainrule train` (model.npz)")
    parser.add_argument("csv", help="CSV file with the same feature columns (any order)")
    parser.add_argument("--out", metavar="FILE",
                        help="write the predictions to this CSV file (default: print them)")


def _header(path):
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return [h.strip() for h in next(csv.reader(f), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []  # read_csv reports the problem with the row and column


def run(args: argparse.Namespace) -> int:
    import csv
    import io
    import sys

    import numpy as np

    from ..data import read_csv
    from ..errors import UserError
    from .mlp import Trained

    trained = Trained.load(args.model)
    cfg = trained.config
    table = read_csv(args.csv, features=cfg["features"])
    pred = trained.predict(table.X)
    target = cfg["target"]
    values = [cfg["classes"][i] for i in pred] if trained.classification else pred.tolist()

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([target])
    writer.writerows([v] for v in values)
    if args.out:
        try:
            with open(args.out, "w", encoding="utf-8", newline="") as f:
                f.write(buffer.getvalue())
        except OSError as e:
            raise UserError(f"--out {args.out}: cannot write: {e.strerror or e}") from None
        print(f"{len(values)} predictions written to {args.out}")
    else:
        sys.stdout.write(buffer.getvalue())

    if target in _header(args.csv):  # the true values are there too: say how close we are
        truth = read_csv(args.csv, target=target, features=cfg["features"],
                         labels=trained.classification, classes=cfg["classes"]).y
        if trained.classification:
            score = f"accuracy {100 * np.mean(pred == truth):.1f}%"
        else:
            score = f"RMSE {np.sqrt(np.mean((pred - truth) ** 2)):.4g}"
        print(f"Against the {target!r} column of {args.csv}: {score}", file=sys.stderr)
    return 0
