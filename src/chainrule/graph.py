"""The computational graph's building blocks: global modes, ops and nodes.

A result of a recorded op keeps one :class:`Node`: the op, its inputs (Tensors or
constants), its output array, the op's non-tensor parameters (axis, shape, ...) and the
version of each input at the time the op ran (to detect later in-place changes).
"""

from __future__ import annotations

import itertools


class _Mode:
    """Process-wide switches, read on every op (kept as plain slots for speed)."""

    __slots__ = ("grad_enabled", "anomaly", "sites")

    def __init__(self):
        self.grad_enabled = True
        self.anomaly = False
        self.sites = None  # node -> where user code created it, only while detecting anomalies


mode = _Mode()


class Op:
    """A primitive: its NumPy forward and one vector-Jacobian product per input.

    ``forward(*input_arrays, *params) -> ndarray``. ``vjps[i](F, g, out, *inputs, *params)``
    returns the gradient for input ``i`` given the gradient ``g`` of the output. ``F`` is a
    namespace of functions (``F.exp``, ``F.sum``, ``F.reshape``, ...) that works on NumPy
    arrays for a plain backward and on Tensors (recorded) when ``create_graph=True``, so
    each formula is written once and differentiates again. ``variadic`` ops (concatenate,
    stack) take their inputs as one list and a single ``vjp(F, g, out, i, xs, *params)``.
    """

    __slots__ = ("name", "forward", "vjps", "variadic")

    def __init__(self, name, forward, vjps, variadic=False):
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.variadic = variadic

    def vjp(self, F, i, g, out, args, params):
        """Input ``i``'s gradient, given the output's gradient ``g`` (``args`` are the
        op's inputs). The engine's backward loop inlines this call for speed."""
        if self.variadic:
            return self.vjps[0](F, g, out, i, args, *params)
        return self.vjps[i](F, g, out, *args, *params)

    def __repr__(self):
        return f"<op {self.name}>"


_serial = itertools.count()


class Node:
    """How a tensor was made: ``op(*inputs, *params) -> out``. ``seq`` numbers nodes in
    creation order, which is a topological order: every input existed before its op ran."""

    __slots__ = ("op", "inputs", "out", "params", "versions", "retained", "seq", "__weakref__")

    def __init__(self, op, inputs, out, params, versions):
        self.seq = next(_serial)
        self.op = op
        self.inputs = inputs  # None once a backward without retain_graph has freed it
        self.out = out
        self.params = params
        self.versions = versions
        self.retained = None  # tensors that asked for .grad via retain_grad()

    @property
    def name(self):
        return self.op.name

    @property
    def freed(self):
        return self.inputs is None

    def __repr__(self):
        return f"<{self.op.name} node>"
