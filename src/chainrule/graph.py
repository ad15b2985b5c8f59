"""The computational graph's building blocks: per-thread modes, ops and nodes.

A result of a recorded op keeps one :class:`Node`: the op, its inputs (Tensors or
constants), its output array, the op's non-tensor parameters (axis, shape, ...) and the
version of each input at the time the op ran (to detect later in-place changes).
"""

from __future__ import annotations

import itertools
import threading


class _Defaults:
    """Process-wide: ``plain`` is true while every thread runs with the default modes (grad
    on, no anomaly detection, no trace). Ops read only this one slot then, and the
    per-thread ``mode`` only when some thread has a mode switched."""

    __slots__ = ("plain", "away", "lock")

    def __init__(self):
        self.plain, self.away, self.lock = True, 0, threading.Lock()

    def moved(self, delta):
        with self.lock:
            self.away += delta
            self.plain = self.away == 0


defaults = _Defaults()


def _switch(name, default):
    """A per-thread mode field that keeps ``defaults.plain`` up to date when it is set."""
    key = "_" + name

    def get(self):
        return getattr(self, key)

    def set(self, value):
        if default is not None:
            value = bool(value)
        delta = (value is not default) - (getattr(self, key) is not default)
        setattr(self, key, value)
        if delta:
            defaults.moved(delta)

    return property(get, set, doc=f"This thread's {name} (default {default!r}).")


class _Mode(threading.local):
    """Switches read by every op, one set per thread (as PyTorch's grad mode): a thread's
    ``no_grad`` never switches recording off in another. The defaults are class
    attributes, so a new thread starts with them without running any code; while no
    thread has switched one, ops do not read them at all (see ``defaults``)."""

    _grad_enabled, _anomaly = True, False
    grad_enabled = _switch("grad_enabled", True)
    anomaly = _switch("anomaly", False)
    sites = None  # node -> where user code created it, only while detecting anomalies


mode = _Mode()


class Op:
    """A primitive: its NumPy forward, one vector-Jacobian product per input, and the facts
    the rest of chainrule derives from it.

    ``forward(*input_arrays, *params) -> ndarray``. ``vjps[i](F, g, out, *inputs, *params)``
    returns the gradient for input ``i`` given the gradient ``g`` of the output. ``F`` is a
    namespace of functions (``F.exp``, ``F.sum``, ``F.reshape``, ...) that works on NumPy
    arrays for a plain backward and on Tensors (recorded) when ``create_graph=True``, so
    each formula is written once and differentiates again. ``variadic`` ops (concatenate,
    stack) take their inputs as one list and a single ``vjp(F, g, out, i, xs, *params)``.

    The facts: ``inputs`` and ``params`` name the tensor inputs and the other arguments
    (graph labels show ``axis=(0,)``); ``reads`` are the indices of the inputs whose
    *values* the VJPs read and ``reads_out`` whether they read the output (an in-place
    change of anything else after the op ran cannot make its gradients wrong, so only
    these are version-checked or kept); ``methods`` and ``exports`` are the names of its
    Tensor methods and of its ``cr.*`` functions (made from the table); ``ordered`` whether
    the inputs' order matters (drawn as numbered edges); ``inplace`` marks the variant that
    wrote its result into its first input.
    """

    __slots__ = ("name", "forward", "vjps", "variadic", "inputs", "params", "reads",
                 "reads_out", "methods", "exports", "ordered", "inplace", "_in_place", "generic")

    def __init__(self, name, forward, vjps, variadic=False, inputs=None, params=(),
                 reads=None, reads_out=True, methods=(), exports=(), ordered=True,
                 inplace=False):
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.variadic = variadic
        self.inputs = tuple(inputs) if inputs is not None else tuple(
            f"x{i}" for i in range(len(vjps)))
        self.params = tuple(params)
        self.reads = frozenset(range(len(self.inputs)) if reads is None else reads)
        self.reads_out = reads_out
        self.methods = tuple(methods)
        self.exports = tuple(exports)
        self.ordered = ordered
        self.inplace = inplace
        self._in_place = None
        self.generic = None  # the forward for other array libraries (see ops.defop)

    def vjp(self, F, i, g, out, args, params):
        """Input ``i``'s gradient, given the output's gradient ``g`` (``args`` are the
        op's inputs). The engine's backward loop inlines this call for speed."""
        if self.variadic:
            return self.vjps[0](F, g, out, i, args, *params)
        return self.vjps[i](F, g, out, *args, *params)

    def in_place(self):
        """The same op, recorded for a result written into its first input (``sub_``)."""
        if self._in_place is None:
            self._in_place = Op(
                self.name + "_", self.forward, self.vjps, self.variadic, self.inputs,
                self.params, self.reads, self.reads_out, (), (), self.ordered, True)
            self._in_place.generic = self.generic
        return self._in_place

    def __repr__(self):
        return f"<op {self.name}>"


_serial = itertools.count()


class Node:
    """How a tensor was made: ``op(*inputs, *params) -> out``. ``seq`` numbers nodes in
    creation order, which is a topological order: every input existed before its op ran."""

    __slots__ = ("op", "inputs", "out", "params", "versions", "retained", "seq", "kept",
                 "__weakref__")

    def __init__(self, op, inputs, out, params, versions):
        self.seq = next(_serial)
        self.op = op
        self.inputs = inputs  # a list: a backward that frees the node puts the structure in it
        self.out = out
        self.params = params
        self.versions = versions
        self.retained = None  # tensors that asked for .grad via retain_grad()
        # once freed by a backward: (output shape, output dtype), see autograd.free

    @property
    def name(self):
        return self.op.name

    @property
    def freed(self):
        """Whether a backward without ``retain_graph`` has dropped what this node saved."""
        return self.out is None

    def __repr__(self):
        return f"<{self.op.name} node>"
