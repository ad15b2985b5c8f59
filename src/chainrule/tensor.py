"""Tensor: a NumPy array that remembers how it was made.

Arithmetic is NumPy's (broadcasting, dtype promotion with Python numbers as "weak"
scalars, so a float32 tensor stays float32 when a Python float joins it). When grad mode
is on and an input requires grad, the result keeps a :class:`~chainrule.graph.Node`;
``backward()`` walks those nodes in reverse (see ``autograd.py``).
"""

from __future__ import annotations

import numpy as np

from .errors import BackwardError, ShapeError
from .graph import Node, mode

_NUMBER = (int, float, np.number, np.bool_)
_new = object.__new__
_KINDS = "biuf"  # bool, signed and unsigned integers, floats


def _check_dtype(arr, where):
    if arr.dtype.kind not in _KINDS:
        if arr.dtype.kind == "O":
            raise TypeError(
                f"{where}: cannot make a tensor from objects of mixed type or ragged nested "
                "lists; give a number, a rectangular (nested) list of numbers, a NumPy array "
                "or a Tensor"
            )
        raise TypeError(
            f"{where}: unsupported dtype {arr.dtype}; supported are bool, integer and "
            "floating-point dtypes"
        )
    return arr


class StandIn:
    """Base of the values that stand in for arrays and numbers while ``cr.compile`` traces a
    step (see ``compiler.py``): ``as_array`` and the ops take them as they take arrays."""

    __slots__ = ()


def _asarray(x):
    """``np.asarray(x)``; a stand-in converts itself (NumPy cannot dispatch ``asarray``)."""
    return x.asarray() if isinstance(x, StandIn) else np.asarray(x)


def as_array(data, dtype=None, copy=False, where="tensor"):
    """NumPy array from a Tensor, array, number or nested list, with a clear error otherwise."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, StandIn):
        return _check_dtype(data.asarray(dtype, copy), where)
    elif not isinstance(data, (np.ndarray, np.generic, list, tuple, int, float, bool)):
        raise TypeError(
            f"{where}: unsupported data type {type(data).__name__}; expected a number, a "
            "(nested) list of numbers, a NumPy array or a Tensor"
        )
    try:
        arr = np.array(data, dtype=dtype, copy=True) if copy else np.asarray(data, dtype=dtype)
    except (ValueError, TypeError) as e:
        raise TypeError(
            f"{where}: cannot convert {type(data).__name__} to an array ({e}); expected a "
            "number, a rectangular (nested) list of numbers, a NumPy array or a Tensor"
        ) from None
    return _check_dtype(arr, where)


def _const(x, where):
    """An operand that is not a Tensor. Python numbers stay Python numbers (NumPy's weak
    scalars keep the tensor's dtype); arrays and lists become arrays."""
    if isinstance(x, (int, float, np.ndarray, StandIn)):
        return x
    if isinstance(x, (np.generic, list, tuple)):
        return as_array(x, where=where)
    raise TypeError(
        f"{where}: unsupported operand type {type(x).__name__}; expected a Tensor, a NumPy "
        "array or a Python number"
    )


def _wrap(out, node):
    """A Tensor around ``out`` made by ``node`` (None: a constant), without __init__'s checks."""
    t = _new(Tensor)
    t.data = out
    t._grad = None
    t.requires_grad = node is not None
    t._node = node
    t._version = 0
    t.name = None
    return t


def _fail(op, arrays, params, err):
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    msg = f"{op.name}: cannot apply to input shapes {shapes}: {err}"
    if isinstance(err, IndexError):
        return IndexError(msg)
    if isinstance(err, ValueError):
        return ShapeError(msg)
    return TypeError(msg)


def _finish(op, out, node):
    """The result tensor of an op: ``_wrap`` written out, as this is the per-op hot path."""
    t = _new(Tensor)
    t.data = out
    t._grad = None
    t.requires_grad = node is not None
    t._node = node
    t._version = 0
    t.name = None
    if mode.anomaly:
        from .autograd import _anomaly_forward

        _anomaly_forward(op, t)
    return t



def unary(op, x, *params):
    """Apply a one-input op to Tensor ``x`` (recording it when needed)."""
    xd = x.data
    try:
        out = op.forward(xd, *params)
    except (ValueError, IndexError, TypeError) as e:
        raise _fail(op, (xd,), params, e) from None
    if x.requires_grad and mode.grad_enabled:
        return _finish(op, out, Node(op, (x,), out, params, (x._version,)))
    return _finish(op, out, None)


def binary(op, a, b):
    """Apply a two-input op; either input may be a constant (array or Python number)."""
    if isinstance(a, Tensor):
        ad, ra, va = a.data, a.requires_grad, a._version
    else:
        ad, ra, va = _const(a, op.name), False, 0
    if isinstance(b, Tensor):
        bd, rb, vb = b.data, b.requires_grad, b._version
    else:
        bd, rb, vb = _const(b, op.name), False, 0
    try:
        out = op.forward(ad, bd)
    except (ValueError, IndexError, TypeError) as e:
        raise _fail(op, (ad, bd), (), e) from None
    if (ra or rb) and mode.grad_enabled:
        return _finish(op, out, Node(op, (a, b), out, (), (va, vb)))
    return _finish(op, out, None)


def apply(op, inputs, *params):
    """Apply any op to a tuple of inputs (Tensors or constants)."""
    datas = []
    versions = []
    record = False
    for x in inputs:
        if isinstance(x, Tensor):
            datas.append(x.data)
            versions.append(x._version)
            record = record or x.requires_grad
        else:
            datas.append(_const(x, op.name))
            versions.append(0)
    try:
        out = op.forward(datas, *params) if op.variadic else op.forward(*datas, *params)
    except (ValueError, IndexError, TypeError) as e:
        raise _fail(op, datas, params, e) from None
    if record and mode.grad_enabled:
        return _finish(op, out, Node(op, tuple(inputs), out, params, tuple(versions)))
    return _finish(op, out, None)


def _compare(ufunc, a, b):
    bd = b.data if isinstance(b, Tensor) else b
    if not isinstance(bd, _NUMBER + (np.ndarray, list, tuple, StandIn)):
        return NotImplemented
    return _wrap(_traced(ufunc, a.data, bd), None)


def _traced(fn, *args):
    """``fn(*args)`` on arrays outside any op."""
    return fn(*args)


def _read(t, what):
    """A Python-level read of tensor values: refused by a stand-in (``cr.compile``)."""
    if isinstance(t.data, StandIn):
        t.data.refuse(what)
    return t.data


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Parameters
    ----------
    data : array_like
        A number, (nested) list, NumPy array or Tensor. Arrays are used without a copy.
    requires_grad : bool
        Record operations on this tensor so that ``backward()`` fills ``.grad``.
    dtype : numpy dtype, optional
        Convert to this dtype; by default NumPy's choice (Python floats give float64).
    """

    __slots__ = ("data", "_grad", "requires_grad", "_node", "_version", "name", "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operators
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = as_array(data, dtype=dtype, where="Tensor")
        self._grad = None
        self.requires_grad = False
        self._node = None
        self._version = 0
        self.name = None
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- basics
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    def size(self, dim=None):
        """Shape (PyTorch's ``size()``), or the length of axis ``dim``."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self):
        return self.data.size

    @property
    def grad_fn(self):
        """The node that made this tensor (None for leaves and constants)."""
        return self._node

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def T(self):
        return _ops.transpose(self)

    @property
    def mT(self):
        return _ops.swapaxes(self, -1, -2)

    def numpy(self):
        """The data as a NumPy array (shared, not copied)."""
        return np.asarray(_read(self, ".numpy()"))

    def item(self):
        if self.data.size != 1:
            raise ValueError(
                f"item(): only a one-element tensor converts to a Python number, "
                f"this one has shape {self.shape}"
            )
        return _read(self, ".item()").item()

    def tolist(self):
        return np.asarray(_read(self, ".tolist()")).tolist()

    def __array__(self, dtype=None, copy=None):
        arr = np.asarray(_read(self, "np.asarray(tensor)"))
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all()"
            )
        return bool(_read(self, "bool(tensor) (an `if` or `while` on a tensor)"))

    def __float__(self):
        return float(_read(self, "float(tensor)").item())

    def __int__(self):
        return int(_read(self, "int(tensor)").item())

    def any(self):
        return bool(np.any(_read(self, ".any()")))

    def all(self):
        return bool(np.all(_read(self, ".all()")))

    __hash__ = object.__hash__  # identity, although == compares elementwise

    def __repr__(self):
        body = np.array2string(
            np.asarray(self.data), separator=", ", prefix="tensor(", precision=4, threshold=200
        )
        extra = ""
        if self.data.dtype not in (np.float64, np.int64, np.bool_):
            extra += f", dtype={self.data.dtype}"
        if self._node is not None:
            extra += f", grad_fn=<{self._node.op.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ------------------------------------------------------------- autograd
    @property
    def grad(self):
        """The gradient accumulated by ``backward()`` (a Tensor shaped like this one), or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = value

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (floating-point tensors only); returns self."""
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, this one is "
                f"{self.data.dtype}; convert it first, e.g. cr.tensor(data, dtype=np.float64)"
            )
        if not requires_grad and self._node is not None:
            raise BackwardError(
                "requires_grad_(False) on a tensor computed from others; use .detach()"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """A tensor sharing this data, cut from the graph (requires_grad=False)."""
        return _wrap(self.data, None)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after ``backward()`` (as PyTorch)."""
        if self._node is None:
            return self
        if self._node.retained is None:
            self._node.retained = []
        self._node.retained.append(self)
        return self

    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Back-propagate from this tensor, accumulating ``.grad`` of the leaves.

        Parameters
        ----------
        grad : array_like, optional
            dE/d(self), shaped like self. Needed unless self has one element.
        retain_graph : bool, optional
            Keep the graph for another backward (default: ``create_graph``).
        create_graph : bool
            Record the backward itself, so the gradients can be differentiated again.
        """
        _autograd.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return binary(_ops.ADD, self, other)

    def __radd__(self, other):
        return binary(_ops.ADD, other, self)

    def __sub__(self, other):
        return binary(_ops.SUB, self, other)

    def __rsub__(self, other):
        return binary(_ops.SUB, other, self)

    def __mul__(self, other):
        return binary(_ops.MUL, self, other)

    def __rmul__(self, other):
        return binary(_ops.MUL, other, self)

    def __truediv__(self, other):
        return binary(_ops.DIV, self, other)

    def __rtruediv__(self, other):
        return binary(_ops.DIV, other, self)

    def __pow__(self, other):
        return binary(_ops.POW, self, other)

    def __rpow__(self, other):
        return binary(_ops.POW, other, self)

    def __matmul__(self, other):
        return binary(_ops.MATMUL, self, other)

    def __rmatmul__(self, other):
        return binary(_ops.MATMUL, other, self)

    def __neg__(self):
        return unary(_ops.NEG, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return unary(_ops.ABS, self)

    # comparisons give boolean tensors without gradients
    def __lt__(self, other):
        return _compare(np.less, self, other)

    def __le__(self, other):
        return _compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _compare(np.greater, self, other)

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other)

    def __eq__(self, other):
        return _compare(np.equal, self, other)

    def __ne__(self, other):
        return _compare(np.not_equal, self, other)

    def __and__(self, other):
        return _compare(np.logical_and, self, other)

    def __or__(self, other):
        return _compare(np.logical_or, self, other)

    def __invert__(self):
        if self.data.dtype != np.bool_:
            raise TypeError(f"~ needs a boolean tensor, got {self.data.dtype}")
        return _wrap(_traced(np.logical_not, self.data), None)

    # ------------------------------------------------------------- in place
    def _inplace(self, what):
        if self.requires_grad and mode.grad_enabled:
            if self._node is None:
                raise BackwardError(
                    f"{what}: a leaf tensor that requires grad cannot be changed in place "
                    "while gradients are recorded; wrap the update in `with cr.no_grad():`"
                )
            return False  # a recorded intermediate: fall back to a new tensor
        node = self._node
        if node is not None and node.out is self.data:
            node.out = node.out.copy()  # its op's backward may use the output: keep the original
        self._version += 1
        return True

    def _modify(self, what, fn, value, fallback=None):
        """``self.data = fn(self.data, value)``, in place, with the version bumped. A
        recorded intermediate gets ``fallback(self, value)`` (a new tensor) instead, or an
        error when there is no fallback."""
        if not self._inplace(what):
            if fallback is None:
                _no_inplace(what)
            return fallback(self, value)
        self.data = _traced(fn, self.data, _plain(value))
        return self

    def __iadd__(self, other):
        return self._modify("+=", _iadd, other, Tensor.__add__)

    def __isub__(self, other):
        return self._modify("-=", _isub, other, Tensor.__sub__)

    def __imul__(self, other):
        return self._modify("*=", _imul, other, Tensor.__mul__)

    def __itruediv__(self, other):
        return self._modify("/=", _idiv, other, Tensor.__truediv__)

    def __setitem__(self, index, value):
        if not self._inplace("item assignment"):
            raise BackwardError(
                "item assignment into a tensor that is part of a recorded graph is not "
                "supported; build a new tensor (e.g. with cr.where) instead"
            )
        _traced(_setitem, self.data, _index(index), _plain(value))

    def add_(self, other, alpha=1):
        return self._modify("add_", _iadd, _scaled(other, alpha))

    def sub_(self, other, alpha=1):
        return self._modify("sub_", _isub, _scaled(other, alpha))

    def mul_(self, other):
        return self._modify("mul_", _imul, other)

    def div_(self, other):
        return self._modify("div_", _idiv, other)

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        return self._modify("fill_", _fill, value)

    def copy_(self, src):
        return self._modify("copy_", _fill, src)

    # --------------------------------------------------- functions as methods
    def exp(self):
        return unary(_ops.EXP, self)

    def log(self):
        return unary(_ops.LOG, self)

    def tanh(self):
        return unary(_ops.TANH, self)

    def sigmoid(self):
        return unary(_ops.SIGMOID, self)

    def relu(self):
        return unary(_ops.RELU, self)

    def sin(self):
        return unary(_ops.SIN, self)

    def cos(self):
        return unary(_ops.COS, self)

    def tan(self):
        return unary(_ops.TAN, self)

    def sqrt(self):
        return unary(_ops.SQRT, self)

    def abs(self):
        return unary(_ops.ABS, self)

    def square(self):
        return binary(_ops.MUL, self, self)

    def clone(self):
        return unary(_ops.CLONE, self)

    def astype(self, dtype):
        return _ops.astype(self, dtype)

    def to(self, dtype):
        return _ops.astype(self, dtype)

    def float(self):
        return _ops.astype(self, np.float32)

    def double(self):
        return _ops.astype(self, np.float64)

    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.sum(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.mean(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.max(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.min(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def argmax(self, axis=None, *, dim=None):
        return _wrap(_traced(_argext, np.argmax, self.data, dim if dim is not None else axis), None)

    def argmin(self, axis=None, *, dim=None):
        return _wrap(_traced(_argext, np.argmin, self.data, dim if dim is not None else axis), None)

    def reshape(self, *shape):
        return _ops.reshape(self, *shape)

    view = reshape

    def flatten(self):
        return _ops.reshape(self, -1)

    def squeeze(self, axis=None, *, dim=None):
        return _ops.squeeze(self, axis, dim=dim)

    def unsqueeze(self, dim):
        return _ops.expand_dims(self, dim)

    def expand_dims(self, axis):
        return _ops.expand_dims(self, axis)

    def transpose(self, *axes):
        return _ops.transpose(self, *axes)

    def permute(self, *dims):
        return _ops.transpose(self, *dims)

    def swapaxes(self, axis1, axis2):
        return _ops.swapaxes(self, axis1, axis2)

    def broadcast_to(self, shape):
        return _ops.broadcast_to(self, shape)

    def clip(self, min=None, max=None):
        return _ops.clip(self, min, max)

    clamp = clip

    def maximum(self, other):
        return binary(_ops.MAXIMUM, self, other)

    def minimum(self, other):
        return binary(_ops.MINIMUM, self, other)

    def softmax(self, axis=-1, *, dim=None):
        return _ops.softmax(self, axis, dim=dim)

    def log_softmax(self, axis=-1, *, dim=None):
        return _ops.log_softmax(self, axis, dim=dim)

    def __getitem__(self, index):
        return unary(_ops.GETITEM, self, _index(index))


def _iadd(a, b):
    a += b
    return a


def _isub(a, b):
    a -= b
    return a


def _imul(a, b):
    a *= b
    return a


def _idiv(a, b):
    a /= b
    return a


def _setitem(a, index, value):
    a[index] = value
    return a


def _fill(a, value):
    a[...] = value
    return a


def _scaled(x, alpha):
    return _plain(x) if alpha == 1 else _traced(np.multiply, alpha, _plain(x))


def _argext(fn, x, axis):
    return _asarray(fn(x, axis=axis))


def _plain(x):
    return x.data if isinstance(x, Tensor) else x


def _no_inplace(what):
    raise BackwardError(
        f"{what}: in-place change of a tensor that is part of a recorded graph is not "
        "supported; write x = x + y, or wrap the update in `with cr.no_grad():`"
    )


def _index(index):
    """Turn Tensors inside an index into arrays; lists become integer/boolean arrays."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


from . import autograd as _autograd  # noqa: E402  (circular: both use Tensor)
from . import ops as _ops  # noqa: E402
