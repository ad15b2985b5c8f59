"""Data-parallel training: :class:`DistributedDataParallel`, as in PyTorch and ChainerMN.

Each process holds a copy of the model and a different part of every batch. Rank 0's
parameters are broadcast once at construction; after each ``backward()`` the gradients are
averaged over the ranks (one allreduce per flat bucket of parameters), so the ordinary
optimizer then takes the same step everywhere and the copies stay identical.
"""

from __future__ import annotations

import contextlib
import weakref

import numpy as np

from .. import autograd, backend, distributed
from ..graph import mode
from ..tensor import Tensor
from .module import Module

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """Gradients of several parameters in one flat buffer, reduced by one allreduce."""

    __slots__ = ("flat", "items")

    def __init__(self, params, dtype):
        self.items, offset = [], 0
        for p in params:
            n = p.data.size
            self.items.append((p, offset, n))
            offset += n
        self.flat = np.empty(offset, dtype=dtype)


def _wire_dtype(dtype):
    return np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)


def _describe(entry):
    kind, name, shape, dtype, requires_grad = entry
    frozen = "" if requires_grad else ", requires_grad=False"
    return f"{kind} {name!r} of shape {tuple(shape)} and dtype {dtype}{frozen}"


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over the default process group.

    Parameters
    ----------
    module : Module
        The model; every rank builds the same architecture (the values may differ: rank
        0's are broadcast to all at construction).
    broadcast_buffers : bool
        Also broadcast the module's buffers (``named_buffers()``, where a module has them)
        from rank 0 at every forward, as PyTorch does.
    bucket_cap_mb : float
        Size of a gradient bucket in MiB (default 25, as PyTorch): each is one allreduce.
    find_unused_parameters : bool
        Allow parameters that get no gradient on some ranks (see below).

    Notes
    -----
    Gradients are averaged by the time ``backward()`` returns (``forward`` marks that a
    reduction is due; the engine's post-backward hook does it), so ``opt.step()``,
    ``clip_grad_norm_`` and friends see the averaged gradients with no extra call.
    ``no_sync()`` skips the averaging for backward passes of forwards run inside it
    (gradient accumulation); the next synchronised backward averages the sum.

    Unused parameters, as in PyTorch: with ``find_unused_parameters=False`` (default),
    a trainable parameter that the backward did not reach raises
    :class:`~chainrule.distributed.DistributedError` naming it, on that rank (PyTorch
    raises at the next forward). With ``True``, one extra small allreduce finds the
    parameters used on any rank: such a parameter's gradient is the average over all
    ranks, the ranks that did not use it counting zero; a parameter used on no rank keeps
    its ``.grad`` as it was (None after ``zero_grad()``), so optimizers skip it.

    ``state_dict()`` names carry the ``module.`` prefix, as in PyTorch; save
    ``ddp.module.state_dict()`` to load into a plain model.

    Examples
    --------
    Under ``mpirun -n 2 python train.py`` each rank averages its gradients with the other's;
    run as a plain ``python`` it is a world of one and trains as the bare model would:

    >>> import chainrule as cr
    >>> cr.distributed.init_process_group()
    >>> model = cr.nn.Linear(3, 1)
    >>> ddp = cr.nn.parallel.DistributedDataParallel(model)
    >>> loss = ddp(cr.ones(4, 3)).sum()
    >>> loss.backward()                      # gradients averaged over the ranks here
    >>> model.weight.grad.shape
    (1, 3)
    >>> sorted(ddp.state_dict())
    ['module.bias', 'module.weight']
    >>> cr.distributed.destroy_process_group()
    """

    def __init__(self, module, broadcast_buffers=True, bucket_cap_mb=25,
                 find_unused_parameters=False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a Module, got {type(module).__name__}")
        if not bucket_cap_mb > 0:
            raise ValueError(f"bucket_cap_mb must be positive, got {bucket_cap_mb!r}")
        for n, p in module.named_parameters():
            if type(p.data) is not np.ndarray and backend.of(p.data) is not None:
                raise backend.DeviceError(
                    f"DistributedDataParallel: parameter {n!r} is on {p.device}, but the "
                    "gradients are averaged in NumPy buffers on the host so far; call "
                    "module.cpu() first")
        world = distributed._group()
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.world_size = world.size
        self._verify_same_model()
        with _no_tracing():
            for _, t in self._named_state():
                distributed.broadcast(t, src=0)
        trainable = [p for p in module.parameters() if p.requires_grad]
        self._params = trainable
        self._buckets = _make_buckets(trainable, bucket_cap_mb)
        self._sync = True
        self._pending = False
        self._used = set()
        ref = weakref.ref(self)

        def hook(leaves):
            ddp = ref()
            if ddp is None:
                autograd.post_backward_hooks.remove(hook)
            else:
                ddp._after_backward(leaves)

        autograd.post_backward_hooks.append(hook)

    # --------------------------------------------------------------- construction
    def _named_state(self):
        """((kind, name), tensor) of the parameters, then the buffers where there are any."""
        for n, p in self.module.named_parameters():
            yield ("parameter", n), p
        buffers = getattr(self.module, "named_buffers", None)
        if buffers is not None:
            for n, b in buffers():
                yield ("buffer", n), b

    def _verify_same_model(self):
        """Every rank must hold the same names, shapes and dtypes: compared here, so a
        mismatch is one error on every rank rather than a hang or garbage in a collective."""
        mine = [(kind, name, tuple(t.shape), str(t.dtype), bool(t.requires_grad))
                for (kind, name), t in self._named_state()]
        every = distributed.all_gather_object_list(mine)
        differ = distributed.first_difference(every)
        if differ is None:
            return
        r, theirs = differ
        ref = every[0]
        for k, (a, b) in enumerate(zip(ref, theirs)):
            if a != b:
                what = f"entry {k}: rank 0 has {_describe(a)}, rank {r} has {_describe(b)}"
                break
        else:
            longer, shorter, lr = (ref, theirs, 0) if len(ref) > len(theirs) else (theirs, ref, r)
            extra = longer[len(shorter)]
            what = (f"rank 0 has {len(ref)} parameters and buffers, rank {r} has "
                    f"{len(theirs)}; the first one only rank {lr} has is {_describe(extra)}")
        raise distributed.DistributedError(
            f"DistributedDataParallel: the model differs between ranks ({what}); every "
            "rank must build the same architecture"
        )

    # -------------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self.world_size > 1:
            buffers = [t for (kind, _), t in self._named_state() if kind == "buffer"]
            if buffers:
                with _no_tracing():
                    for t in buffers:
                        distributed.broadcast(t, src=0)
        if mode.grad_enabled:
            self._pending = self._sync
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside accumulate gradients locally only."""
        previous = self._sync
        self._sync = False
        try:
            yield
        finally:
            self._sync = previous

    # ------------------------------------------------------------------ reduction
    def _after_backward(self, leaves):
        reached = [p for p in self._params if p in leaves]
        if not reached:
            return  # a backward that did not go through this model
        self._used.update(map(id, reached))
        if not self._pending:
            return
        self._pending = False
        used, self._used = self._used, set()
        if self.world_size > 1:
            _refuse_trace("DistributedDataParallel's gradient allreduce")
        if self.find_unused_parameters:
            flags = np.array([id(p) in used for p in self._params], dtype=np.int32)
            distributed.all_reduce(flags, op="max")
            skip = {id(p) for p, f in zip(self._params, flags) if not f}
        else:
            skip = set()
        self.reduce_gradients(skip)
        if not self.find_unused_parameters:
            missing = [n for n, p in self.module.named_parameters()
                       if p.requires_grad and id(p) not in used]
            if missing:
                raise distributed.DistributedError(
                    f"DistributedDataParallel: parameter {missing[0]!r}"
                    + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                    + f" got no gradient on rank {distributed.get_rank()}: it was not used "
                    "to compute the loss; pass find_unused_parameters=True to "
                    "DistributedDataParallel to allow parameters unused on some ranks"
                )

    def reduce_gradients(self, skip=frozenset()):
        """Average ``.grad`` over the ranks now (``backward()`` calls this itself); a
        missing gradient counts as zeros; parameters whose id is in ``skip`` keep theirs."""
        size = self.world_size
        if size == 1:
            return
        for bucket in self._buckets:
            flat = bucket.flat
            for p, off, n in bucket.items:
                g = p.grad
                if g is None:
                    flat[off:off + n] = 0
                else:
                    flat[off:off + n] = g.data.reshape(-1)
            distributed._group().allreduce(flat, "sum")
            flat /= size
            for p, off, n in bucket.items:
                if id(p) in skip:
                    continue
                g, view = p.grad, flat[off:off + n].reshape(p.data.shape)
                if g is not None and g.data.flags.writeable and g.data.dtype == p.data.dtype:
                    g.data[...] = view
                else:
                    p._grad = Tensor(view.astype(p.data.dtype))

    def extra_repr(self):
        return (f"world_size={self.world_size}, buckets={len(self._buckets)}, "
                f"find_unused_parameters={self.find_unused_parameters}")


def _make_buckets(params, cap_mb):
    """Parameters in reverse order (the backward reaches the last layers first), grouped by
    dtype, cut into flat buckets of at most ``cap_mb`` MiB (a larger parameter alone)."""
    cap = cap_mb * 2 ** 20
    open_, done = {}, []
    for p in reversed(params):
        dt = _wire_dtype(p.data.dtype)
        group = open_.setdefault(dt, [[], 0])
        nbytes = p.data.size * dt.itemsize
        if group[0] and group[1] + nbytes > cap:
            done.append(_Bucket(group[0], dt))
            group[:] = [[], 0]
        group[0].append(p)
        group[1] += nbytes
    done += [_Bucket(g[0], dt) for dt, g in open_.items() if g[0]]
    return done


@contextlib.contextmanager
def _no_tracing():
    if distributed.get_world_size() > 1:
        _refuse_trace("DistributedDataParallel's broadcasts")
    yield


def _refuse_trace(what):
    """Collectives cannot be replayed by ``cr.compile`` (they talk to other processes)."""
    from .. import compiler

    if compiler._active() is not None:
        compiler._refuse(what, "call the compiled step without DistributedDataParallel, or "
                         "run it eagerly on several processes")
