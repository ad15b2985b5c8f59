"""``cr.compile``: trace one training step on array stand-ins, then replay it as flat NumPy.

How a step is traced
--------------------
While a step is traced, every array derived from the step's arguments or from state that
lives across calls is a :class:`Traced` stand-in: an object that holds the concrete array
(computed eagerly, so the first call *is* the eager call) and a variable of the trace.
NumPy hands every function and ufunc applied to a stand-in to it (``__array_ufunc__``,
``__array_function__``), and its ndarray methods and operators are routed the same way,
so each call is recorded as ``(fn, symbolic args, kwargs)``; in-place calls (``out=``,
``a[i] = v``, ``+=``, ``ufunc.at``) are recorded as in place on the stand-in's variable.
The engine, ``nn`` and ``optim`` run unchanged on stand-ins: forward ops, each VJP through
``ops.NP``, gradient sums, ``.grad`` accumulation, optimizer updates, clipping and
schedulers. Python numbers that live in optimizer and scheduler state (``lr``, step
counts) become :class:`TracedScalar` stand-ins, so ``lr / (1 - beta1**t)`` is recorded
too and read live at replay.

State
-----
At trace start the state reachable from the step is discovered (closure cells, the globals
its code and the code of the user functions it reaches name, bound ``self``, defaults;
walking Modules, Optimizers, schedulers, dicts, lists and objects' ``__dict__``). Each
array slot gets a stand-in whose replay source is "read this slot now"; at trace end every
slot is compared with what it held: a slot rebound during the trace becomes a write-back
at replay (``p._grad = Tensor(v12)``), and the concrete results go into the slots. Every
slot is guarded (kind, shape, dtype, strides of arrays; identity of objects; values of
plain Python settings; lengths of lists and dicts): when a guard fails, the step is traced
again. A state change the trace cannot express (a new object put into state) makes that
trace one-shot: it ran eagerly, and it is not kept.

What is refused
---------------
Reading a traced value in user code (``float(t)``, ``t.item()``, ``if t > 0:``,
``np.asarray(t)``, ``t.tolist()``) raises :class:`CompileError` naming the line: the
replay would freeze it. A Python decision taken inside chainrule on a traced value (input
checks) becomes a guard re-evaluated at replay instead. Boolean-mask indexing (a shape that
depends on values), ``create_graph=True``, in-place writes into arrays the trace does not
own, and changes to plain NumPy constants after the trace used them are refused too. So are
arrays on another device or of another library (a GPU's): the replay is NumPy calls, so an
argument, a piece of state or a move inside the step off NumPy is named and refused before
anything runs, never converted.

Replay
------
The record becomes one straight-line Python function: guards and slot reads, then
``v3 = f3(a0, v2)`` ..., then write-backs. Calls whose results nothing uses are left out,
work on trace constants alone (the backward's seed) is folded when nothing mutates or
keeps it, and intermediates are released after their last use.
"""

from __future__ import annotations

import builtins
import collections
import functools
import inspect
import math
import operator
import os
import re
import sys
import threading
import types
import warnings

import numpy as np

from . import backend as _backend
from .autograd import _user_site as _site
from .autograd import is_grad_enabled
from .errors import ChainruleError
from .tensor import StandIn, Tensor, _wrap

__all__ = ["compile", "CompileError", "CompileWarning", "CompiledStep", "Traced",
           "TracedScalar", "create"]

_local = threading.local()  # .trace: the _Trace being recorded on this thread
_PKG_DIR = os.path.dirname(os.path.abspath(__file__))
_HERE = os.path.abspath(__file__)
_ARRAYS = (np.ndarray, np.generic)


class CompileError(ChainruleError, RuntimeError):
    """A step that ``cr.compile`` cannot trace; the message says what and what to do."""


class CompileWarning(RuntimeWarning):
    """A compiled step keeps tracing again (its guards keep failing)."""


def _from_library():
    """Whether the frame that reads a value (the first outside this file) is chainrule's."""
    f = sys._getframe(1)
    while f is not None and os.path.abspath(f.f_code.co_filename) == _HERE:
        f = f.f_back
    return f is not None and os.path.abspath(f.f_code.co_filename).startswith(_PKG_DIR)


_NUMPY_ONLY = (
    "a compiled step replays NumPy calls, so it runs on NumPy arrays only (chainrule never "
    "copies between devices silently). Run the step without cr.compile to train on the "
    "device, or move the data and the model to the CPU first (x.cpu(), model.to('cpu'))"
)


def _on_device(x):
    """Whether ``x`` is an array of another library or device than NumPy's (a GPU's)."""
    if not _backend._is_array(x):
        return False
    try:
        return _backend.of(x) is not None
    except (TypeError, ImportError):  # array-like, but no array library here knows it
        return False


def _refuse(what, instead):
    raise CompileError(f"cr.compile: {what} at {_site()}; {instead}")


_READ_HINT = (
    "a compiled step replays the same operations on every call, so a Python number or "
    "decision taken from a traced value would be frozen at its first value. Return the "
    "tensor from the step and read it outside (e.g. loss.item() on the returned loss), or "
    "compute with cr.where / cr.maximum / cr.clip instead of `if`"
)


# ---------------------------------------------------------------------- the record
class _Var:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


# entry kinds: "call" (pure), "inplace" (changes its `mutated` vars), "create" (a fresh
# array: factories, RNG draws), "guard" (replay checks a value), "read" (a slot, at start)
class _Entry:
    __slots__ = ("kind", "target", "fn", "args", "kwargs", "mutated", "foldable", "code")

    def __init__(self, kind, target, fn, args, kwargs, mutated=(), foldable=False, code=None):
        self.kind = kind
        self.target = target
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.mutated = mutated
        self.foldable = foldable
        self.code = code


# factories whose result depends only on their arguments' shapes and dtypes (foldable)
_CONST_FACTORIES = {np.zeros, np.ones, np.full, np.eye, np.arange, np.linspace,
                    np.zeros_like, np.ones_like, np.full_like, np.identity}
# NumPy functions that answer from shapes and dtypes only (guarded): not recorded
_METADATA = {np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj}


class _Trace:
    """The record of one traced call."""

    def __init__(self):
        self.entries = []
        self.n = 0
        self.values = {}  # var name -> concrete value at creation
        self.consts = {}  # id -> plain ndarray used as a constant (identity)
        self.snaps = []  # (array, bytes at first use): refused if changed during the trace
        self.done = False
        self.group = {}  # var name -> alias group id (a view may share memory)
        self.grad_writes = {}  # id -> Tensor whose .grad the step set (see _GradWatch)
        self.fresh = set()  # vars made inside the step (not state, not arguments)

    def new_var(self, value, group=None, fresh=True):
        name = f"v{self.n}"
        self.n += 1
        self.values[name] = value
        self.group[name] = name if group is None else group
        if fresh:
            self.fresh.add(name)
        return _Var(name)

    # ---- arguments to symbols and to concrete values
    def sym(self, v):
        if isinstance(v, StandIn):
            if v.trace is not self:
                raise CompileError("cr.compile: a traced value from another call reached "
                                   "this trace; do not keep traced values across calls")
            return v._var
        if isinstance(v, _TracedRNG):
            return v._gen
        t = type(v)
        if t is tuple or t is list:
            return t(self.sym(x) for x in v)
        if t is dict:
            return {k: self.sym(x) for k, x in v.items()}
        if isinstance(v, np.ndarray):
            if id(v) not in self.consts:
                self.consts[id(v)] = v
                self.snaps.append((v, v.tobytes()))
        elif isinstance(v, Tensor):
            _refuse("a Tensor was passed to a NumPy function together with a traced array",
                    "use the Tensor's operations, or its .data")
        return v

    @staticmethod
    def concrete(v):
        if isinstance(v, StandIn):
            return v.value
        if isinstance(v, _TracedRNG):
            return v._gen
        t = type(v)
        if t is tuple or t is list:
            return t(_Trace.concrete(x) for x in v)
        if t is dict:
            return {k: _Trace.concrete(x) for k, x in v.items()}
        return v

    # ---- recording
    def _group_of(self, args):
        """The alias group a result may share memory with: its array arguments' (merged)."""
        groups = []
        for a in _flat(args):
            if isinstance(a, _Var):
                g = self._find(a.name)
                if g not in groups:
                    groups.append(g)
        if not groups:
            return None
        root = groups[0]
        for g in groups[1:]:
            self.group[g] = root
        return root

    def _find(self, name):
        g = self.group[name]
        while g != name:
            name, g = g, self.group[g]
        return g

    def call(self, fn, args, kwargs, *, pure_new=False, kind="call", foldable=None):
        """Run ``fn`` on the concrete values and record it; results become stand-ins."""
        cargs = self.concrete(args)
        ckw = self.concrete(kwargs) if kwargs else {}
        sargs = self.sym(args)
        skw = self.sym(kwargs) if kwargs else None
        out = ckw.get("out") if ckw else None
        value = fn(*cargs, **ckw)
        if out is not None:
            outs = kwargs["out"] if isinstance(kwargs["out"], tuple) else (kwargs["out"],)
            for o in outs:
                if not isinstance(o, Traced):
                    _refuse("an in-place write (out=) into an array the trace does not own",
                            "write into an array made from the step's tensors or state "
                            "(e.g. with np.empty_like), or compute a new array")
            self.entries.append(_Entry("inplace", None, fn, sargs, skw,
                                       mutated=[o._var.name for o in outs]))
            if isinstance(value, tuple):
                return outs
            return outs[0]
        if isinstance(value, tuple) and value and all(isinstance(x, _ARRAYS) for x in value):
            whole = self.new_var(value, self._group_of(sargs))
            self.entries.append(_Entry(kind, whole.name, fn, sargs, skw))
            parts = []
            for i, x in enumerate(value):
                v = self.new_var(x, self.group[whole.name])
                self.entries.append(_Entry("call", v.name, operator.getitem, (whole, i), None))
                parts.append(Traced(self, x, v))
            return tuple(parts)
        if not isinstance(value, _ARRAYS):
            if value is None:
                self.entries.append(_Entry(kind, None, fn, sargs, skw))
                return None
            _refuse(f"{getattr(fn, '__name__', fn)} of a traced array gives a Python value",
                    _READ_HINT)
        group = None if pure_new else self._group_of(sargs)
        var = self.new_var(value, group)
        if foldable is None:
            foldable = kind == "call"
        self.entries.append(_Entry(kind, var.name, fn, sargs, skw, foldable=foldable))
        return Traced(self, value, var)

    def mutate(self, fn, target, args):
        """``fn(target, *args)`` changes ``target`` (a stand-in) in place."""
        fn(*self.concrete((target,) + tuple(args)))
        self.entries.append(_Entry("inplace", None, fn, self.sym((target,) + tuple(args)),
                                   None, mutated=[target._var.name]))

    def scalar(self, fn, args):
        """A Python-number operation on scalar stand-ins: recorded, the result a stand-in."""
        value = fn(*self.concrete(args))
        var = self.new_var(value)
        self.entries.append(_Entry("call", var.name, fn, self.sym(args), None, foldable=False))
        return TracedScalar(self, value, var)

    def create(self, fn, args, kwargs, random=False):
        value = fn(*self.concrete(args), **(self.concrete(kwargs) if kwargs else {}))
        var = self.new_var(value)
        foldable = not random and fn in _CONST_FACTORIES
        self.entries.append(_Entry("create", var.name, fn, self.sym(args),
                                   self.sym(kwargs) if kwargs else None, foldable=foldable))
        return Traced(self, value, var)

    def guard(self, standin, conv, value):
        """A decision taken inside chainrule on a traced value: re-checked at replay."""
        self.entries.append(_Entry("guard", None, conv, (standin._var,), None, code=value))
        return value

    def read(self, value, code, scalar=False):
        """A stand-in for a slot of live state: read ``code`` when the replay starts."""
        var = self.new_var(value, fresh=False)
        self.entries.append(_Entry("read", var.name, None, (), None, code=code))
        return TracedScalar(self, value, var) if scalar else Traced(self, value, var)

    def argument(self, value, code):
        var = self.new_var(value, fresh=False)
        self.entries.append(_Entry("read", var.name, None, (), None, code=code))
        return Traced(self, value, var)

    def check_constants(self):
        for arr, snap in self.snaps:
            if arr.tobytes() != snap:
                raise CompileError(
                    "cr.compile: a NumPy array used as a constant by the traced step was "
                    f"changed in place during the trace (shape {arr.shape}); a replay would "
                    "use its final values from the start. Make it with cr.zeros/cr.tensor "
                    "(traced) or change a copy"
                )


def _flat(v):
    if isinstance(v, (tuple, list)):
        for x in v:
            yield from _flat(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from _flat(x)
    else:
        yield v


def _active():
    return getattr(_local, "trace", None)


def create(fn, *args, random=False, **kwargs):
    """Make a new array with ``fn(*args, **kwargs)`` (a NumPy factory or an RNG draw).

    The one creation seam of ``chainrule.creation``: while a step is traced, the call is
    recorded and made afresh at every replay (``random=True``: never folded, so a
    generator advances as in eager mode)."""
    tr = getattr(_local, "trace", None)
    if tr is None:
        return fn(*args, **kwargs)
    return tr.create(fn, args, kwargs, random=random)


# --------------------------------------------------------------------- stand-ins
def _defer(other):
    """Whether a binary operator should let ``other`` answer (a Tensor, or anything that
    opts out of NumPy's ufuncs)."""
    return getattr(type(other), "__array_ufunc__", True) is None


def _ufunc_dispatch(self, ufunc, method, *inputs, **kwargs):
    tr = self.trace
    for x in inputs + tuple(kwargs.get("out", ()) or ()):
        if isinstance(x, Tensor):
            return NotImplemented
    if tr.done:
        return getattr(ufunc, method)(*_Trace.concrete(inputs), **_Trace.concrete(kwargs))
    fn = ufunc if method == "__call__" else getattr(ufunc, method)
    if method == "at":
        target = inputs[0]
        if not isinstance(target, Traced):
            _refuse(f"np.{ufunc.__name__}.at into an array the trace does not own",
                    "apply it to an array made from the step's tensors or state")
        tr.mutate(fn, target, inputs[1:])
        return None
    if method == "reduce" and set(kwargs) <= {"axis", "dtype", "keepdims", "out"} and \
            kwargs.get("out") in (None, (None,)):
        # positionally, as the ops call it: np.add.reduce(x, axis, dtype, None, keepdims)
        return tr.call(fn, (inputs[0], kwargs.get("axis", 0), kwargs.get("dtype"), None,
                            kwargs.get("keepdims", False)), None, pure_new=True)
    if "out" in kwargs and kwargs["out"] is not None:
        out = kwargs["out"]
        if isinstance(out, tuple) and all(o is None for o in out):
            kwargs = {k: v for k, v in kwargs.items() if k != "out"}
            return tr.call(fn, inputs, kwargs, pure_new=method in ("__call__", "reduce"))
        return tr.call(fn, inputs, kwargs)
    return tr.call(fn, inputs, kwargs, pure_new=method in ("__call__", "reduce", "accumulate",
                                                           "reduceat", "outer"))


def _function_dispatch(self, func, types_, args, kwargs):
    tr = self.trace
    if tr.done:
        return func(*_Trace.concrete(args), **_Trace.concrete(kwargs))
    if func in _METADATA:
        return func(*_Trace.concrete(args), **_Trace.concrete(kwargs))
    for x in _flat((args, kwargs)):
        if isinstance(x, Tensor):
            return NotImplemented
    if func in _CONST_FACTORIES or func is np.empty_like:
        return tr.create(func, args, kwargs)
    if func is np.copyto:
        dst = args[0] if args else kwargs["dst"]
        if not isinstance(dst, Traced):
            _refuse("np.copyto into an array the trace does not own",
                    "copy into an array made from the step's tensors or state")
        tr.mutate(func, dst, args[1:])
        return None
    if func in (np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis):
        if not isinstance(args[0], Traced):
            _refuse(f"np.{func.__name__} into an array the trace does not own",
                    "apply it to an array made from the step's tensors or state")
        tr.mutate(func, args[0], args[1:])
        return None
    if func in (np.nonzero, np.flatnonzero, np.argwhere, np.unique, np.extract,
                np.compress, np.trim_zeros):
        _refuse(f"np.{func.__name__} of a traced array (its shape depends on the values)",
                "keep shapes fixed: use cr.where with a mask instead")
    return tr.call(func, args, kwargs)


class Traced(StandIn):
    """An array while a step is traced: the concrete value and the trace's variable.

    NumPy calls on it are recorded (see the module docstring); reading its values in user
    code is refused."""

    __slots__ = ("trace", "value", "_var")
    __array_priority__ = 100

    def __init__(self, trace, value, var):
        self.trace = trace
        self.value = value
        self._var = var

    __array_ufunc__ = _ufunc_dispatch
    __array_function__ = _function_dispatch

    # ---- metadata (shapes and dtypes are guarded, so they are fixed for a trace)
    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    itemsize = property(lambda self: self.value.itemsize)
    nbytes = property(lambda self: self.value.nbytes)
    strides = property(lambda self: self.value.strides)
    flags = property(lambda self: self.value.flags)

    @property
    def base(self):
        # only whether there is one: the engine asks it to decide on copies
        return None if getattr(self.value, "base", None) is None else _SOME_BASE

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        for i in range(len(self.value)):
            yield self[i]

    def __repr__(self):
        return f"<traced {self.dtype} array of shape {self.shape} ({self._var.name})>"

    __str__ = __repr__
    __hash__ = None

    # ---- conversion (the one seam ``as_array`` uses)
    def asarray(self, dtype=None, copy=False):
        """``np.array(self, dtype, copy=copy)`` / ``np.asarray(self, dtype)``, recorded."""
        if copy:
            return self.trace.call(_copy_array, (self, dtype), None)
        if dtype is None and type(self.value) is np.ndarray:
            return self
        return self.trace.call(_as_array, (self, dtype), None)

    # ---- reads
    def _read(self, what, conv):
        tr = self.trace
        if tr.done:
            return conv(self.value)
        if _from_library():
            return tr.guard(self, conv, conv(self.value))
        _refuse(f"{what} reads a traced value", _READ_HINT)

    def refuse(self, what):
        _refuse(f"{what} reads a traced value", _READ_HINT)

    def __bool__(self):
        return self._read("bool() (an `if`, `while`, `and` or `or` on a traced value)", bool)

    def __float__(self):
        return self._read("float()", float)

    def __int__(self):
        return self._read("int()", int)

    def __index__(self):
        return self._read("using a traced value as an index or a count", operator.index)

    def __complex__(self):
        return self._read("complex()", complex)

    def item(self, *args):
        return self._read(".item()", lambda v: v.item(*args))

    def tolist(self):
        return self._read(".tolist()", lambda v: v.tolist())

    def __array__(self, dtype=None, copy=None):
        if self.trace.done:
            return np.asarray(self.value, dtype=dtype)
        _refuse("converting a traced value to a NumPy array (np.asarray, np.array, or "
                "assigning it into a plain array)", _READ_HINT)

    def __format__(self, spec):
        return self._read("formatting a traced value", lambda v: format(v, spec))

    def __getattr__(self, name):
        fn = getattr(np.ndarray, name, None)
        if fn is None or name.startswith("__"):
            raise AttributeError(f"'Traced' array stand-in has no attribute {name!r}")
        raise CompileError(
            f"cr.compile: ndarray.{name} is not supported on a traced value (at {_site()}); "
            "use the NumPy function or chainrule op instead"
        )

    # ---- indexing
    def __getitem__(self, index):
        _check_index(index)
        return self.trace.call(operator.getitem, (self, index), None)

    def __setitem__(self, index, value):
        _check_index(index, setting=True)
        if self.trace.done:
            self.value[index] = _Trace.concrete(value)
            return
        self.trace.mutate(operator.setitem, self, (index, value))

    def fill(self, value):
        self.trace.mutate(_fill, self, (value,))

    @property
    def T(self):
        return self.trace.call(_T, (self,), None)

    @property
    def mT(self):
        return self.trace.call(_mT, (self,), None)

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()


_SOME_BASE = object()
_T = operator.attrgetter("T")
_mT = operator.attrgetter("mT")


def _copy_array(x, dtype):
    return np.array(x, dtype=dtype, copy=True)


def _as_array(x, dtype):
    return np.asarray(x, dtype=dtype)


def _fill(a, value):
    a.fill(value)


def _check_index(index, setting=False):
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if isinstance(p, Traced) and p.dtype == np.bool_ and not setting:
            if _from_library():  # chainrule's own (error messages): the count is guarded
                p.trace.guard(p, np.count_nonzero, np.count_nonzero(p.value))
                continue
            _refuse("indexing with a traced boolean mask (the result's shape depends on "
                    "the values)", "keep shapes fixed: use cr.where(mask, x, 0) instead")


_REDUCE_METHODS = {"min": np.minimum.reduce, "max": np.maximum.reduce}


def _method(name):
    def method(self, *args, **kwargs):
        fn = getattr(type(self.value), name)
        if name in _REDUCE_METHODS and not args and not kwargs and not self.trace.done \
                and type(self.value) is np.ndarray:
            # x.min() is np.minimum.reduce(x, None) behind a layer of Python: record that
            return self.trace.call(_REDUCE_METHODS[name], (self, None), None, pure_new=True)
        if self.trace.done:
            return fn(self.value, *_Trace.concrete(args), **_Trace.concrete(kwargs))
        return self.trace.call(fn, (self,) + args, kwargs or None,
                               pure_new=name in _NEW_ARRAY_METHODS)
    method.__name__ = name
    return method


_NEW_ARRAY_METHODS = {"copy", "sum", "mean", "max", "min", "prod", "std", "var", "argmax",
                      "argmin", "cumsum", "cumprod", "round", "all", "any", "dot", "clip",
                      "astype", "flatten", "nonzero", "conj", "repeat", "take",
                      "sort", "argsort"}
for _name in sorted(_NEW_ARRAY_METHODS | {"reshape", "transpose", "swapaxes", "ravel",
                                            "squeeze", "view", "diagonal", "conjugate"}):
    if _name in ("nonzero",):
        continue
    setattr(Traced, _name, _method(_name))


def _binop(ufunc, reflected=False):
    if reflected:
        def op(self, other):
            if _defer(other):
                return NotImplemented
            return ufunc(other, self)
    else:
        def op(self, other):
            if _defer(other):
                return NotImplemented
            return ufunc(self, other)
    return op


def _iop(ufunc):
    def op(self, other):
        if _defer(other):
            return NotImplemented
        ufunc(self, other, out=(self,))
        return self
    return op


for _name, _uf in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                   ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                   ("mod", np.remainder), ("pow", np.power), ("matmul", np.matmul),
                   ("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor),
                   ("lshift", np.left_shift), ("rshift", np.right_shift)):
    setattr(Traced, f"__{_name}__", _binop(_uf))
    setattr(Traced, f"__r{_name}__", _binop(_uf, reflected=True))
    setattr(Traced, f"__i{_name}__", _iop(_uf))
for _name, _uf in (("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                   ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)):
    setattr(Traced, f"__{_name}__", _binop(_uf))
for _name, _uf in (("neg", np.negative), ("pos", np.positive), ("abs", np.absolute),
                   ("invert", np.invert)):
    setattr(Traced, f"__{_name}__", lambda self, _uf=_uf: _uf(self))


class TracedScalar(StandIn):
    """A Python number of live state (``group["lr"]``, ``state["step"]``) while a step is
    traced: arithmetic on it is recorded and read live at replay; a decision on it or a
    conversion to ``float``/``int`` becomes a guard (the step is traced again when it
    changes)."""

    __slots__ = ("trace", "value", "_var")

    def __init__(self, trace, value, var):
        self.trace = trace
        self.value = value
        self._var = var

    __array_ufunc__ = _ufunc_dispatch
    __hash__ = None

    def _guarded(self, conv):
        if self.trace.done:
            return conv(self.value)
        return self.trace.guard(self, conv, conv(self.value))

    def __bool__(self):
        return self._guarded(bool)

    def __float__(self):
        return self._guarded(float)

    def __int__(self):
        return self._guarded(int)

    def __index__(self):
        return self._guarded(operator.index)

    def __round__(self, n=None):
        return self._guarded(lambda v: round(v, n))

    def __format__(self, spec):
        return format(self._guarded(lambda v: v), spec)

    def __repr__(self):
        return f"<traced number {self.value!r} ({self._var.name})>"

    def asarray(self, dtype=None, copy=False):
        return self.trace.call(_copy_array if copy else _as_array, (self, dtype), None,
                               pure_new=True)

    def _op(self, fn, args):
        if self.trace.done:
            return fn(*_Trace.concrete(args))
        return self.trace.scalar(fn, args)


def _sbinop(fn, reflected=False):
    def op(self, other):
        if not (isinstance(other, (int, float, complex, TracedScalar))):
            return NotImplemented
        return self._op(fn, (other, self) if reflected else (self, other))
    return op


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    _fn = getattr(operator, _name)
    setattr(TracedScalar, f"__{_name}__", _sbinop(_fn))
    setattr(TracedScalar, f"__r{_name}__", _sbinop(_fn, reflected=True))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(TracedScalar, f"__{_name}__", _sbinop(getattr(operator, _name)))
def _sunary(fn):
    return lambda self: self._op(fn, (self,))


for _name in ("neg", "pos", "abs"):
    setattr(TracedScalar, f"__{_name}__", _sunary(getattr(operator, _name)))


class _TracedRNG:
    """A ``np.random.Generator`` of live state while traced: each draw is recorded as a
    creation on the real generator, so the replay draws (and advances it) as eager does."""

    __slots__ = ("_gen", "_trace")

    def __init__(self, gen, trace):
        self._gen = gen
        self._trace = trace

    def __getattr__(self, name):
        attr = getattr(self._gen, name)
        if not callable(attr) or name.startswith("_"):
            return attr
        tr = self._trace

        def draw(*args, **kwargs):
            return tr.create(attr, args, kwargs, random=True)
        return draw


# ------------------------------------------------------------------- state discovery
_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None), np.generic, np.dtype,
              slice, range, type(Ellipsis))
_LIBRARY_PREFIXES = ("chainrule", "numpy", "builtins", "math", "functools", "itertools",
                     "collections", "operator", "typing", "abc", "_")
_MAX_OBJECTS = 5000


def _is_library_module(mod):
    name = mod.__name__.split(".")[0]
    file = getattr(mod, "__file__", None) or ""
    return name in _LIBRARY_PREFIXES or name in sys.stdlib_module_names or \
        "site-packages" in file or not file


def _is_library(obj):
    mod = getattr(obj, "__module__", None) or ""
    return mod.split(".")[0] in _LIBRARY_PREFIXES or mod == ""


class _Slot:
    """One place that holds a value across calls: ``holder.key`` / ``holder[key]`` /
    ``cell.cell_contents``; ``holder`` is a node of the discovery."""

    __slots__ = ("holder", "kind", "key", "value", "policy", "standin", "node", "index")

    def __init__(self, holder, kind, key, value):
        self.holder = holder
        self.kind = kind
        self.key = key
        self.value = value
        self.policy = None
        self.standin = None
        self.node = None
        self.index = 0

    def get(self):
        obj = self.holder.obj
        if self.kind == "attr":
            return getattr(obj, self.key)
        if self.kind == "item":
            return obj[self.key]
        return obj.cell_contents

    def set(self, value):
        obj = self.holder.obj
        if self.kind == "attr":
            object.__setattr__(obj, self.key, value)
        elif self.kind == "item":
            obj[self.key] = value
        else:
            obj.cell_contents = value


class _Node:
    """An object reached from the step: an anchor (a constant of the replay, its identity
    guarded where it is held) or a transient (a ``.grad`` Tensor, re-read at every call)."""

    __slots__ = ("obj", "via", "name", "length")

    def __init__(self, obj, via=None):
        self.obj = obj
        self.via = via  # the slot it is read from (transients); None: a constant
        self.name = None
        self.length = None


class _State:
    def __init__(self, trace, exclude):
        self.trace = trace
        self.nodes = {}
        self.slots = []
        self.exclude = exclude  # ids of argument objects
        self.tensors = []  # (node, _version at start)
        self.count = 0
        self.modules = []  # user modules named by the code (``mylib.model``)
        self.names = set()  # every name the walked code uses
        self.parents = {}  # id(object) -> the slot it was first reached from (for messages)
        self.roots = {}  # id(root holder) -> how to name it: a label, or "" (keys are names)

    def node(self, obj, via=None):
        n = self.nodes.get(id(obj))
        if n is None:
            n = self.nodes[id(obj)] = _Node(obj, via)
        return n

    def walk_root(self, fn, constants=()):
        self.walk_callable(fn, 0)
        for c in constants:  # objects passed as arguments (a model, say): state too
            self.walk_value(c, 1, live=False)
        done = 0
        while done < len(self.modules):
            mod = self.modules[done]
            done += 1
            node = self.node(mod)
            d = vars(mod)
            for name in sorted(self.names & set(d)):
                self.slot(node, "attr", name, d[name], 1, False)

    def budget(self):
        self.count += 1
        if self.count > _MAX_OBJECTS:
            raise CompileError(
                f"cr.compile: more than {_MAX_OBJECTS} objects are reachable from the step "
                "(closures, globals, their attributes); pass large data as arguments, not "
                "through globals or closures"
            )

    def walk_callable(self, fn, depth):
        if isinstance(fn, types.MethodType):
            self.roots.setdefault(id(fn.__self__), "self")
            self.walk_value(fn.__self__, depth + 1, live=False)
            fn = fn.__func__
        if isinstance(fn, functools.partial):
            holder = self.node(fn)
            for i, a in enumerate(fn.args):
                self.slot(holder, "item", i, a, depth, False, readonly=True)
            fn = fn.func
        if not isinstance(fn, types.FunctionType):
            if hasattr(fn, "__dict__") and not isinstance(fn, type):
                self.walk_value(fn, depth + 1, live=False)
                call = vars(type(fn)).get("__call__")
                if isinstance(call, types.FunctionType) and not _is_library(call):
                    self.walk_code_of(call, depth + 1)
            return
        if id(fn) in self.nodes and self.nodes[id(fn)].name == "walked":
            return
        self.node(fn).name = "walked"
        self.walk_code_of(fn, depth)

    def walk_code_of(self, fn, depth):
        if depth > 12:
            return
        self.budget()
        if fn.__closure__:
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
                try:
                    value = cell.cell_contents
                except ValueError:
                    continue
                self.roots.setdefault(id(cell), name)
                self.slot(self.node(cell), "cell", None, value, depth, False)
        g = fn.__globals__
        if g.get("__name__", "").split(".")[0] in ("chainrule", "numpy"):
            return
        self.roots.setdefault(id(g), "")
        gnode = self.node(g)
        names = _code_names(fn.__code__)
        self.names |= names
        for name in names:
            if name in g:
                self.slot(gnode, "item", name, g[name], depth, False)
        if fn.__defaults__:
            for i, d in enumerate(fn.__defaults__):
                self.slot(self.node(fn.__defaults__), "item", i, d, depth, False,
                          readonly=True)
        if fn.__kwdefaults__:
            kd = self.node(fn.__kwdefaults__)
            for k, d in fn.__kwdefaults__.items():
                self.slot(kd, "item", k, d, depth, False)

    def slot(self, holder, kind, key, value, depth, live, readonly=False):
        if id(value) in self.exclude:
            return
        if isinstance(value, types.ModuleType):
            if not _is_library_module(value) and id(value) not in self.nodes:
                self.modules.append(value)  # its attributes the code names: walked later
            return
        if isinstance(value, (type, types.BuiltinFunctionType, types.BuiltinMethodType)):
            return
        s = _Slot(holder, kind, key, value)
        s.index = len(self.slots)
        if type(value) is not np.ndarray and _on_device(value):
            raise CompileError(
                f"cr.compile: {self.where(s)}, which the step uses, is on "
                f"{_backend.describe(value)}; {_NUMPY_ONLY}")
        if isinstance(value, np.ndarray):
            s.policy = "const" if readonly else "array"
        elif isinstance(value, bool) or value is None or isinstance(value, _IMMUTABLE) \
                and not (live and isinstance(value, (int, float))):
            s.policy = "value"
        elif isinstance(value, (int, float)) and live:
            s.policy = "scalar"
        elif isinstance(value, np.random.Generator):
            s.policy = "rng"
        elif isinstance(value, tuple) and all(isinstance(x, _IMMUTABLE) for x in value):
            s.policy = "value"
        else:
            s.policy = "anchor"
        self.slots.append(s)
        if s.policy == "anchor":
            if kind == "attr" and key == "_grad" and isinstance(value, Tensor):
                s.policy = "transient"
                n = _Node(value, via=s)
                s.node = n
                self.parents.setdefault(id(value), s)
                self.walk_tensor(n, depth + 1, grad=True)
                return
            s.node = self.node(value)
            self.parents.setdefault(id(value), s)
            self.walk_value(value, depth + 1, live)

    def where(self, s):
        """Slot ``s`` in words, as the user's code reaches it: ``model.0.weight.grad``."""
        parts = []
        while True:
            holder = s.holder.obj
            if s.kind == "cell":
                parts.append(self.roots.get(id(holder), "a closure variable"))
                break
            root = self.roots.get(id(holder))
            if root == "" or isinstance(holder, types.ModuleType):  # a global variable
                parts.append(f"{holder.__name__}.{s.key}" if root is None else str(s.key))
                break
            parts.append(f".{s.key}" if s.kind == "attr" else f"[{s.key!r}]"
                         if isinstance(s.key, (str, int)) else "[...]")
            parent = self.parents.get(id(holder))
            if parent is None:
                parts.append(root or f"a {type(holder).__name__}")
                break
            s = parent
        path = "".join(reversed(parts))
        path = re.sub(r"\._(?:parameters|modules|buffers)\['([^']*)'\]", r".\1", path)
        path = path.replace("._grad.data", ".grad")
        if path.endswith(".grad"):
            return "the gradient " + path
        return "the tensor " + path[:-5] if path.endswith(".data") else path

    def walk_value(self, obj, depth, live):
        if depth > 12 or id(obj) in self.exclude:
            return
        node = self.node(obj)
        if node.length is not None:
            return
        self.budget()
        node.length = -1
        from .optim.lr_scheduler import LRScheduler
        from .optim.optimizer import Optimizer

        if isinstance(obj, Tensor):
            self.walk_tensor(node, depth)
            return
        if isinstance(obj, (Optimizer, LRScheduler)):
            live = True
        if isinstance(obj, dict):
            node.length = len(obj)
            for k, v in list(obj.items()):
                self.slot(node, "item", k, v, depth, live)
        elif isinstance(obj, list):
            node.length = len(obj)
            for i, v in enumerate(obj):
                self.slot(node, "item", i, v, depth, live)
        elif isinstance(obj, tuple):
            for i, v in enumerate(obj):
                self.slot(node, "item", i, v, depth, live, readonly=True)
        elif isinstance(obj, (types.FunctionType, types.MethodType, functools.partial)):
            if not _is_library(obj):
                self.walk_callable(obj, depth)
        elif hasattr(obj, "__dict__") and not isinstance(obj, (set, frozenset)):
            d = vars(obj)
            for k, v in list(d.items()):
                self.slot(node, "attr", k, v, depth, live)
            if not _is_library(type(obj)):
                for klass in type(obj).__mro__:
                    if _is_library(klass):
                        continue
                    for v in vars(klass).values():
                        if isinstance(v, types.FunctionType):
                            self.walk_callable(v, depth + 1)

    def walk_tensor(self, node, depth, grad=False):
        t = node.obj
        self.slot(node, "attr", "data", t.data, depth, False)
        if grad:
            return
        self.tensors.append((node, t._version))
        self.slot(node, "attr", "requires_grad", t.requires_grad, depth, False)
        self.slot(node, "attr", "_grad", t._grad, depth, False)


def _code_names(code):
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _code_names(c)
    return names


# ------------------------------------------------------------------------ codegen
class _Codegen:
    def __init__(self):
        self.consts = {}
        self.ids = {}

    def const(self, v):
        name = self.ids.get(id(v))
        if name is None:
            name = self.ids[id(v)] = f"c{len(self.consts)}"
            self.consts[name] = v
        return name

    def expr(self, v):
        if isinstance(v, _Var):
            return v.name
        t = type(v)
        if t is tuple:
            return "(" + "".join(self.expr(x) + ", " for x in v) + ")"
        if t is list:
            return "[" + ", ".join(self.expr(x) for x in v) + "]"
        if t is dict:
            return "{" + ", ".join(f"{k!r}: {self.expr(x)}" for k, x in v.items()) + "}"
        if v is None or t is bool or t is int or t is str:
            return repr(v)
        if t is float and math.isfinite(v):
            return repr(v)
        return self.const(v)

    def node_expr(self, node):
        if node.via is None:
            return self.const(node.obj)
        return node.name

    def slot_expr(self, s):
        h = self.node_expr(s.holder)
        if s.kind == "attr":
            return f"{h}.{s.key}" if s.key.isidentifier() else f"getattr({h}, {s.key!r})"
        if s.kind == "item":
            return f"{h}[{self.expr(s.key)}]"
        return f"{h}.cell_contents"


_RETRACE = object()  # what a replay returns when a guard fails
_GUARD_ERRORS = (KeyError, IndexError, AttributeError, TypeError, ValueError)


def _names(code):
    out, cur = [], ""
    for ch in code + " ":
        if ch.isalnum() or ch == "_":
            cur += ch
        else:
            if cur[:1] in ("v", "t") and cur[1:].isdigit():
                out.append(cur)
            cur = ""
    return out


class _Plan:
    """What the replay does: state guards and reads, the body, write-backs, the result."""

    def __init__(self, trace, state, n_args):
        self.trace = trace
        self.state = state
        self.n_args = n_args
        self.writebacks = []  # (slot, value) to set at the end
        self.deltas = []  # (tensor node, version increment)
        self.reason = None  # why the trace cannot be replayed (a one-shot trace)
        self.last = []  # per array slot: the object seen at the latest call (fast path)


def _diff(plan):
    """Compare each slot with what it held at trace start; plan the write-backs."""
    state = plan.state
    for s in state.slots:
        try:
            cur = s.get()
        except (AttributeError, KeyError, IndexError, ValueError):
            plan.reason = "a slot of state was deleted"
            continue
        if s.policy in ("array", "scalar"):
            if cur is s.standin:
                continue
        elif s.policy in ("value", "const"):
            if type(cur) is type(s.value) and (cur is s.value or cur == s.value):
                continue
        elif s.policy == "rng":
            if cur is s.standin:
                continue
        elif s.policy == "anchor":
            if cur is s.value:
                continue
        elif s.policy == "transient":
            if cur is s.value:
                continue
        plan.writebacks.append((s, cur))
    for node, v0 in state.tensors:
        dv = node.obj._version - v0
        if dv:
            plan.deltas.append((node, dv))
    for node in state.nodes.values():
        if node.length is not None and node.length >= 0 and len(node.obj) != node.length:
            plan.reason = (f"a {type(node.obj).__name__} of state changed length during "
                           "the step")


def _value_code(gen, plan, v, tensors, pre):
    """Replay code for a value put into a slot (or returned); None: not expressible."""
    if isinstance(v, StandIn):
        return v._var.name
    if isinstance(v, Tensor):
        if id(v) in tensors:
            return tensors[id(v)]
        node = plan.state.nodes.get(id(v))
        if node is not None and node.via is None:
            return gen.const(v)
        if v._node is not None or v.requires_grad or type(v) is not Tensor:
            return None
        data = _value_code(gen, plan, v.data, tensors, pre)
        if data is None:
            return None
        name = f"t{len(tensors)}"
        tensors[id(v)] = name
        pre.append(f"    {name} = _wrap({data}, None)")
        return name
    if isinstance(v, np.ndarray):
        return f"_np_copy({gen.const(v)})"  # made in the step from constants: fresh per call
    if v is None or isinstance(v, _IMMUTABLE):
        return gen.expr(v)
    if isinstance(v, tuple) and all(isinstance(x, _IMMUTABLE) for x in v):
        return gen.expr(v)
    if id(v) in plan.state.nodes and plan.state.nodes[id(v)].via is None:
        return gen.const(v)
    return None


def _build(plan, result):
    trace = plan.trace
    gen = _Codegen()
    tensors = {}  # id(Tensor made in the step) -> its name in the replay
    pre_wb, wb_lines, wb_codes = [], [], []
    for s, cur in plan.writebacks:
        code = _value_code(gen, plan, cur, tensors, pre_wb)
        if code is None:
            plan.reason = (f"the step put a new {type(cur).__name__} into state "
                           f"({s.kind} {s.key!r})")
            return None
        wb_lines.append(f"    {gen.slot_expr(s)} = {code}")
        wb_codes.append((s, code, cur))
    for node, dv in plan.deltas:
        e = gen.node_expr(node)
        wb_lines.append(f"    {e}._version += {dv}")
    ret = _result_code(gen, plan, result, tensors, pre_wb)
    if ret is None:
        raise CompileError(
            f"cr.compile: the step returned a {type(result).__name__}; return None, a "
            "Tensor (the loss), a NumPy array or a tuple of them"
        )
    # ---------------- body: fold, hoist guards, drop dead calls
    entries = trace.entries
    groups = {v: trace._find(v) for v in trace.group}
    mutated_groups = set()
    for e in entries:
        if e.kind == "inplace":
            for m in e.mutated:
                mutated_groups.add(groups[m])
    used_out = set(_names(ret)) | set(_names("\n".join(wb_lines + pre_wb)))
    escaping = {groups[v] for v in used_out if v in groups}
    folded = {}
    for e in entries:
        if e.kind in ("call", "create") and e.foldable and e.target is not None:
            deps = [a.name for a in _flat((e.args, e.kwargs)) if isinstance(a, _Var)]
            if e.kind == "create" or all(d in folded for d in deps):
                g = groups[e.target]
                if g not in mutated_groups and g not in escaping \
                        and not _shares_group(trace, e.target, groups, mutated_groups):
                    folded[e.target] = trace.values[e.target]
    entries = _hoist_guards(trace, entries, groups, folded)
    entries = _cse(entries, groups, used_out | set(folded))
    # dead-code elimination: pure calls and deterministic creations nothing uses
    live = set(used_out)
    kept = []
    for e in reversed(entries):
        droppable = e.kind in ("call", "read") or (
            e.kind == "create" and (e.foldable or e.fn is np.empty_like))
        if droppable and (e.target not in live or e.target in folded):
            continue
        kept.append(e)
        live.update(a.name for a in _flat((e.args, e.kwargs)) if isinstance(a, _Var))
    kept.reverse()
    for name, value in folded.items():
        gen.consts["k" + name[1:]] = value
    lines = []
    seen_guards = set()
    for e in kept:
        if e.kind == "read":
            lines.append((e.target, e.code))
            continue
        args = [_sub(gen, a, folded) for a in e.args]
        kw = [f"{k}={_sub(gen, v, folded)}" for k, v in (e.kwargs or {}).items()]
        if _unique_scatter(e, trace):  # np.add.at on distinct places: as a[i] += g, same bits
            e_args = [_sub(gen, a, folded) for a in e.args]
            lines.append((None, f"_iadd_at({', '.join(e_args)})"))
            continue
        buf = _buffer(trace, e, groups, escaping)
        if buf is not None:  # the same output array at every call (see _buffer)
            kw.append(f"out={gen.const(buf)}")
        call = f"{gen.const(e.fn)}({', '.join(args + kw)})"
        if e.kind == "guard":
            v = e.args[0]
            key = (id(e.fn), v.name, repr(e.code))
            if key in seen_guards and not isinstance(trace.values.get(v.name), _ARRAYS):
                continue  # a number decided on twice: once is enough
            seen_guards.add(key)
            if e.fn is bool:
                cond = f"not {args[0]}" if e.code else args[0]
            else:
                cond = f"{call} != {gen.expr(e.code)}"
            lines.append((None, f"if {cond}:\n        return _RETRACE", "guard"))
            continue
        lines.append((e.target, call))
    # ---------------- state guards
    used = set(used_out)
    for ln in lines:
        used.update(_names(ln[1]))
    rebound = {s.index for s, _ in plan.writebacks}
    guards, klast = _state_guards(gen, plan, used, rebound)
    for s, code, cur in wb_codes:  # the arrays written back are the next call's "last seen"
        if s.policy == "array" and s.index in klast:
            wb_lines.append(f"    _last[{klast[s.index]}] = {code}")
        elif s.policy == "transient" and isinstance(cur, Tensor) and \
                isinstance(cur.data, StandIn):
            for d in plan.state.slots:
                if d.holder is s.node and d.key == "data" and d.index in klast:
                    wb_lines.append(f"    _last[{klast[d.index]}] = {cur.data._var.name}")
    # ---------------- assemble, freeing intermediates after their last use
    body = []
    last = {}
    for k, ln in enumerate(lines):
        for tok in _names(ln[1]):
            last[tok] = k
    keep_vars = used_out
    for k, ln in enumerate(lines):
        target, code = ln[0], ln[1]
        if len(ln) == 3:
            body.append("    " + code)
        else:
            body.append(f"    {target} = {code}" if target else f"    {code}")
        dead = [n for n, at in last.items() if at == k and n.startswith("v")
                and n not in keep_vars and n != target]
        if target and target not in last and target not in keep_vars:
            dead.append(target)
        if dead:
            body.append(f"    del {', '.join(sorted(set(dead)))}")
    params = ", ".join(f"a{i}" for i in range(plan.n_args))
    src = (f"def replay({params}):\n    try:\n"
           + "".join("    " + g + "\n" for g in guards) + "        pass\n"
           + "    except _GUARD_ERRORS:\n        return _RETRACE\n"
           + "\n".join(body) + ("\n" if body else "")
           + "\n".join(pre_wb + wb_lines) + ("\n" if pre_wb or wb_lines else "")
           + f"    return {ret}\n")
    ns = dict(gen.consts, _RETRACE=_RETRACE, _GUARD_ERRORS=_GUARD_ERRORS, _wrap=_wrap,
              _np_copy=np.copy, _last=plan.last, _list=list, _map=map, _id=id,
              _iadd_at=_iadd_at)
    exec(builtins.compile(src, "<cr.compile>", "exec"), ns)  # noqa: S102 (our own source)
    return ns["replay"], src


def _cse(entries, groups, keep):
    """Common subexpressions: a pure call repeated on the same inputs (the forward's
    ``y - t`` again in the loss's VJP) reuses the first result, as long as nothing changed
    either in place in between. ``keep``: results that must stay their own variable."""
    seen = {}  # key -> (target, groups of the target and its inputs)
    alias = {}

    def rename(v):
        if isinstance(v, _Var):
            return _Var(alias[v.name]) if v.name in alias else v
        if isinstance(v, tuple):
            return tuple(rename(x) for x in v)
        if isinstance(v, list):
            return [rename(x) for x in v]
        if isinstance(v, dict):
            return {k: rename(x) for k, x in v.items()}
        return v

    out = []
    for e in entries:
        if alias:
            e.args = rename(e.args)
            e.kwargs = rename(e.kwargs) if e.kwargs else e.kwargs
            e.mutated = [alias.get(m, m) for m in e.mutated]
        if e.kind == "inplace":
            hit = {groups[m] for m in e.mutated}
            seen = {k: v for k, v in seen.items() if not (v[1] & hit)}
        elif e.kind == "call" and e.target is not None and not e.kwargs \
                and e.target not in keep:
            key = (id(e.fn), _cse_key(e.args))
            if True:
                if key in seen:
                    alias[e.target] = seen[key][0]
                    continue
                deps = {groups[a.name] for a in _flat(e.args) if isinstance(a, _Var)}
                seen[key] = (e.target, deps | {groups[e.target]})
        out.append(e)
    return out


def _cse_key(a):
    if isinstance(a, _Var):
        return ("v", a.name)
    if isinstance(a, (tuple, list)):
        return (type(a),) + tuple(_cse_key(x) for x in a)
    if a is None or type(a) in (bool, int, float, str):
        return (type(a), a)
    return ("id", id(a))


def _unique_scatter(e, trace):
    """``np.add.at(a, index, g)`` whose index picks each place once whatever the traced
    parts hold: one part is a constant 1-D integer array of distinct values (the rows
    ``arange(n)`` of a cross-entropy), the others 1-D of the same length."""
    fn = e.fn
    if e.kind != "inplace" or getattr(fn, "__self__", None) is not np.add or \
            getattr(fn, "__name__", "") != "at" or len(e.args) != 3 or \
            not isinstance(e.args[1], tuple):
        return False
    parts, n, unique = e.args[1], None, False
    for part in parts:
        if isinstance(part, np.ndarray):
            if part.ndim != 1 or part.dtype.kind not in "iu":
                return False
            length = len(part)
            unique = unique or len(np.unique(part)) == length
        elif isinstance(part, _Var):
            v = trace.values[part.name]  # its shape is fixed by the guards
            if not isinstance(v, np.ndarray) or v.ndim != 1 or v.dtype.kind not in "iu":
                return False
            length = len(v)
        else:
            return False
        if length is not None:
            if n is not None and length != n:
                return False
            n = length
    return unique and n is not None


def _iadd_at(a, index, g):
    a[index] += g


def _buffer(trace, e, groups, escaping):
    """A preallocated output for a ufunc call whose result never leaves the replay (not
    returned, not written to state, no view of it either): each call writes into the same
    array instead of allocating one. Same shape, dtype and strides as at trace time, so the
    results (and what is computed from them) are bitwise the same."""
    if e.kind != "call" or type(e.fn) is not np.ufunc or e.kwargs or e.fn.nout != 1:
        return None
    value = trace.values[e.target]
    if type(value) is not np.ndarray or value.ndim == 0 or groups[e.target] in escaping:
        return None
    buf = np.empty_like(value)
    return buf if buf.strides == value.strides else None


def _shares_group(trace, target, groups, mutated_groups):
    return groups[target] in mutated_groups


def _sub(gen, a, folded):
    if isinstance(a, _Var) and a.name in folded:
        return "k" + a.name[1:]  # a folded constant, bound by name in the namespace
    if isinstance(a, (tuple, list)):
        inner = [_sub(gen, x, folded) for x in a]
        if isinstance(a, tuple):
            return "(" + "".join(x + ", " for x in inner) + ")"
        return "[" + ", ".join(inner) + "]"
    if isinstance(a, dict):
        return "{" + ", ".join(f"{k!r}: {_sub(gen, x, folded)}" for k, x in a.items()) + "}"
    return gen.expr(a)


def _hoist_guards(trace, entries, groups, folded):
    """Guards after a change of state (an in-place write into state, an RNG draw) would
    leave that change behind when they fail: move each guard, with the pure calls it needs,
    before the first such change, or refuse."""
    first_effect = None
    stale = {g for v, g in groups.items() if v not in trace.fresh}  # groups with state
    for k, e in enumerate(entries):
        if _effect(e, groups, stale):
            first_effect = k
            break
    if first_effect is None:
        return entries
    producers = {e.target: k for k, e in enumerate(entries) if e.target is not None}
    moved = set()
    for k, e in enumerate(entries):
        if e.kind != "guard" or k < first_effect:
            continue
        cone, stack = set(), [a.name for a in _flat(e.args) if isinstance(a, _Var)]
        while stack:
            v = stack.pop()
            j = producers.get(v)
            if j is None or j in cone:
                continue
            ent = entries[j]
            if ent.kind not in ("call", "read", "create") or (ent.kind == "create"
                                                             and not ent.foldable):
                _refuse_late_guard()
            cone.add(j)
            stack.extend(a.name for a in _flat((ent.args, ent.kwargs)) if isinstance(a, _Var))
        written = set()
        for j in range(k):
            if entries[j].kind == "inplace":
                written.update(groups[m] for m in entries[j].mutated)
        for j in cone:
            for a in _flat((entries[j].args, entries[j].kwargs)):
                if isinstance(a, _Var) and groups[a.name] in written:
                    _refuse_late_guard()
        moved |= cone | {k}
    if not moved:
        return entries
    front = [e for k, e in enumerate(entries) if k in moved]
    rest = [e for k, e in enumerate(entries) if k not in moved]
    return front + rest


def _refuse_late_guard():
    raise CompileError(
        "cr.compile: chainrule checks a value computed after the step changed state "
        "(e.g. clip_grad_norm_(..., error_if_nonfinite=True)); such a check cannot be "
        "re-done at replay before the change; leave it out of the compiled step"
    )


def _effect(e, groups, stale):
    """Whether replaying ``e`` changes something outside the step's own new arrays."""
    if e.kind == "inplace":
        return any(groups[m] in stale for m in e.mutated)
    return e.kind == "create" and not e.foldable and e.fn is not np.empty_like


def _state_guards(gen, plan, used, rebound):
    """Guard lines (inside the replay's ``try``) and reads of the live slots. A container
    whose every entry keeps its object between calls gets one guard on the identities of
    its values; other slots are guarded one by one (arrays: shape, dtype, strides, with a
    fast path when the array is the one seen last time)."""
    guards, klast = [], {}
    by_holder = collections.defaultdict(list)
    for s in plan.state.slots:
        by_holder[id(s.holder)].append(s)
    snapshot_done = set()
    tcount = 0
    for s in plan.state.slots:
        e = gen.slot_expr(s)
        p = s.policy
        h = s.holder
        if len(by_holder[id(h)]) > 24 and id(h) not in snapshot_done and \
                _snapshot_ok(h, by_holder[id(h)], rebound):  # one guard beats many here
            snapshot_done.add(id(h))
            ids, keep = _identities(h, by_holder[id(h)])
            values = "" if isinstance(h.obj, list) else (
                ".values()" if isinstance(h.obj, dict) else ".__dict__.values()")
            guards.append(f"    if _list(_map(_id, {gen.const(h.obj)}{values})) != "
                          f"{gen.const(ids)}:\n            return _RETRACE")
            gen.const(keep)  # alive while the replay is: the ids stay theirs
        if id(h) in snapshot_done:
            if p in ("array", "scalar") and s.standin._var.name in used:
                guards.append(f"    {s.standin._var.name} = {e}")
            continue
        if p == "array":
            v = s.standin._var.name
            k = klast[s.index] = len(plan.last)
            plan.last.append(s.value)
            guards.append(f"    {v} = {e}")
            guards.append(
                f"    if {v} is not _last[{k}]:\n"
                f"            if {v}.__class__ is not {gen.const(type(s.value))} or "
                f"{v}.shape != {s.value.shape!r} or {v}.dtype != {gen.const(s.value.dtype)} "
                f"or {v}.strides != {s.value.strides!r}:\n"
                f"                return _RETRACE\n"
                f"            _last[{k}] = {v}")
        elif p == "scalar":
            v = s.standin._var.name
            if v in used:
                guards.append(f"    {v} = {e}")
        elif p == "value" and (s.value is None or isinstance(s.value, bool)):
            guards.append(f"    if {e} is not {s.value!r}:\n            return _RETRACE")
        elif p == "value":
            guards.append(f"    if {e} != {gen.expr(s.value)}:\n            return _RETRACE")
        elif p in ("rng", "anchor", "const"):
            guards.append(f"    if {e} is not {gen.const(s.value)}:\n            return _RETRACE")
            if p == "anchor" and s.node is not None and s.node.length is not None \
                    and s.node.length >= 0 and id(s.node) not in snapshot_done:
                guards.append(f"    if len({gen.const(s.value)}) != {s.node.length}:\n"
                              f"            return _RETRACE")
        elif p == "transient":
            name = f"o{tcount}"
            tcount += 1
            s.node.name = name
            guards.append(f"    {name} = {e}")
            guards.append(f"    if {name}.__class__ is not {gen.const(type(s.value))}:\n"
                          f"            return _RETRACE")
    return guards, klast


_STABLE = ("anchor", "value", "const", "rng", "array")


def _snapshot_ok(node, slots, rebound):
    """Whether one identity guard covers ``node``: a constant dict, list or object whose
    slots all keep their objects between calls (none rebound by the step)."""
    obj = node.obj
    if node.via is not None or isinstance(obj, Tensor) or not slots:
        return False
    if isinstance(obj, dict):
        keys = list(obj)
    elif isinstance(obj, list):
        keys = list(range(len(obj)))
    elif hasattr(obj, "__dict__") and not isinstance(obj, (types.FunctionType, type)):
        keys = list(vars(obj))
    else:
        return False
    if len(keys) != len(slots) and isinstance(obj, list):
        return False
    covered = {s.key for s in slots}
    if not covered <= set(keys):
        return False
    return all(s.policy in _STABLE and s.index not in rebound for s in slots) and \
        len(keys) <= 256


def _identities(node, slots):
    """The ids of ``node``'s values at trace start (what the replay expects), and the
    objects themselves (kept alive with the replay)."""
    obj = node.obj
    by_key = {s.key: s for s in slots}
    if isinstance(obj, dict):
        keys, get = list(obj), obj.__getitem__
    elif isinstance(obj, list):
        keys, get = list(range(len(obj))), obj.__getitem__
    else:
        keys, get = list(vars(obj)), vars(obj).__getitem__
    objs = [by_key[k].value if k in by_key else get(k) for k in keys]
    return [id(o) for o in objs], objs


def _result_code(gen, plan, out, tensors, pre):
    if out is None:
        return "None"
    if isinstance(out, Tensor):
        data = out.data
        if isinstance(data, StandIn):
            return f"_wrap({data._var.name}, None)"
        return f"_wrap(_np_copy({gen.const(data)}), None)"
    if isinstance(out, Traced):
        return out._var.name
    if isinstance(out, TracedScalar):
        return out._var.name
    if isinstance(out, np.ndarray):
        return f"_np_copy({gen.const(out)})"
    if isinstance(out, (tuple, list)):
        parts = [_result_code(gen, plan, o, tensors, pre) for o in out]
        if any(p is None for p in parts):
            return None
        inner = "".join(p + ", " for p in parts)
        return f"({inner})" if isinstance(out, tuple) else f"[{inner}]"
    if isinstance(out, (int, float, bool)):
        return repr(out)
    return None


def _concretize(obj, seen):
    """Replace stand-ins by their concrete values in ``obj`` and what it holds (new
    containers and Tensors made during the trace included)."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, Tensor):
        if isinstance(obj.data, StandIn):
            obj.data = obj.data.value
        if obj._grad is not None:
            _concretize(obj._grad, seen)
        node = obj._node
        if node is not None and isinstance(node.out, StandIn):
            node.out = node.out.value
        return
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            if isinstance(v, StandIn):
                obj[k] = v.value
            elif isinstance(v, _TracedRNG):
                obj[k] = v._gen
            else:
                _concretize(v, seen)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if isinstance(v, StandIn):
                obj[i] = v.value
            else:
                _concretize(v, seen)
    elif isinstance(obj, tuple):
        for v in obj:
            _concretize(v, seen)


def _unwrap_result(out):
    if isinstance(out, StandIn):
        return out.value
    if isinstance(out, Tensor):
        _concretize(out, set())
        return out
    if isinstance(out, tuple):
        return tuple(_unwrap_result(o) for o in out)
    if isinstance(out, list):
        return [_unwrap_result(o) for o in out]
    return out


# ---------------------------------------------------------------------- the step
def _signature(args):
    """The cache key of a call: each argument's array type, shape, dtype and strides (or
    the constant itself), which arguments are the same object, and the grad mode."""
    key = [is_grad_enabled()]
    add = key.append
    for a in args:
        if isinstance(a, Tensor):
            d = a.data
            if d.__class__ is not np.ndarray and _on_device(d):
                raise _OnDevice(a)
            add((d.__class__, d.shape, d.dtype, d.strides, a.requires_grad))
        elif isinstance(a, np.ndarray):
            add((a.__class__, a.shape, a.dtype, a.strides))
        elif a is None or type(a) in _VALUE_ARGS:
            add((type(a), a))
        elif _on_device(a):
            raise _OnDevice(a)
        else:  # an object (a model, a generator): the same object, not an equal one
            add(("id", id(a)))
    if len(args) > 1 and len(set(map(id, args))) < len(args):
        ids = [id(a) for a in args]
        add(tuple(ids.index(i) for i in ids))
    return tuple(key)


_VALUE_ARGS = (int, float, complex, bool, str, bytes)


class _OnDevice(Exception):
    """An argument on another device (``_signature`` to ``CompiledStep.__call__``)."""

    def __init__(self, arg):
        self.arg = arg


def _parameter(fn, k):
    """The name of ``fn``'s positional parameter ``k`` (``*batch[1]`` for a star
    parameter's), or None."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # no signature to read (a builtin)
        return None
    for i, prm in enumerate(params):
        if prm.kind is prm.VAR_POSITIONAL:
            return f"*{prm.name}[{k - i}]"
        if i == k and prm.kind in (prm.POSITIONAL_ONLY, prm.POSITIONAL_OR_KEYWORD):
            return prm.name
    return None


def _argument_name(fn, k):
    """``argument 0 (x)``: an argument's position and its parameter's name."""
    name = _parameter(fn, k)
    return f"argument {k}" if name is None else f"argument {k} ({name})"


def _unhashable(args):
    for i, a in enumerate(args):
        try:
            hash(a)
        except TypeError:
            return CompileError(
                f"cr.compile: argument {i} of type {type(a).__name__} is not supported; pass "
                "Tensors, NumPy arrays or hashable constants (numbers, strings, None, a "
                "np.random.Generator)"
            )
    return CompileError("cr.compile: an argument is not hashable")


class CompiledStep:
    """A traced training step; call it like the original function."""

    def __init__(self, fn, cache_size=8):
        if not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"cr.compile: cache_size must be a positive int, got {cache_size!r}")
        self.fn = fn
        self.cache_size = cache_size
        self.cache = collections.OrderedDict()  # signature -> [replay, ...] (newest first)
        self.traces = 0
        self.source = None
        self.last_reason = None
        self._warned = False
        functools.update_wrapper(self, fn)

    def __call__(self, *args):
        try:
            key = _signature(args)
        except _OnDevice as e:
            data = e.arg.data if isinstance(e.arg, Tensor) else e.arg
            k = next(i for i, a in enumerate(args) if a is e.arg)
            raise CompileError(
                f"cr.compile: {_argument_name(self.fn, k)} of "
                f"{getattr(self.fn, '__name__', 'the step')} is on {_backend.describe(data)}; "
                f"{_NUMPY_ONLY}") from None
        try:
            replays = self.cache.get(key)
        except TypeError:
            raise _unhashable(args) from None
        if replays is not None:
            for replay in replays:
                out = replay(*args)
                if out is not _RETRACE:
                    return out
            self.last_reason = "a guard on state failed"
        else:
            self.last_reason = "new argument shapes, dtypes or constants"
        return self._trace(key, args)

    def _count(self):
        return sum(len(v) for v in self.cache.values())

    def _trace(self, key, args):
        if _active() is not None:
            raise CompileError("cr.compile: a compiled step cannot run inside another trace")
        for i, a in enumerate(args):
            if isinstance(a, Tensor) and a.requires_grad:
                raise CompileError(
                    f"cr.compile: argument {i} requires grad; pass the data (inputs and "
                    "targets) as arguments and keep the parameters in the model"
                )
        self.traces += 1
        if self.traces > self.cache_size and not self._warned:
            self._warned = True
            warnings.warn(
                f"cr.compile: {getattr(self.fn, '__name__', 'the step')} was traced "
                f"{self.traces} times (cache_size={self.cache_size}); the latest reason: "
                f"{self.last_reason}. Each "
                "trace runs the step eagerly; pass changing numbers as arrays, or keep "
                "shapes fixed", CompileWarning, stacklevel=3)
        trace = _Trace()
        exclude = {id(a) for a in args if isinstance(a, (Tensor, np.ndarray))}
        exclude |= {id(a.data) for a in args if isinstance(a, Tensor)}
        state = _State(trace, exclude)
        objects = [a for a in args if not isinstance(a, (Tensor, np.ndarray)) and a is not None
                   and type(a) not in _VALUE_ARGS]
        for k, a in enumerate(args):  # how messages name what is reached from an argument
            if any(a is o for o in objects):
                state.roots.setdefault(id(a), _parameter(self.fn, k) or f"argument {k}")
        state.walk_root(self.fn, objects)
        call_args, restore = [], []
        for k, a in enumerate(args):
            if isinstance(a, Tensor):
                d = a.data
                a.data = trace.argument(d, f"a{k}.data")
                restore.append((a, d))
                call_args.append(a)
            elif isinstance(a, np.ndarray):
                call_args.append(trace.argument(a, f"a{k}"))
            else:
                call_args.append(a)
        reads = {}
        for s in state.slots:
            if s.policy == "array":
                st = reads.get(id(s.value))
                if st is None:
                    st = reads[id(s.value)] = trace.read(s.value, None)
                s.standin = st
            elif s.policy == "scalar":
                s.standin = trace.read(s.value, None, scalar=True)
            elif s.policy == "rng":
                s.standin = _TracedRNG(s.value, trace)
            else:
                continue
            s.set(s.standin)
        # the read entries get their code once the slot expressions are known (codegen)
        _local.trace = trace
        ok = False
        _watch_grads(True)
        try:
            out = self.fn(*call_args)
            trace.check_constants()
            _check_grad_writes(trace, state, args)
            ok = True
        finally:
            _watch_grads(False)
            _local.trace = None
            trace.done = ok
            if not ok:
                trace.done = True
                self._finish(state, restore, args)
        plan = _Plan(trace, state, len(args))
        built = None
        try:
            _diff(plan)
            if plan.reason is None:
                _drop_state_reads(trace)
                built = _build(plan, out)
        finally:
            self._finish(state, restore, args)
        result = _unwrap_result(out)
        if built is None or plan.reason is not None:
            self.last_reason = plan.reason
            return result
        replay, self.source = built
        replay.objects = objects  # their ids are in the cache key: keep them alive
        replays = self.cache.setdefault(key, [])
        replays.insert(0, replay)
        self.cache.move_to_end(key)
        while self._count() > self.cache_size:
            oldest = next(iter(self.cache))
            self.cache[oldest].pop()
            if not self.cache[oldest]:
                del self.cache[oldest]
        return result

    @staticmethod
    def _finish(state, restore, args):
        """Concrete values back into every slot, argument and new object of state."""
        seen = set()
        for s in state.slots:
            try:
                cur = s.get()
            except (AttributeError, KeyError, IndexError, ValueError):
                continue
            if isinstance(cur, StandIn):
                s.set(cur.value)
            elif isinstance(cur, _TracedRNG):
                s.set(cur._gen)
            else:
                _concretize(cur, seen)
        for node in state.nodes.values():
            if isinstance(node.obj, (dict, list, Tensor)):
                _concretize(node.obj, seen)
        for a, _ in restore:
            if isinstance(a.data, StandIn):
                a.data = a.data.value


_GRAD_SLOT = Tensor.__dict__["_grad"]
_watch_lock = threading.Lock()
_watchers = [0]


class _GradWatch:
    """``Tensor._grad`` while a step is traced: notes which tensors get a gradient, so
    that a tensor outside the discovered state is refused rather than left stale."""

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        return _GRAD_SLOT.__get__(obj, cls)

    def __set__(self, obj, value):
        tr = getattr(_local, "trace", None)
        if tr is not None and value is not None:  # None: also every new tensor's start
            tr.grad_writes[id(obj)] = obj
        _GRAD_SLOT.__set__(obj, value)


def _watch_grads(on):
    with _watch_lock:
        _watchers[0] += 1 if on else -1
        if on and _watchers[0] == 1:
            Tensor._grad = _GradWatch()
        elif not on and _watchers[0] == 0:
            Tensor._grad = _GRAD_SLOT


def _check_grad_writes(trace, state, args):
    ids = {id(a) for a in args}
    for t in trace.grad_writes.values():
        if t._node is None and id(t) not in state.nodes and id(t) not in ids:
            raise CompileError(
                f"cr.compile: a tensor of shape {t.shape} gets a gradient in the step but is "
                "not reachable from the step's closure, globals or arguments, so a replay "
                "could not keep its .grad up to date; keep the parameters in a model or list "
                "the step refers to, and do not create tensors that require grad inside it"
            )


def _drop_state_reads(trace):
    """State slots are read (and guarded) by the replay's prologue, not in its body."""
    trace.entries = [e for e in trace.entries if not (e.kind == "read" and e.code is None)]


def compile(fn, cache_size=8):  # noqa: A001 (cr.compile, like torch.compile)
    """Trace ``fn`` (a training step) on its first call and replay it on later calls.

    Parameters
    ----------
    fn : callable
        Takes Tensors or NumPy arrays (a batch) and hashable constants; runs forward,
        backward and ``opt.step()`` on a model it closes over; returns None, the loss, an
        array, or a tuple of them.
    cache_size : int
        How many traces to keep (least recently used dropped first); a warning says when
        the step was traced more often than this.

    Returns
    -------
    CompiledStep
        Call it like ``fn``. A call whose guards hold (argument shapes, dtypes and
        constants; the kind, shape and dtype of each piece of state; plain settings)
        replays the NumPy calls of the trace and gives bitwise the eager results; any other
        call runs ``fn`` eagerly and traces it. Returned tensors are detached.

    Raises
    ------
    CompileError
        When ``fn`` reads a traced value in Python (``.item()``, ``float(t)``, ``if t:``,
        ``np.asarray(t)``), indexes with a traced boolean mask, uses
        ``create_graph=True``, writes in place into an array the trace does not own, or
        returns something else than Tensors and arrays. Also when an argument, a tensor
        of the state (a parameter, its gradient, an optimizer's buffer) or a move inside
        ``fn`` is on another device or array library than NumPy: the message names it,
        its device, and says to run ``fn`` without ``cr.compile`` or move it to the CPU.

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
    return CompiledStep(fn, cache_size=cache_size)
