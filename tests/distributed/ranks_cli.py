"""Run by test_mpi.py under ``mpiexec -n 2``: `chainrule train` (argv[1:]) through the
command line's own entry point, with every file write of ``cr.save`` logged per rank."""

import sys
from pathlib import Path

from chainrule import cli
from chainrule.apps import mlp

_save = mlp.save  # what Trained.save calls


def logged_save(obj, path, *args, **kwargs):
    from chainrule import distributed

    with open(f"saves-rank{distributed.get_rank()}.txt", "a") as log:
        log.write(f"{Path(path).name}\n")
    return _save(obj, path, *args, **kwargs)


mlp.save = logged_save
sys.exit(cli.main(sys.argv[1:]))
