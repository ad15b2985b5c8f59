"""Tensor: a NumPy array that remembers how it was made.

Arithmetic is NumPy's (broadcasting, dtype promotion with Python numbers as "weak"
scalars, so a float32 tensor stays float32 when a Python float joins it). When grad mode
is on and an input requires grad, the result keeps a :class:`~chainrule.graph.Node`;
``backward()`` walks those nodes in reverse (see ``autograd.py``).
"""

from __future__ import annotations

import numpy as np

from .errors import BackwardError, ShapeError
from .graph import Node, defaults, mode

_NUMBER = (int, float, np.number, np.bool_)
_new = object.__new__
_ndarray = np.ndarray
# True once an array of another library (CuPy, array_api_strict, ...) has entered a tensor:
# until then every op takes NumPy's path without looking at its inputs' types
_FOREIGN = False


def _adopt(x):
    """Note that ``x``, an array of another library, enters the engine; returns it."""
    global _FOREIGN
    _FOREIGN = True
    return x


def _is_foreign(x):
    return _FOREIGN and type(x) is not _ndarray and _backend.of(x) is not None
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
    elif not isinstance(data, (np.ndarray, np.generic, list, tuple, int, float, bool)) \
            and _backend._is_array(data) and _backend.of(data) is not None:
        b = _backend.of(data)
        if dtype is not None or copy:
            data = b.xp.asarray(data, dtype=None if dtype is None else b.dtype(dtype),
                                copy=True if copy else None)
        _check_dtype(_Kind(b.np_dtype(data.dtype)), where)
        return _adopt(data)
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


class _Kind:
    """A dtype's stand-in for ``_check_dtype`` (a native dtype of another library)."""

    def __init__(self, dtype):
        self.dtype = dtype


def _const(x, where):
    """An operand that is not a Tensor. Python numbers stay Python numbers (NumPy's weak
    scalars keep the tensor's dtype); arrays and lists become arrays."""
    if isinstance(x, (int, float, np.ndarray, StandIn)):
        return x
    if isinstance(x, (np.generic, list, tuple)):
        return as_array(x, where=where)
    if _backend._is_array(x) and _backend.of(x) is not None:
        return _adopt(x)
    raise TypeError(
        f"{where}: unsupported operand type {type(x).__name__}; expected a Tensor, a NumPy "
        "array or a Python number"
    )


def _wrap(out, node):
    """A Tensor around ``out`` made by ``node`` (None: a constant), without __init__'s checks."""
    t = _new(Tensor)
    t.data = out
    t._grad = None
    t._requires_grad = node is not None
    t._node = node
    t._version = 0
    t.name = None
    return t


def _fail(op, arrays, params, err):
    if isinstance(err, _backend.DeviceError):
        return err
    shapes = " and ".join(str(np.shape(a)) for a in arrays)
    msg = f"{op.name}: cannot apply to input shapes {shapes}: {err}"
    if isinstance(err, IndexError):
        return IndexError(msg)
    if isinstance(err, ValueError):
        return ShapeError(msg)
    return TypeError(msg)


def _result(op, out, inputs, params, versions):
    """What every op returns (``unary``, ``binary`` and ``apply`` end here): ``out`` as a
    Tensor, recorded as ``op(*inputs, *params)`` when ``inputs`` is given (an input requires
    grad) and grad mode is on."""
    if defaults.plain:  # every thread has the default modes: record, no checks
        return _wrap(out, None if inputs is None else Node(op, inputs, out, params, versions))
    m = mode  # some thread switched a mode: this thread's own switches decide
    record = inputs is not None and m._grad_enabled
    t = _wrap(out, Node(op, inputs, out, params, versions) if record else None)
    if m._anomaly:
        _autograd._anomaly_forward(op, t)
    return t


def unary(op, x, *params):
    """Apply a one-input op to Tensor ``x`` (recording it when needed)."""
    xd = x.data
    try:
        if not _FOREIGN or type(xd) is _ndarray:
            out = op.forward(xd, *params)
        else:
            out = _backend.forward(op, (xd,), params)
    except (ValueError, IndexError, TypeError) as e:
        raise _fail(op, (xd,), params, e) from None
    if x._requires_grad:
        return _result(op, out, [x], params, (x._version,))
    return _result(op, out, None, None, None)


def binary(op, a, b):
    """Apply a two-input op; either input may be a constant (array or Python number)."""
    if isinstance(a, Tensor):
        ad, ra, va = a.data, a._requires_grad, a._version
    else:
        ad, ra, va = _const(a, op.name), False, 0
    if isinstance(b, Tensor):
        bd, rb, vb = b.data, b._requires_grad, b._version
    else:
        bd, rb, vb = _const(b, op.name), False, 0
    try:
        if not _FOREIGN:
            out = op.forward(ad, bd)
        else:
            out = _backend.forward(op, (ad, bd), ())
    except (ValueError, IndexError, TypeError) as e:
        raise _fail(op, (ad, bd), (), e) from None
    if ra or rb:
        return _result(op, out, [a, b], (), (va, vb))
    return _result(op, out, None, None, None)


def apply(op, inputs, *params):
    """Apply any op to a tuple of inputs (Tensors or constants)."""
    datas = []
    versions = []
    record = False
    for x in inputs:
        if isinstance(x, Tensor):
            datas.append(x.data)
            versions.append(x._version)
            record = record or x._requires_grad
        else:
            datas.append(_const(x, op.name))
            versions.append(0)
    try:
        if _FOREIGN:
            out = _backend.forward(op, datas, params)
        elif op.variadic:
            out = op.forward(datas, *params)
        else:
            out = op.forward(*datas, *params)
    except (ValueError, IndexError, TypeError) as e:
        raise _fail(op, datas, params, e) from None
    if record:
        return _result(op, out, list(inputs), params, tuple(versions))
    return _result(op, out, None, None, None)


def _compare(ufunc, a, b):
    bd = b.data if isinstance(b, Tensor) else b
    if not isinstance(bd, _NUMBER + (np.ndarray, list, tuple, StandIn)) \
            and not (_FOREIGN and _backend._is_array(bd)):
        return NotImplemented
    if _FOREIGN:
        b = _backend.common(ufunc.__name__, (a.data, bd))
        if b is not None:
            return _wrap(getattr(b.xp, ufunc.__name__)(*b.promote(a.data, bd)), None)
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

    Examples
    --------
    >>> x = cr.tensor([[1.0, 2.0]], requires_grad=True)    # cr.tensor copies; Tensor(a) does not
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad                                             # d(Σ x²)/dx = 2x
    tensor([[2., 4.]])
    >>> x.shape, x.dtype, y.item(), x.T.shape
    ((1, 2), dtype('float64'), 5.0, (2, 1))
    """

    # the per-op path reads these plain slots; ``requires_grad`` and ``grad`` are checked
    # properties over ``_requires_grad`` and ``_grad``
    __slots__ = ("data", "_grad", "_requires_grad", "_node", "_version", "name", "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operators
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = as_array(data, dtype=dtype, where="Tensor")
        self._grad = None
        self._requires_grad = False
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
        """The NumPy dtype of the data (also for another library's array)."""
        d = self.data.dtype
        return d if not _FOREIGN or isinstance(d, np.dtype) else _native(self.data).np_dtype(d)

    @property
    def device(self):
        """Where the data lives: ``"cpu"`` for NumPy, ``"cuda:0"`` for CuPy, else the
        library and its device (``"array_api_strict:device1"``).

        Examples
        --------
        >>> cr.tensor([1.0]).device
        'cpu'
        """
        b = _backend.of(self.data) if _FOREIGN else None
        return "cpu" if b is None else b.describe(self.data)

    def cpu(self):
        """This tensor with its data on the host (NumPy); itself when it is there already.

        Examples
        --------
        >>> x = cr.tensor([1.0])
        >>> x.cpu() is x
        True
        """
        return _ops.to_host(self) if _is_foreign(self.data) else self

    def _host(self, what):
        data = _read(self, what)
        if _is_foreign(data):
            raise TypeError(
                f"{what} needs the data on the host, but this tensor is on {self.device}; "
                "call .cpu() first (an explicit copy)")
        return data

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
        return np.asarray(self._host(".numpy()"))

    def item(self):
        if self.data.size != 1:
            raise ValueError(
                f"item(): only a one-element tensor converts to a Python number, "
                f"this one has shape {self.shape}"
            )
        return self._scalar(".item()")

    def _scalar(self, what):
        data = _read(self, what)
        return data.item() if not _is_foreign(data) else _native(data).to_host(data).item()

    def tolist(self):
        return np.asarray(self._host(".tolist()")).tolist()

    def __array__(self, dtype=None, copy=None):
        arr = np.asarray(self._host("np.asarray(tensor)"))
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
        return float(self._scalar("float(tensor)"))

    def __int__(self):
        return int(self._scalar("int(tensor)"))

    def any(self):
        return bool(np.any(_read(self, ".any()")))

    def all(self):
        return bool(np.all(_read(self, ".all()")))

    __hash__ = object.__hash__  # identity, although == compares elementwise

    def __repr__(self):
        data = self.data
        if _is_foreign(data):
            data = _native(data).to_host(data)
        body = np.array2string(
            np.asarray(data), separator=", ", prefix="tensor(", precision=4, threshold=200
        )
        extra = ""
        if self.dtype not in (np.float64, np.int64, np.bool_):
            extra += f", dtype={self.dtype}"
        if data is not self.data:
            extra += f", device='{self.device}'"
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
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f".grad must be a Tensor or None, got {type(value).__name__}; wrap an "
                    "array with cr.tensor(...)"
                )
            if value.shape != self.shape:
                raise ShapeError(
                    f".grad must have its tensor's shape {self.shape}, got {value.shape}"
                )
            if value.dtype != self.dtype:
                raise TypeError(
                    f".grad must have its tensor's dtype {self.dtype}, got {value.dtype}; "
                    f"convert it with .astype(np.{self.dtype})"
                )
        self._grad = value

    @property
    def requires_grad(self):
        """Whether operations on this tensor are recorded (set it like ``requires_grad_``)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (floating-point tensors only); returns self."""
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, this one is "
                f"{self.dtype}; convert it first, e.g. cr.tensor(data, dtype=np.float64)"
            )
        if not requires_grad and self._node is not None:
            raise BackwardError(
                "requires_grad_(False) on a tensor computed from others; use .detach()"
            )
        self._requires_grad = bool(requires_grad)
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

    __rand__, __ror__ = __and__, __or__  # logical and/or are symmetric

    def __invert__(self):
        if self.dtype != np.bool_:
            raise TypeError(f"~ needs a boolean tensor, got {self.dtype}")
        if _is_foreign(self.data):
            return _wrap(_native(self.data).xp.logical_not(self.data), None)
        return _wrap(_traced(np.logical_not, self.data), None)

    # ------------------------------------------------------------- in place
    def _modify(self, what, op, kernel, value, *params):
        """``kernel(self.data, value, *params)``: change this tensor in place and bump its
        version. When grad mode is on and this tensor or ``value`` requires grad, the change
        is recorded as ``op``'s in-place variant on this same object (its node becomes
        ``op_(before, value)``), so every reference to it sees the new value and the new
        graph; a leaf that requires grad refuses (its ``.grad`` would lose its meaning)."""
        vt = isinstance(value, Tensor)
        node = self._node
        record = (self._requires_grad or vt and value._requires_grad) and mode.grad_enabled
        if record and node is None and self._requires_grad:
            raise BackwardError(
                f"{what}: a leaf tensor that requires grad cannot be changed in place "
                "while gradients are recorded; wrap the update in `with cr.no_grad():`"
            )
        if node is not None and node.out is self.data and node.op.reads_out:
            node.out = node.out.copy()  # its op's backward reads its output: keep the original
        if not record:
            self.data = _traced(kernel, self.data, _plain(value), *params)
            self._version += 1
            return self
        before = _wrap(self.data.copy() if 0 in op.reads else self.data, node)
        before._version = self._version
        vd, vv = (value.data, value._version) if vt else (_const(value, what), 0)
        try:
            out = _traced(kernel, self.data, vd, *params)
        except (ValueError, IndexError, TypeError) as e:
            raise _fail(op, (self.data, vd), params, e) from None
        self.data = out
        self._node = Node(op.in_place(), [before, value], out, params, (self._version, vv))
        self._version += 1
        self._requires_grad = True
        if mode.anomaly:
            _autograd._anomaly_forward(op, self)
        return self

    def _bump_version(self):
        """Mark this tensor as changed in place outside any op (an optimizer's update, a
        state dict loaded into it): a graph that used its old value then refuses to
        back-propagate through it."""
        self._version += 1

    def __iadd__(self, other):
        return self._modify("+=", _ops.ADD, _iadd, other)

    def __isub__(self, other):
        return self._modify("-=", _ops.SUB, _isub, other)

    def __imul__(self, other):
        return self._modify("*=", _ops.MUL, _imul, other)

    def __itruediv__(self, other):
        return self._modify("/=", _ops.DIV, _idiv, other)

    def __setitem__(self, index, value):
        self._modify("item assignment", _ops.SETITEM, _setitem, value, _index(index))

    def add_(self, other, alpha=1):
        return self._modify("add_", _ops.ADD, _iadd, _scaled(other, alpha))

    def sub_(self, other, alpha=1):
        return self._modify("sub_", _ops.SUB, _isub, _scaled(other, alpha))

    def mul_(self, other):
        return self._modify("mul_", _ops.MUL, _imul, other)

    def div_(self, other):
        return self._modify("div_", _ops.DIV, _idiv, other)

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        return self._modify("fill_", _ops.SETITEM, _setitem, value, ...)

    def copy_(self, src):
        return self._modify("copy_", _ops.SETITEM, _setitem, src, ...)

    # --------------------------------------------------- functions as methods
    # (each primitive's methods come from its ``defop`` in ops.py; these are composites)
    def square(self):
        return binary(_ops.MUL, self, self)

    def to(self, *args, dtype=None, device=None):
        """A dtype (``x.to(np.float32)``), a device (``x.to("cuda")``, ``x.to(other.device)``)
        or both, as PyTorch's ``Tensor.to``; recorded, so gradients flow back.

        Examples
        --------
        >>> cr.tensor([1.0]).to(np.float32).dtype, cr.tensor([1.0]).to("cpu").device
        (dtype('float32'), 'cpu')
        """
        device, dtype = _device_and_dtype(args, device, dtype)
        t = self
        if device is not None:
            t = _ops.to_device(t, device)
        if dtype is not None:
            t = _ops.astype(t, dtype)
        return t

    def float(self):
        return _ops.astype(self, np.float32)

    def double(self):
        return _ops.astype(self, np.float64)

    def argmax(self, axis=None, *, dim=None):
        return _wrap(_traced(_argext, np.argmax, self.data, dim if dim is not None else axis), None)

    def argmin(self, axis=None, *, dim=None):
        return _wrap(_traced(_argext, np.argmin, self.data, dim if dim is not None else axis), None)

    def flatten(self):
        return _ops.reshape(self, -1)

    def squeeze(self, axis=None, *, dim=None):
        return _ops.squeeze(self, axis, dim=dim)

    def unsqueeze(self, dim):
        return _ops.expand_dims(self, dim)

    def expand_dims(self, axis):
        return _ops.expand_dims(self, axis)

    def permute(self, *dims):
        """The axes in the order ``dims``, a full permutation (as PyTorch's ``permute``)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = dims[0]
        return _ops.transpose(self, tuple(dims))

    def swapaxes(self, axis1, axis2):
        return _ops.swapaxes(self, axis1, axis2)

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.logsumexp(self, axis, keepdims, dim=dim, keepdim=keepdim)


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


def _setitem(a, value, index):
    if _FOREIGN and type(a) is not _ndarray:
        b = _backend.common("item assignment", (a, value))
        if b is not None:
            return b.setitem(a, value, index)
    a[index] = value
    return a


def _native(x):
    return _backend.of(x)


def _device_and_dtype(args, device, dtype):
    """The device and dtype named by ``.to(*args)``'s arguments (as PyTorch reads them: a
    device, a dtype, both, or a tensor whose device and dtype to take)."""
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.data if _is_foreign(a.data) else "cpu", a.dtype
        elif _is_device(a):
            device = a
        else:
            dtype = a
    return device, dtype


def _is_device(d):
    """Whether ``d`` names a device (a string such as "cuda:0", or a library's device)."""
    if isinstance(d, str):
        return d == "cpu" or d.startswith("cuda") or ":" in d  # "array_api_strict:device1"
    return not isinstance(d, (type, np.dtype)) and type(d).__name__ in ("Device", "device")


def _scaled(x, alpha):
    if alpha == 1:
        return x
    return x * alpha if isinstance(x, Tensor) else _traced(np.multiply, alpha, x)


def _argext(fn, x, axis):
    return _asarray(fn(x, axis=axis))


def _plain(x):
    return x.data if isinstance(x, Tensor) else x


def _source(x, version):
    """What gave ``x`` its value at ``version``: its node, or ``x`` when it is a leaf that
    requires grad, or None (a constant). That is ``x``'s own node unless recorded in-place
    ops changed ``x`` since; then it is the node of the ``before`` that the first of them
    kept as its input, so an op that used ``x`` sends its gradient to the graph that made
    the value it used (also after a backward freed the in-place nodes)."""
    t, node, v = x, x._node, x._version
    while v != version and node is not None and node.op.inplace and node.versions[0] >= version:
        v = node.versions[0]
        before = node.inputs[0]
        if isinstance(before, Tensor):
            t, node = before, before._node
        else:  # a freed node keeps the node its input came from (or a constant)
            t, node = None, before if isinstance(before, Node) else None
    if node is not None:
        return node
    return t if t is not None and t._requires_grad else None


def _index(index):
    """Turn Tensors inside an index into arrays; lists become integer/boolean arrays."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


from . import autograd as _autograd  # noqa: E402
from . import backend as _backend  # noqa: E402  (circular: both use Tensor)
from . import ops as _ops  # noqa: E402
