"""The ``chainrule`` command line.

Each subcommand lives in its own module, which must be cheap to import (heavy imports go
inside its ``run``) and define::

    HELP = "one line shown by `chainrule --help`"
    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...

Register it in ``COMMANDS`` below. A subcommand reports bad user input by raising
:class:`chainrule.errors.UserError`; the message is printed on one line, without a
traceback, and the exit status is 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import UserError

# name -> module implementing it (see the module docstring for the protocol)
COMMANDS: dict[str, str] = {
    "demo": "chainrule.apps.demo",
    "train": "chainrule.apps.train",
    "predict": "chainrule.apps.predict",
    "explore": "chainrule.explorer.cli",
    "export-figure": "chainrule.explorer.export",
    "bench": "chainrule.bench",
}


def _load(module: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:  # a subcommand whose module is not written yet
        if e.name == module:
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="Gradient descent and back-propagation, real, fast and visible.",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        mod = _load(module)
        if mod is None:
            continue
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 0
    try:
        rc = int(args._run(args) or 0)
    except UserError as e:
        print(f"chainrule {args.command}: error: {e}", file=sys.stderr)
        rc = 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        rc = 130
    if rc and "chainrule.distributed" in sys.modules:  # one rank failing ends the MPI job:
        sys.modules["chainrule.distributed"].end_job(rc)  # the others wait in a collective
    return rc


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
