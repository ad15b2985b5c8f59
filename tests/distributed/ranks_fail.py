"""Run by test_mpi.py under ``mpiexec -n 2``: rank 1 fails (argv[1]: ``raise`` or
``sigint``) while rank 0 waits in a collective; the whole job must end at once."""

import os
import signal
import sys
import time

import numpy as np

import chainrule as cr

cr.distributed.init_process_group()
if cr.distributed.get_rank() == 1:
    time.sleep(0.3)
    if sys.argv[1] == "raise":
        raise ValueError("rank one broke on purpose")
    os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C delivers
    time.sleep(30)
cr.distributed.all_reduce(np.ones(3))  # rank 0 waits here for a rank that never comes
print("rank 0 was not ended", flush=True)
