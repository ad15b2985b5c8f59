"""``cr.compile``: trace one training step, then replay it without graph bookkeeping.

The first call of a compiled step runs it eagerly while ``mode.tracer`` records every
NumPy-level call it makes: the forward of each op; inside each VJP, the NumPy calls
themselves (the VJPs run on recording symbols, ``_Sym``, so ``g * (1 - out*out)`` is
recorded as three ``operator`` calls); gradient sums; and the optimizer's
``zero_grad``/``step`` (methods marked with :func:`chainrule.graph.effect`: replayed whole,
or as NumPy calls where the optimizer offers ``_replay_step``, as plain SGD does). The
record becomes one straight-line Python function (``v3 = f3(a0, v2)`` ...), so later calls
do the same NumPy work in the same order -- identical results -- without creating Tensors,
nodes, a topological order or dictionaries of gradients. Work on the backward's seed alone
is done once, at trace time; calls whose results nothing uses are left out; intermediates
are released right after their last use. (Preallocated ``out=`` buffers were measured and
left out: on these sizes they saved nothing measurable.)

A new shape or dtype of an input, a different non-tensor argument, or a parameter whose
array was replaced (``load_state_dict``) makes it trace again. Reading a tensor's values
while tracing (``loss.item()``, ``float(t)``, ``if t > 0:``, ``t.numpy()``) would freeze a
value of the first call into every later one, so it is refused with :class:`CompileError`.
"""

from __future__ import annotations

import builtins
import functools
import operator
from types import SimpleNamespace

import numpy as np

from . import ops as _ops
from .autograd import _accumulate, _own
from .errors import ChainruleError
from .graph import mode
from .tensor import Tensor, _iadd, _idiv, _imul, _isub, _setitem, _wrap

__all__ = ["compile", "CompileError", "CompiledStep"]

_ARRAYS = (np.ndarray, np.generic)
# calls always replayed, never folded or left out: changes in place, and the copies that
# cr.grad hands out (the caller may change them)
_IN_PLACE = {_iadd, _isub, _imul, _idiv, _setitem, _own}


def _clear_grad(t):
    t._grad = None


class CompileError(ChainruleError, RuntimeError):
    """A step that ``cr.compile`` cannot trace; the message says what and what to do."""


class _Tracer:
    """Collects the calls of one traced step as ``(target, fn, args, kwargs)`` entries."""

    def __init__(self):
        self.names = {}  # id(array) -> variable name in the generated code
        self.keep = []  # every array seen, alive until the trace ends, so ids stay unique
        self.entries = []
        self.leaves = {}  # id(leaf tensor) -> (tensor, its data array at trace time)
        self.static = set()  # ids of arrays equal on every call: backward seeds, and
        #                      what is computed from them alone (folded into constants)
        self.guards = []  # (dict, key, value): the replay is valid while dict[key] == value
        self.F = _namespace(self)

    def bind(self, arr, name):
        self.keep.append(arr)
        self.names[id(arr)] = name

    def sym(self, v):
        """``v`` with each array seen before replaced by its variable (ids are reused by
        ops that return an input as is, so this is resolved now, not at code generation)."""
        if isinstance(v, _ARRAYS):
            name = self.names.get(id(v))
            return v if name is None else _Var(name)
        if isinstance(v, (tuple, list)):
            return type(v)(self.sym(x) for x in v)
        return v

    def call(self, fn, args, out):
        """Record ``out = fn(*args)`` (already computed, eagerly)."""
        if fn not in _IN_PLACE and _all_static(args, self.static):
            self.keep.append(out)  # a constant of the replay, computed once, now
            self.static.add(id(out))
            return out
        name = f"v{len(self.entries)}"
        self.entries.append((name, fn, self.sym(args), None))
        self.bind(out, name)
        return out

    def do(self, fn, args, kwargs=None):
        """Record ``fn(*args, **kwargs)`` called for its side effect (the caller runs it)."""
        self.entries.append((None, fn, self.sym(args), kwargs and self.sym(kwargs)))

    def seed(self, arrays):
        """The backward's seeds (``ones`` for a scalar loss) are the same on every call."""
        for a in arrays:
            if isinstance(a, _ARRAYS) and id(a) not in self.names:
                self.keep.append(a)
                self.static.add(id(a))

    def effect(self, method, obj, args, kwargs):
        for a in list(args) + list(kwargs.values()):
            if callable(a):
                raise CompileError(
                    f"cr.compile: {type(obj).__name__}.{method.__name__} with a closure "
                    "cannot be traced; call the forward and backward in the step itself"
                )
        mode.tracer = None  # recorded whole (below): what it does inside is not traced
        try:
            result = method(obj, *args, **kwargs)
        finally:
            mode.tracer = self
        flat = getattr(obj, "_replay_" + method.__name__, None)
        calls = flat(*args, **kwargs) if flat is not None else None
        if calls is None:
            self.entries.append((None, functools.partial(method, obj, *args, **kwargs), (), None))
        else:  # the update as NumPy calls, valid while the guarded settings stay the same
            guards, calls = calls
            self.guards.extend(guards)
            for fn, fargs, fkwargs in calls:
                self.do(fn, fargs, fkwargs)
        return result

    def set_grad(self, t, value):
        """``t.grad = None`` in the step: replayed; assigning a tensor is refused."""
        if value is not None:
            raise CompileError(
                "cr.compile: assigning a tensor to .grad inside a compiled step cannot be "
                "traced; only `.grad = None` (or opt.zero_grad()) is replayed"
            )
        self.do(_clear_grad, (t,))

    def leaf(self, t, g, own):
        """Record ``backward`` adding ``g`` to ``t.grad``; returns whether to copy ``g``
        (always for an array the replay would share between calls: a constant)."""
        self.leaves[id(t)] = (t, t.data)
        own = own or id(g) not in self.names  # a constant: shared between calls
        self.do(_accumulate, (t, g, own))
        return own

    # ------------------------------------------------- the backward, as NumPy calls
    def apply(self, fn, args):
        """``fn(*args)`` on the arrays inside the symbols, recorded; the result a symbol."""
        raw = [a.a if isinstance(a, _Sym) else a for a in args]
        out = self.call(fn, raw, fn(*raw))
        return _Sym(self, out) if isinstance(out, _ARRAYS) else out

    def vjp(self, op, i, g, out, args, params):
        """Run input ``i``'s VJP of ``op`` on symbols, so that what is recorded is the NumPy
        calls inside it (flat code for the replay) rather than the VJP function."""
        wrap = self.wrap
        r = op.vjp(self.F, i, wrap(g), wrap(out), [wrap(a) for a in args], params)
        return r.a if isinstance(r, _Sym) else r

    def wrap(self, v):
        return _Sym(self, v) if isinstance(v, _ARRAYS) else v

    def sum_to(self, x, shape):
        return _sum_to_sym(self.F, _Sym(self, x), shape).a

    def refuse(self, what):
        raise CompileError(
            f"cr.compile: {what} reads a tensor's value while the step is traced; a compiled "
            "step replays the same operations every call, so Python decisions or numbers "
            "taken from tensor values would be frozen at their first value. Move it out of "
            "the compiled function (e.g. call .item() on the loss it returns), or use "
            "cr.where / cr.maximum instead of `if`"
        )


class _Sym:
    """An array inside a VJP while a step is traced: each operation on it runs on the array
    and is recorded as the NumPy call that eager mode makes (``a * b`` as ``operator.mul``,
    so NumPy's own operator paths, and the results, stay the same)."""

    __slots__ = ("tr", "a")
    __array_ufunc__ = None  # ndarray (op) _Sym defers to the reflected operator here

    def __init__(self, tr, a):
        self.tr = tr
        self.a = a

    shape = property(lambda self: self.a.shape)
    ndim = property(lambda self: self.a.ndim)
    dtype = property(lambda self: self.a.dtype)
    T = property(lambda self: self.tr.apply(_T, (self,)))

    def astype(self, dtype):
        return self.tr.apply(type(self.a).astype, (self, dtype))

    __hash__ = None


def _operator(fn, reflected=False):
    if reflected:
        return lambda self, other: self.tr.apply(fn, (other, self))
    return lambda self, *other: self.tr.apply(fn, (self, *other))


for _name in ("add", "sub", "mul", "truediv", "pow", "matmul"):
    _fn = getattr(operator, _name)
    setattr(_Sym, f"__{_name}__", _operator(_fn))
    setattr(_Sym, f"__r{_name}__", _operator(_fn, reflected=True))
for _name in ("neg", "gt", "ge", "lt", "le", "eq", "ne"):
    setattr(_Sym, f"__{_name}__", _operator(getattr(operator, _name)))

_T = operator.attrgetter("T")


def _method(name):
    return lambda x, *args: x.tr.apply(getattr(type(x.a), name), (x, *args))


def _sum_to_sym(F, x, shape):
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    return F.reshape(F.sum(x, axes, True), shape)


def _namespace(tr):
    """``F`` for VJPs while tracing: the NumPy calls of ``ops.NP``, made flat and recorded."""
    def rec(fn):
        return lambda *args: tr.apply(fn, args)

    ns = {name: rec(getattr(_ops.NP, name)) for name in vars(_ops.NP)}
    ns.update(
        sum=lambda x, axis, keepdims: tr.apply(np.add.reduce, (x, axis, None, None, keepdims)),
        reshape=_method("reshape"), transpose=_method("transpose"),
        swapaxes=_method("swapaxes"), getitem=rec(operator.getitem), where=rec(np.where),
        sum_to=lambda x, shape: _sum_to_sym(F, x, shape),
    )
    F = SimpleNamespace(**ns)
    return F


def _all_static(args, static):
    for a in args:
        if isinstance(a, _ARRAYS):
            if id(a) not in static:
                return False
        elif isinstance(a, (tuple, list)) and not _all_static(a, static):
            return False
    return True


class Live:
    """An argument read when the replay runs, not frozen at trace time: ``obj[key]``
    (an optimizer's learning rate, which a scheduler may change between calls) or
    ``obj.attr.attr`` (a parameter's ``.grad.data``, set by the replay itself)."""

    __slots__ = ("obj", "path", "item")

    def __init__(self, obj, path, item=False):
        self.obj, self.path, self.item = obj, path, item


class _Var:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class _Codegen:
    def __init__(self, tracer):
        self.tracer = tracer
        self.consts = {}
        self.ids = {}  # id(constant) -> its name: one name per object

    def expr(self, v):
        if isinstance(v, _Var):
            return v.name
        if isinstance(v, Live):
            obj = self.expr_const(v.obj)
            return f"{obj}[{v.path!r}]" if v.item else f"{obj}.{v.path}"
        if isinstance(v, tuple):
            return "(" + "".join(self.expr(x) + ", " for x in v) + ")"
        elif isinstance(v, list):
            return "[" + ", ".join(self.expr(x) for x in v) + "]"
        elif v is None or isinstance(v, (bool, int, str)):
            return repr(v)
        return self.expr_const(v)

    def expr_const(self, v):
        name = self.ids.get(id(v))
        if name is None:
            name = self.ids[id(v)] = f"c{len(self.consts)}"
            self.consts[name] = v
        return name


def _build(tracer, n_inputs, result):
    """The Python source of the replay function, compiled."""
    gen = _Codegen(tracer)
    ret = gen.expr(tracer.sym(result))
    returned = set(_names(ret))
    # dead-code elimination: a pure call whose result nothing later uses is left out
    live, kept = set(returned), []
    for target, fn, args, kwargs in reversed(tracer.entries):
        if target is not None and target not in live and fn not in _IN_PLACE:
            continue
        kept.append((target, fn, args, kwargs))
        live.update(_vars((args, kwargs)))
    lines = []
    for target, fn, args, kwargs in reversed(kept):
        parts = [gen.expr(a) for a in args]
        parts += [f"{k}={gen.expr(v)}" for k, v in (kwargs or {}).items()]
        lines.append((target, f"{gen.expr(fn)}({', '.join(parts)})"))
    # free each intermediate after its last use, as the eager engine does
    last = {}
    for k, (_, call) in enumerate(lines):
        for tok in _names(call):
            last[tok] = k
    body = [f"    if {gen.expr_const(d)}[{key!r}] != {gen.expr(v)}:\n        return _RETRACE"
            for d, key, v in tracer.guards]
    for k, (target, call) in enumerate(lines):
        body.append(f"    {target} = {call}" if target else f"    {call}")
        dead = [n for n, at in last.items() if at == k and n.startswith("v") and n not in returned]
        if target and target not in last and target not in returned:
            dead.append(target)
        if dead:
            body.append(f"    del {', '.join(sorted(set(dead)))}")
    params = ", ".join(f"a{i}" for i in range(n_inputs))
    src = f"def replay({params}):\n" + "\n".join(body) + f"\n    return {ret}\n"
    ns = dict(gen.consts, _RETRACE=_RETRACE)
    exec(builtins.compile(src, "<cr.compile>", "exec"), ns)  # noqa: S102 (our own generated source)
    return ns["replay"], src


_RETRACE = object()  # what a replay returns when a guarded setting changed


def _vars(v):
    if isinstance(v, _Var):
        yield v.name
    elif isinstance(v, (tuple, list)):
        for x in v:
            yield from _vars(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _vars(x)


def _names(code):
    out, cur = [], ""
    for ch in code + " ":
        if ch.isalnum() or ch == "_":
            cur += ch
        else:
            if cur[:1] in ("v", "a") and cur[1:].isdigit():
                out.append(cur)
            cur = ""
    return out


def _signature(args):
    key = []
    for a in args:
        if isinstance(a, Tensor):
            key.append(("T", a.data.shape, a.data.dtype.str))
        elif isinstance(a, np.ndarray):
            key.append(("A", a.shape, a.dtype.str))
        else:
            try:
                hash(a)
            except TypeError:
                raise CompileError(
                    f"cr.compile: argument of type {type(a).__name__} is not supported; pass "
                    "Tensors, NumPy arrays or hashable constants (numbers, strings, None)"
                ) from None
            key.append(("C", type(a).__name__, a))
    return tuple(key)


def _result_shape(out, names, static=frozenset()):
    """How to rebuild the step's return value from the replay's arrays."""
    if out is None:
        return None, None
    if isinstance(out, Tensor):
        if id(out.data) in static:  # computed once, at trace time: a new copy per call
            return "copy", out.data.copy()
        if id(out.data) not in names:
            return "const", out.data
        return "tensor", out.data
    if isinstance(out, (tuple, list)):
        parts = [_result_shape(o, names, static) for o in out]
        return type(out), parts
    raise CompileError(
        f"cr.compile: the step returned a {type(out).__name__}; return None, a Tensor (the "
        "loss) or a tuple of Tensors"
    )


class CompiledStep:
    """A traced training step; call it like the original function."""

    def __init__(self, fn):
        self.fn = fn
        self.cache = {}
        self.traces = 0
        functools.update_wrapper(self, fn)

    def __call__(self, *args):
        key = _signature(args)
        entry = self.cache.get(key)
        if entry is not None:
            replay, leaves, shape = entry
            for t, arr in leaves:
                if t.data is not arr:
                    break
            else:
                values = replay(*[a.data if isinstance(a, Tensor) else a
                                  for a in args if not _is_const(a)])
                if values is not _RETRACE:
                    return _rebuild(shape, values)
        return self._trace(key, args)

    def _trace(self, key, args):
        if mode.tracer is not None:
            raise CompileError("cr.compile: a compiled step cannot run inside another trace")
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and a.requires_grad:
                raise CompileError(
                    f"cr.compile: argument {i} requires grad; pass the data (inputs and "
                    "targets) as arguments and keep the parameters in the model"
                )
        tracer = _Tracer()
        k = 0
        for a in args:
            if not _is_const(a):
                tracer.bind(a.data if isinstance(a, Tensor) else a, f"a{k}")
                k += 1
        mode.tracer = tracer
        try:
            out = self.fn(*args)
        finally:
            mode.tracer = None
        kind, parts = _result_shape(out, tracer.names, tracer.static)
        arrays = []
        shape = _flatten((kind, parts), arrays)
        replay, self.source = _build(tracer, k, tuple(arrays))
        leaves = [pair for pair in tracer.leaves.values()]
        self.cache[key] = (replay, leaves, shape)
        self.traces += 1
        return out


def _is_const(a):
    return not isinstance(a, (Tensor, np.ndarray))


def _flatten(node, arrays):
    kind, parts = node
    if kind == "tensor":
        arrays.append(parts)
        return ("tensor", len(arrays) - 1)
    if kind in (tuple, list):
        return (kind, [_flatten(p, arrays) for p in parts])
    return node


def _rebuild(shape, values):
    kind, parts = shape
    if kind == "tensor":
        return _wrap(values[parts], None)
    if kind == "const":
        return _wrap(parts, None)
    if kind == "copy":
        return _wrap(parts.copy(), None)
    if kind in (tuple, list):
        return kind(_rebuild(p, values) for p in parts)
    return None


def compile(fn):  # noqa: A001 (cr.compile, like torch.compile)
    """Trace ``fn`` (a training step) on its first call and replay it on later calls.

    Parameters
    ----------
    fn : callable
        Takes Tensors or arrays (a batch) and constants; runs forward, backward and
        ``opt.step()`` on a model it closes over; returns None, the loss, or a tuple of
        Tensors.

    Returns
    -------
    CompiledStep
        Call it like ``fn``. The first call per input signature (shapes, dtypes,
        constants) runs ``fn`` eagerly and records it; later calls replay the NumPy calls
        only and give identical results. Returned tensors are detached.

    Raises
    ------
    CompileError
        When ``fn`` reads tensor values while traced (``.item()``, ``float(t)``, ``if t:``,
        ``.numpy()``), uses ``create_graph=True``, or returns something other than
        Tensors.

    Notes
    -----
    Parameters must keep their arrays (optimizers update them in place); replacing one
    (``load_state_dict``) triggers a new trace. Values computed from the inputs with plain
    NumPy inside ``fn``, and learning-rate schedules stepped inside it, are frozen at the
    first call: keep such work outside the compiled function.

    Examples
    --------
    >>> net = cr.nn.Linear(1, 1, generator=np.random.default_rng(0))
    >>> opt = cr.optim.SGD(net.parameters(), lr=0.1)
    >>> def train_step(x, t):
    ...     opt.zero_grad()
    ...     loss = cr.nn.functional.mse_loss(net(x), t)
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> step = cr.compile(train_step)
    >>> x, t = cr.ones(8, 1), cr.zeros(8, 1)
    >>> losses = [step(x, t).item() for _ in range(3)]    # traced once, then replayed
    >>> losses[0] > losses[1] > losses[2]
    True
    """
    if not callable(fn):
        raise TypeError(f"cr.compile: expected a function, got {type(fn).__name__}")
    return CompiledStep(fn)
