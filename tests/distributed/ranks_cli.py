"""Run by test_mpi.py under ``mpiexec -n 2``: `chainrule train` (argv[1:]) through the
command line's own entry point, with every file write of ``cr.save`` logged per rank.
With ``FAIL_ON_RANK1=1`` in the environment, rank 1 cannot read the CSV (a UserError)."""

import os
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

if os.environ.get("FAIL_ON_RANK1"):
    from chainrule import data, distributed
    from chainrule.errors import UserError

    read_csv = data.read_csv

    def failing_read_csv(*args, **kwargs):
        if distributed.get_rank() == 1:
            raise UserError("rank 1 cannot read the file (on purpose)")
        return read_csv(*args, **kwargs)

    data.read_csv = failing_read_csv
sys.exit(cli.main(sys.argv[1:]))
