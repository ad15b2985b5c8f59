"""Collectives across processes, on MPI, with ``torch.distributed``'s names.

>>> import chainrule as cr
>>> cr.distributed.init_process_group(backend="mpi")
>>> cr.distributed.get_rank(), cr.distributed.get_world_size()
(0, 1)

Launched under ``mpirun``/``mpiexec`` (Open MPI, MPICH, Intel MPI) or Slurm's ``srun``, the
world is every process of the job, and the collectives run over ``mpi4py`` (the ``mpi``
extra). Launched as a plain ``python script.py``, it is a world of one process, with no
MPI needed, so the same script runs anywhere.

The collectives work in place on Tensors and NumPy arrays of any float dtype (integers
too, except ``op="mean"``). Under MPI, an exception that nobody catches on any rank, or
Ctrl-C, prints that rank's error and ends the whole job (``MPI_Abort``) instead of
leaving the other ranks waiting in a collective.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from .errors import ChainruleError
from .tensor import Tensor

__all__ = [
    "DistributedError",
    "ReduceOp",
    "all_gather",
    "all_gather_object",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "is_mpi_available",
]


class DistributedError(ChainruleError, RuntimeError):
    """A process group used wrongly, or ranks that disagree (raised on every rank).

    Examples
    --------
    >>> import chainrule as cr
    >>> try:
    ...     cr.distributed.get_rank()      # before init_process_group
    ... except cr.distributed.DistributedError as e:
    ...     print(str(e)[:44])
    the default process group is not initialized
    """


class ReduceOp:
    """Names of the reductions of :func:`all_reduce` (plain strings work as well).

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> t = cr.tensor([1.0, 4.0])
    >>> cr.distributed.all_reduce(t, op=cr.distributed.ReduceOp.MAX)
    >>> cr.distributed.ReduceOp.AVG
    'mean'
    >>> cr.distributed.destroy_process_group()
    """

    SUM = "sum"
    MEAN = AVG = "mean"
    MAX = "max"
    MIN = "min"


# Environment variables that a launcher sets in every process it starts.
_LAUNCHERS = {
    "OMPI_COMM_WORLD_SIZE": "Open MPI's mpirun",
    "PMIX_RANK": "a PMIx launcher (Open MPI 5, srun --mpi=pmix)",
    "PMI_SIZE": "MPICH's or Intel MPI's mpiexec (or srun --mpi=pmi2)",
    "PMI_RANK": "MPICH's or Intel MPI's mpiexec",
    "MPI_LOCALNRANKS": "MPICH's mpiexec",
}


def launcher():
    """Which MPI launcher started this process, or None for a plain ``python``."""
    for var, name in _LAUNCHERS.items():
        if var in os.environ:
            return name
    if "SLURM_STEP_ID" in os.environ and int(os.environ.get("SLURM_NTASKS", "1") or 1) > 1:
        return "Slurm's srun"
    return None


class _Local:
    """A world of one process: every collective is the identity."""

    rank, size, mpi = 0, 1, None

    def allreduce(self, buf, op):
        pass

    def bcast(self, buf, src):
        pass

    def allgather(self, buf, out):
        out[0] = buf

    def allgather_object(self, obj):
        return [obj]

    def barrier(self):
        pass


class _MPIWorld:
    def __init__(self, MPI):
        self.mpi = MPI
        self.comm = MPI.COMM_WORLD.Dup()  # our own context: user MPI traffic cannot mix in
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.ops = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}

    def allreduce(self, buf, op):
        self.comm.Allreduce(self.mpi.IN_PLACE, buf, op=self.ops[op])

    def bcast(self, buf, src):
        self.comm.Bcast(buf, root=src)

    def allgather(self, buf, out):
        self.comm.Allgather(buf, out)

    def allgather_object(self, obj):
        return self.comm.allgather(obj)

    def barrier(self):
        self.comm.Barrier()


_world = None
_hook_installed = False


def is_available():
    """True: a process group can always be made (a single-process one without MPI).

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.distributed.is_available()
    True
    """
    return True


def is_mpi_available():
    """Whether ``mpi4py`` imports, i.e. whether ``backend="mpi"`` can span processes.

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.distributed.is_mpi_available() in (True, False)
    True
    """
    try:
        _import_mpi()
    except DistributedError:
        return False
    return True


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise DistributedError(
            f"this process was started by {launcher() or 'no MPI launcher'}, but mpi4py "
            f"cannot be imported ({e}); install it with: pip install \"chainrule[mpi]\" "
            "(it needs an MPI library: Debian/Ubuntu `sudo apt-get install openmpi-bin "
            "libopenmpi-dev`, macOS `brew install open-mpi`, or conda's `mpi4py`)"
        ) from e
    return MPI


def init_process_group(backend="mpi", **kwargs):
    """Join the job's process group (the default group; one per process).

    Parameters
    ----------
    backend : {"mpi"}
        The only backend (PyTorch's ``"gloo"``/``"nccl"`` are not provided).
    **kwargs
        PyTorch's ``init_method``, ``world_size``, ``rank`` and ``timeout`` are accepted
        for compatibility; ``world_size``/``rank``, when given, must match what MPI says.

    Notes
    -----
    Under an MPI launcher (``mpirun``, ``mpiexec``, ``srun``) the group is the whole job and
    ``mpi4py`` is required; otherwise it is a world of one process. Under MPI it also
    installs an exception hook that ends the whole job when any rank fails.

    Examples
    --------
    A plain ``python`` process is a world of one:

    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> cr.distributed.get_world_size()
    1
    >>> cr.distributed.destroy_process_group()
    """
    global _world
    if _world is not None:
        raise DistributedError("init_process_group() was already called in this process")
    if backend is None:
        backend = "mpi"
    if str(backend).lower() != "mpi":
        raise DistributedError(
            f"backend {backend!r} is not available; chainrule's process groups run on "
            "MPI: init_process_group(backend=\"mpi\")"
        )
    unknown = set(kwargs) - {"init_method", "world_size", "rank", "timeout", "group_name"}
    if unknown:
        raise TypeError(f"init_process_group() got unexpected arguments {sorted(unknown)}")
    world = _MPIWorld(_import_mpi()) if launcher() else _Local()
    for key, have in (("world_size", world.size), ("rank", world.rank)):
        want = kwargs.get(key, -1)
        if want is not None and want != -1 and want != have:
            raise DistributedError(f"init_process_group({key}={want}), but this process has "
                                   f"{key} {have} in its MPI job")
    _world = world
    if world.size > 1:
        _install_abort_hook()


def destroy_process_group():
    """Leave the default process group (another ``init_process_group`` may follow).

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> cr.distributed.is_initialized()
    True
    >>> cr.distributed.destroy_process_group()
    >>> cr.distributed.is_initialized()
    False
    """
    global _world
    _group()
    _world = None


def is_initialized():
    """Whether :func:`init_process_group` has been called (and not undone).

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.distributed.is_initialized()
    False
    """
    return _world is not None


def _group():
    if _world is None:
        raise DistributedError(
            "the default process group is not initialized; call "
            "cr.distributed.init_process_group() first"
        )
    return _world


def get_rank():
    """This process's rank, 0 … world size − 1.

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> cr.distributed.get_rank()
    0
    >>> cr.distributed.destroy_process_group()
    """
    return _group().rank


def get_world_size():
    """The number of processes in the job.

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> cr.distributed.get_world_size()
    1
    >>> cr.distributed.destroy_process_group()
    """
    return _group().size


# ----------------------------------------------------------------------- failures
def _install_abort_hook():
    """An uncaught exception (or Ctrl-C) on one rank must end the job: the other ranks
    would otherwise wait in their next collective forever."""
    global _hook_installed
    if _hook_installed:
        return
    previous = sys.excepthook

    def hook(etype, value, tb):
        world = _world
        if world is None or world.size == 1:
            return previous(etype, value, tb)
        code = 130 if issubclass(etype, KeyboardInterrupt) else 1
        try:
            print(f"chainrule.distributed: rank {world.rank} of {world.size} failed; "
                  "ending the job", file=sys.stderr)
            previous(etype, value, tb)
        finally:
            end_job(code)

    sys.excepthook = hook
    _hook_installed = True


def end_job(code=1):
    """End every process of the job now with exit status ``code`` (``MPI_Abort``);
    without a multi-process group, nothing happens and the caller exits as usual."""
    world = _world
    if world is None or world.size == 1:
        return
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except (OSError, ValueError):
            pass
    world.mpi.COMM_WORLD.Abort(int(code))


# --------------------------------------------------------------------- collectives
def _array(t, what):
    """The ndarray behind ``t`` (a Tensor or an ndarray), checked for in-place use."""
    if isinstance(t, Tensor):
        arr = t.data
    elif isinstance(t, np.ndarray):
        arr = t
    else:
        raise TypeError(f"{what} works in place on a Tensor or a NumPy array, "
                        f"got {type(t).__name__}")
    if arr.dtype.kind not in "fciu":
        raise TypeError(f"{what}: dtype {arr.dtype} is not a number type")
    if not arr.flags.writeable:
        raise ValueError(f"{what} works in place, but this array is read-only")
    return arr


def _wire(arr):
    """A contiguous buffer of a dtype MPI knows (float16 travels as float32)."""
    if arr.dtype == np.float16:
        return arr.astype(np.float32)
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)


def _written(t, arr, buf):
    if buf is not arr:
        arr[...] = buf
    if isinstance(t, Tensor):
        t._bump_version()  # an in-place change, as any other: a graph that used t notices


_OPS = ("sum", "mean", "max", "min")


def all_reduce(tensor, op="sum"):
    """Reduce ``tensor`` over all ranks, in place: every rank ends with the result.

    Parameters
    ----------
    tensor : Tensor or ndarray
        Same shape and dtype on every rank.
    op : {"sum", "mean", "max", "min"} or a :class:`ReduceOp` name

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> g = cr.tensor([2.0, 6.0])
    >>> cr.distributed.all_reduce(g, op="mean")   # the average over 1 process
    >>> g
    tensor([2., 6.])
    >>> cr.distributed.destroy_process_group()
    """
    world = _group()
    op = str(op).lower()
    if op not in _OPS:
        raise ValueError(f"all_reduce: op must be one of {', '.join(map(repr, _OPS))}, "
                         f"got {op!r}")
    arr = _array(tensor, "all_reduce")
    if op == "mean" and arr.dtype.kind not in "fc":
        raise TypeError(f"all_reduce(op='mean') needs a floating-point dtype, got {arr.dtype}")
    buf = _wire(arr)
    world.allreduce(buf, op)
    if op == "mean":
        buf /= world.size
    _written(tensor, arr, buf)


def broadcast(tensor, src=0):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every rank, in place.

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> w = cr.tensor([0.5, -1.0])
    >>> cr.distributed.broadcast(w, src=0)
    >>> w
    tensor([ 0.5, -1. ])
    >>> cr.distributed.destroy_process_group()
    """
    world = _group()
    _check_rank(src, world, "broadcast: src")
    arr = _array(tensor, "broadcast")
    buf = _wire(arr)
    world.bcast(buf, src)
    _written(tensor, arr, buf)


def _check_rank(r, world, what):
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not 0 <= r < world.size:
        raise ValueError(f"{what} must be a rank in 0..{world.size - 1}, got {r!r}")


def all_gather(tensor_list, tensor):
    """Fill ``tensor_list[r]`` with rank r's ``tensor``, on every rank (PyTorch's order
    of arguments). The list holds world-size Tensors or arrays shaped like ``tensor``; a
    rank whose ``tensor`` has another shape or dtype makes every rank raise.

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> out = [cr.zeros(2)]                     # one per rank
    >>> cr.distributed.all_gather(out, cr.tensor([1.0, 2.0]))
    >>> out
    [tensor([1., 2.])]
    >>> cr.distributed.destroy_process_group()
    """
    world = _group()
    arr = _array(tensor, "all_gather")
    if not isinstance(tensor_list, list) or len(tensor_list) != world.size:
        raise ValueError(f"all_gather: tensor_list must be a list of {world.size} tensors "
                         "(one per rank)")
    outs = [_array(t, f"all_gather: tensor_list[{i}]") for i, t in enumerate(tensor_list)]
    for i, o in enumerate(outs):
        if o.shape != arr.shape or o.dtype != arr.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] has shape {o.shape} and dtype "
                             f"{o.dtype}, but the tensor has {arr.shape} and {arr.dtype}")
    signatures = all_gather_object_list((arr.shape, arr.dtype.str))
    differ = first_difference(signatures)
    if differ is not None:
        (s0, d0), (r, (sr, dr)) = signatures[0], differ
        raise DistributedError(
            f"all_gather: the ranks' tensors differ: rank 0 has shape {s0} and dtype "
            f"{np.dtype(d0)}, rank {r} has shape {sr} and dtype {np.dtype(dr)}")
    buf = _wire(arr)
    out = np.empty((world.size, *buf.shape), dtype=buf.dtype)
    world.allgather(buf, out)
    for t, o, got in zip(tensor_list, outs, out):
        _written(t, o, got)


def all_gather_object(object_list, obj):
    """Fill ``object_list`` (length world size) with every rank's picklable ``obj``.

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> names = [None]
    >>> cr.distributed.all_gather_object(names, {"rank": 0, "loss": 0.25})
    >>> names
    [{'rank': 0, 'loss': 0.25}]
    >>> cr.distributed.destroy_process_group()
    """
    world = _group()
    if not isinstance(object_list, list) or len(object_list) != world.size:
        raise ValueError(f"all_gather_object: object_list must be a list of {world.size} "
                         "items (one per rank)")
    object_list[:] = world.allgather_object(obj)


def all_gather_object_list(obj):
    """Every rank's ``obj``, as a list indexed by rank."""
    return _group().allgather_object(obj)


def first_difference(values):
    """``(rank, value)`` of the first rank whose value differs from rank 0's, or None."""
    for r, v in enumerate(values):
        if v != values[0]:
            return r, v
    return None


def barrier():
    """Wait until every rank has called ``barrier()``.

    Examples
    --------
    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> cr.distributed.barrier()
    >>> cr.distributed.destroy_process_group()
    """
    _group().barrier()
