"""The primitives: each op's NumPy forward beside its vector-Jacobian products.

Read this file like the text's equations. ``g`` is the gradient arriving at an op's
output, ``out`` the op's output, and each VJP returns the gradient for one input: the
chain rule ``dE/dx = dE/dy · dy/dx`` one op at a time (tanh: ``g * (1 - out*out)``,
eq. 5.7's ``f'(h) = 1 − f(h)²``). The engine sums gradients back to each input's shape
after broadcasting, and adds them where a value feeds several ops.

The VJPs call functions through ``F``: ``NP`` (NumPy, for a fast first-order backward) or
``TS`` (recorded Tensor ops, for ``create_graph=True``), so every formula is
differentiable again. Composite functions (squeeze, swapaxes, ...) are built from these
primitives and need no derivative of their own.
"""

from __future__ import annotations

import builtins
from types import SimpleNamespace

import numpy as np

from .errors import ShapeError
from .graph import Op
from .tensor import Tensor, _asarray, _index, _wrap, apply, as_array, binary, unary

OPS: dict[str, Op] = {}  # the registry: every primitive; the test suite checks each one


def defop(name, forward, *vjps, variadic=False):
    op = Op(name, forward, vjps, variadic=variadic)
    OPS[name] = op
    return op


# ------------------------------------------------------------------------- helpers
def _sum_to(x, shape):
    """Sum a broadcast result back to ``shape`` (the one place broadcasting is undone)."""
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    return np.add.reduce(x, axes, None, None, True).reshape(shape)


def _scatter(g, shape, index):
    """Zeros of ``shape`` with ``g`` added at ``index`` (the VJP of indexing)."""
    out = np.zeros_like(g, shape=shape, order="C")  # *_like: a stand-in g answers it
    if _has_int_array(index):
        np.add.at(out, index, g)  # repeated indices must add up
    else:
        out[index] = g
    return out


def _has_int_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


def _unreduce(F, g, shape, axis, keepdims):
    """Broadcast the gradient of a reduction back over the reduced axes."""
    if not keepdims:
        keep = tuple(1 if axis is None or i in axis else s for i, s in enumerate(shape))
        g = F.reshape(g, keep)
    return F.broadcast_to(g, shape)


def _count(shape, axis):
    """How many elements a reduction over ``axis`` (None: all) combines."""
    n = 1
    for i, s in enumerate(shape):
        if axis is None or i in axis:
            n *= s
    return n


def _mean(x, axis, keepdims):
    if x.dtype.kind == "f" and x.dtype.itemsize >= 4:  # np.mean's work, without its wrapper
        return _add(x, axis, None, None, keepdims) / _count(x.shape, axis)
    return np.mean(x, axis=axis, keepdims=keepdims)


def _stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softmax(x, axis):
    e = np.exp(x - _max(x, axis, True))
    return e / _add(e, axis, None, None, True)


def _log_softmax(x, axis):
    s = x - _max(x, axis, True)
    return s - np.log(_add(np.exp(s), axis, None, None, True))


# np.sum, np.max and np.min call these after a layer of Python; the ops call them directly
_add, _maximum, _minimum = np.add.reduce, np.maximum.reduce, np.minimum.reduce


def _max(x, axis, keepdims):
    return _maximum(x, axis, None, None, keepdims)


def _min(x, axis, keepdims):
    return _minimum(x, axis, None, None, keepdims)


def _squeeze_last(F, x):
    return F.reshape(x, x.shape[:-1])


def _matmul_vjp_a(F, g, out, a, b):
    if b.ndim == 1:
        if a.ndim == 1:
            return g * b
        return F.expand_dims(g, -1) * b  # (..., n, 1) * (k,)
    if a.ndim == 1:
        return _squeeze_last(F, b @ F.expand_dims(g, -1))  # (..., k, m) @ (..., m, 1)
    return g @ F.swapaxes(b, -1, -2)


def _matmul_vjp_b(F, g, out, a, b):
    if a.ndim == 1:
        if b.ndim == 1:
            return g * a
        return F.expand_dims(a, -1) * F.expand_dims(g, -2)  # (k, 1) * (..., 1, m)
    if b.ndim == 1:
        return _squeeze_last(F, F.swapaxes(a, -1, -2) @ F.expand_dims(g, -1))
    return F.swapaxes(a, -1, -2) @ g


def _linear(x, w, b=None):
    out = x @ w.T
    if b is None:
        return out
    if out.dtype == np.result_type(out, b):
        out += b  # in place: the step keeps one array per layer, not x@Wᵀ and x@Wᵀ + b
        return out
    return out + b


def _rows(F, a):
    """``a`` as a matrix of rows: the batch dimensions of a linear layer flattened."""
    return a if a.ndim == 2 else F.reshape(a, (-1, a.shape[-1]))


def _linear_vjp_w(F, g, out, x, w, b=None):
    return _rows(F, g).T @ _rows(F, x)  # Σ over the batch of g xᵀ, contiguous (out, in)


def _linear_vjp_b(F, g, out, x, w, b):
    return g if g.ndim == 1 else F.sum(g, tuple(range(g.ndim - 1)), False)


def _mse(x, t, reduction):
    d = x - t
    d = d * d
    if reduction == "none":
        return d
    s = np.add.reduce(d, None)
    return _asarray(s / d.size if reduction == "mean" else s)


def _mse_vjp(F, g, out, x, t, reduction):
    """d/dy of (y − t)², times ``g`` (and 1/n for the mean): the text's δ = y − t, doubled."""
    scale = 2.0 / _count(x.shape, None) if reduction == "mean" else 2.0
    return (g * scale) * (x - t)


def _concat_vjp(F, g, out, i, xs, axis):
    start = builtins.sum(xs[j].shape[axis] for j in range(i))
    index = (slice(None),) * axis + (slice(start, start + xs[i].shape[axis]),)
    return F.getitem(g, index)


def _stack_vjp(F, g, out, i, xs, axis):
    return F.getitem(g, (slice(None),) * axis + (i,))


def _clip_vjp(F, g, out, x, lo, hi):
    if lo is not None:
        g = g * (x >= lo)
    if hi is not None:
        g = g * (x <= hi)
    return g


def _pow_vjp_base(F, g, out, a, b):
    return g * b * a ** (b - 1)


def _pow_vjp_exponent(F, g, out, a, b):
    positive = a > 0  # d(a**b)/db = a**b log a, taken as 0 where a <= 0
    return F.where(positive, g * out * F.log(F.where(positive, a, 1)), 0)


# ---------------------------------------------------------------------- the table
# elementwise
NEG = defop("neg", np.negative, lambda F, g, out, x: -g)
EXP = defop("exp", np.exp, lambda F, g, out, x: g * out)
LOG = defop("log", np.log, lambda F, g, out, x: g / x)
TANH = defop("tanh", np.tanh, lambda F, g, out, x: g * (1 - out * out))
SIGMOID = defop("sigmoid", _stable_sigmoid, lambda F, g, out, x: g * out * (1 - out))
RELU = defop("relu", lambda x: np.maximum(x, 0), lambda F, g, out, x: g * (x > 0))
SIN = defop("sin", np.sin, lambda F, g, out, x: g * F.cos(x))
COS = defop("cos", np.cos, lambda F, g, out, x: -g * F.sin(x))
TAN = defop("tan", np.tan, lambda F, g, out, x: g * (1 + out * out))
SQRT = defop("sqrt", np.sqrt, lambda F, g, out, x: g / (2 * out))
ABS = defop("abs", np.abs, lambda F, g, out, x: g * F.sign(x))
CLONE = defop("clone", np.copy, lambda F, g, out, x: g)
ASTYPE = defop("astype", lambda x, dtype: x.astype(dtype),
               lambda F, g, out, x, dtype: g.astype(x.dtype))
CLIP = defop("clip", lambda x, lo, hi: np.clip(x, lo, hi), _clip_vjp)

# binary, with broadcasting
ADD = defop("add", np.add, lambda F, g, out, a, b: g, lambda F, g, out, a, b: g)
SUB = defop("sub", np.subtract, lambda F, g, out, a, b: g, lambda F, g, out, a, b: -g)
MUL = defop("mul", np.multiply, lambda F, g, out, a, b: g * b, lambda F, g, out, a, b: g * a)
DIV = defop("div", np.true_divide,
            lambda F, g, out, a, b: g / b,
            lambda F, g, out, a, b: -g * out / b)
POW = defop("pow", np.power, _pow_vjp_base, _pow_vjp_exponent)
MATMUL = defop("matmul", np.matmul, _matmul_vjp_a, _matmul_vjp_b)
MSE_LOSS = defop("mse_loss", _mse, _mse_vjp,  # (y − t)², mean/sum/none, fused: one node
                 lambda F, g, out, x, t, reduction: -_mse_vjp(F, g, out, x, t, reduction))
LINEAR = defop("linear", _linear,  # x @ Wᵀ + b, fused: a layer is one node (b optional)
               lambda F, g, out, x, w, b=None: g @ w, _linear_vjp_w, _linear_vjp_b)
MAXIMUM = defop("maximum", np.maximum,
                lambda F, g, out, a, b: g * (a > b) + 0.5 * g * (a == b),
                lambda F, g, out, a, b: g * (b > a) + 0.5 * g * (a == b))
MINIMUM = defop("minimum", np.minimum,
                lambda F, g, out, a, b: g * (a < b) + 0.5 * g * (a == b),
                lambda F, g, out, a, b: g * (b < a) + 0.5 * g * (a == b))
WHERE = defop("where", lambda a, b, cond: np.where(cond, a, b),
              lambda F, g, out, a, b, cond: F.where(cond, g, 0),
              lambda F, g, out, a, b, cond: F.where(cond, 0, g))

# reductions (axis is None or a sorted tuple of non-negative ints)
SUM = defop("sum", lambda x, axis, keepdims: _asarray(_add(x, axis, None, None, keepdims)),
            lambda F, g, out, x, axis, keepdims: _unreduce(F, g, x.shape, axis, keepdims))
MEAN = defop("mean", lambda x, axis, keepdims: _asarray(_mean(x, axis, keepdims)),
             lambda F, g, out, x, axis, keepdims:
                 _unreduce(F, g / _count(x.shape, axis), x.shape, axis, keepdims))
MAX = defop("max", lambda x, axis, keepdims: _asarray(_max(x, axis, keepdims)),
            lambda F, g, out, x, axis, keepdims: _extreme_vjp(F, g, out, x, axis, keepdims))
MIN = defop("min", lambda x, axis, keepdims: _asarray(_min(x, axis, keepdims)),
            lambda F, g, out, x, axis, keepdims: _extreme_vjp(F, g, out, x, axis, keepdims))
SOFTMAX = defop("softmax", _softmax,
                lambda F, g, out, x, axis: out * (g - F.sum(g * out, (axis,), True)))
LOG_SOFTMAX = defop("log_softmax", _log_softmax,
                    lambda F, g, out, x, axis: g - F.exp(out) * F.sum(g, (axis,), True))

# shapes and indexing
RESHAPE = defop("reshape", np.reshape, lambda F, g, out, x, shape: F.reshape(g, x.shape))
TRANSPOSE = defop("transpose", np.transpose,
                  lambda F, g, out, x, axes: F.transpose(g, tuple(np.argsort(axes))))
BROADCAST_TO = defop("broadcast_to", np.broadcast_to,
                     lambda F, g, out, x, shape: F.sum_to(g, x.shape))
SUM_TO = defop("sum_to", _sum_to, lambda F, g, out, x, shape: F.broadcast_to(g, x.shape))
GETITEM = defop("getitem", lambda x, index: x[index],
                lambda F, g, out, x, index: F.scatter(g, x.shape, index))
SCATTER = defop("scatter", _scatter, lambda F, g, out, x, shape, index: F.getitem(g, index))
CONCATENATE = defop("concatenate", lambda xs, axis: np.concatenate(xs, axis=axis), _concat_vjp,
                    variadic=True)
STACK = defop("stack", lambda xs, axis: np.stack(xs, axis=axis), _stack_vjp, variadic=True)


def _extreme_vjp(F, g, out, x, axis, keepdims):
    """max/min: the gradient goes to the elements equal to the extreme, shared among ties."""
    out_b = _unreduce(F, out, x.shape, axis, keepdims)
    hit = x == out_b
    count = F.sum(hit, axis, True).astype(g.dtype)
    return _unreduce(F, g, x.shape, axis, keepdims) * hit / F.broadcast_to(count, x.shape)


# ------------------------------------------------------------- argument handling
def _t(x, where):
    return x if isinstance(x, Tensor) else _wrap(as_array(x, where=where), None)


def _axes(where, x, axis, dim):
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{where}: pass axis= or dim=, not both")
        axis = dim
    if axis is None:
        return None
    nd = x.ndim
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{where}: axis must be an int or a tuple of ints, got {a!r}")
        if not -nd <= a < nd:
            raise _axis_error(where, a, x.shape)
        a = int(a) % builtins.max(nd, 1)
        if a in out:
            raise ValueError(f"{where}: axis {a} repeated in {axis!r}")
        out.append(a)
    return tuple(sorted(out))


def _axis_error(where, a, shape):
    return ShapeError(f"{where}: axis {a} is out of range for a tensor of shape {shape}")


def _one_axis(where, x, axis, dim):
    ax = _axes(where, x, axis, dim)
    if ax is None or len(ax) != 1:
        raise TypeError(f"{where}: needs exactly one axis, got {axis if dim is None else dim!r}")
    return ax[0]


def _keep(keepdims, keepdim):
    return bool(keepdim if keepdim is not None else keepdims)


# --------------------------------------------------------------- public functions
def neg(x):
    """-x, elementwise."""
    return unary(NEG, _t(x, "neg"))


def exp(x):
    """e**x, elementwise."""
    return unary(EXP, _t(x, "exp"))


def log(x):
    """Natural logarithm, elementwise."""
    return unary(LOG, _t(x, "log"))


def tanh(x):
    """Hyperbolic tangent; its derivative is 1 − tanh² (the text's eq. 5.7)."""
    return unary(TANH, _t(x, "tanh"))


def sigmoid(x):
    """Logistic sigmoid 1 / (1 + e^−x), computed without overflow for any x."""
    return unary(SIGMOID, _t(x, "sigmoid"))


def relu(x):
    """max(x, 0), elementwise (derivative 0 at 0)."""
    return unary(RELU, _t(x, "relu"))


def sin(x):
    """Sine, elementwise."""
    return unary(SIN, _t(x, "sin"))


def cos(x):
    """Cosine, elementwise."""
    return unary(COS, _t(x, "cos"))


def tan(x):
    """Tangent, elementwise."""
    return unary(TAN, _t(x, "tan"))


def sqrt(x):
    """Square root, elementwise."""
    return unary(SQRT, _t(x, "sqrt"))


def abs(x):  # noqa: A001 (mirrors numpy/torch)
    """Absolute value, elementwise (derivative sign(x), 0 at 0)."""
    return unary(ABS, _t(x, "abs"))


def clone(x):
    """A copy of x that stays in the graph."""
    return unary(CLONE, _t(x, "clone"))


def astype(x, dtype):
    """x converted to ``dtype``; gradients convert back."""
    x = _t(x, "astype")
    dtype = np.dtype(dtype)
    if dtype == x.dtype:
        return x
    return unary(ASTYPE, x, dtype)


def add(a, b):
    """a + b with broadcasting."""
    return binary(ADD, a, b)


def sub(a, b):
    """a − b with broadcasting."""
    return binary(SUB, a, b)


def mul(a, b):
    """a * b with broadcasting."""
    return binary(MUL, a, b)


def div(a, b):
    """a / b with broadcasting."""
    return binary(DIV, a, b)


def pow(a, b):  # noqa: A001
    """a ** b with broadcasting."""
    return binary(POW, a, b)


def matmul(a, b):
    """Matrix product with NumPy's rules (1-D vectors and stacked batches included)."""
    return binary(MATMUL, a, b)


def maximum(a, b):
    """Elementwise maximum (ties share the gradient equally)."""
    return binary(MAXIMUM, a, b)


def minimum(a, b):
    """Elementwise minimum (ties share the gradient equally)."""
    return binary(MINIMUM, a, b)


def where(cond, a, b):
    """Elements of ``a`` where ``cond`` is true, of ``b`` elsewhere (broadcast)."""
    c = as_array(cond.data if isinstance(cond, Tensor) else cond, where="where")
    if c.dtype != np.bool_:
        c = c.astype(bool)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = _t(a, "where")
    return apply(WHERE, (a, b), c)


def clip(x, min=None, max=None):  # noqa: A002
    """Limit x to [min, max]; the gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    return unary(CLIP, _t(x, "clip"), _plain_bound(min), _plain_bound(max))


clamp = clip


def _plain_bound(v):
    if isinstance(v, Tensor):
        return v.data
    return v


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """Sum over ``axis`` (an int, a tuple, or None for all); PyTorch's dim/keepdim also work."""
    x = _t(x, "sum")
    return unary(SUM, x, _axes("sum", x, axis, dim), _keep(keepdims, keepdim))


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Mean over ``axis``."""
    x = _t(x, "mean")
    return unary(MEAN, x, _axes("mean", x, axis, dim), _keep(keepdims, keepdim))


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """Largest value over ``axis`` (values only, like NumPy's ``max``; ties share the
    gradient). Use ``argmax`` for the positions."""
    x = _t(x, "max")
    return unary(MAX, x, _axes("max", x, axis, dim), _keep(keepdims, keepdim))


def min(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """Smallest value over ``axis`` (values only; ties share the gradient)."""
    x = _t(x, "min")
    return unary(MIN, x, _axes("min", x, axis, dim), _keep(keepdims, keepdim))


def softmax(x, axis=-1, *, dim=None):
    """exp(x) / Σ exp(x) along ``axis``, computed stably (shifted by the max)."""
    x = _t(x, "softmax")
    return unary(SOFTMAX, x, _one_axis("softmax", x, axis if dim is None else None, dim))


def log_softmax(x, axis=-1, *, dim=None):
    """x − log Σ exp(x) along ``axis``, computed stably (no overflow at ±1000)."""
    x = _t(x, "log_softmax")
    return unary(LOG_SOFTMAX, x, _one_axis("log_softmax", x, axis if dim is None else None, dim))


def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """log Σ exp(x) over ``axis``, stable; built from max, exp, sum and log."""
    x = _t(x, "logsumexp")
    ax = _axes("logsumexp", x, axis, dim)
    m = max(x, ax, True).detach()
    out = log(sum(exp(x - m), ax, True)) + m
    return out if _keep(keepdims, keepdim) else reshape(out, _reduced_shape(x.shape, ax))


def _reduced_shape(shape, axis):
    return tuple(s for i, s in enumerate(shape) if not (axis is None or i in axis))


def reshape(x, *shape):
    """The same elements in a new shape (one dimension may be -1)."""
    x = _t(x, "reshape")
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    shape = tuple(int(s) for s in shape)
    if shape == x.shape:
        return x
    return unary(RESHAPE, x, shape)


def transpose(x, *axes):
    """Permute axes: no argument reverses them (NumPy's ``.T``); a full permutation permutes
    (NumPy); two axes of a tensor with more than two dimensions swap them (PyTorch)."""
    x = _t(x, "transpose")
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    nd = x.ndim
    if not axes:
        axes = tuple(range(nd - 1, -1, -1))
    elif len(axes) == 2 and nd != 2:
        return swapaxes(x, *axes)
    if sorted(a % nd if nd else a for a in axes) != list(range(nd)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of {nd} axes")
    axes = tuple(a % nd for a in axes)
    if axes == tuple(range(nd)):
        return x
    return unary(TRANSPOSE, x, axes)


def swapaxes(x, axis1, axis2):
    """Exchange two axes."""
    x = _t(x, "swapaxes")
    nd = x.ndim
    for a in (axis1, axis2):
        if not -nd <= a < nd:
            raise _axis_error("swapaxes", a, x.shape)
    perm = list(range(nd))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(x, tuple(perm))


def expand_dims(x, axis):
    """Insert a length-1 axis at ``axis`` (PyTorch's ``unsqueeze``)."""
    x = _t(x, "expand_dims")
    nd = x.ndim + 1
    if not -nd <= axis < nd:
        raise _axis_error("expand_dims", axis, x.shape)
    axis %= nd
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


unsqueeze = expand_dims


def squeeze(x, axis=None, *, dim=None):
    """Remove length-1 axes (all, or those in ``axis``)."""
    x = _t(x, "squeeze")
    ax = _axes("squeeze", x, axis, dim)
    if ax is not None:
        for a in ax:
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {x.shape} has length {x.shape[a]}")
    keep = tuple(s for i, s in enumerate(x.shape) if not (s == 1 and (ax is None or i in ax)))
    return reshape(x, keep)


def broadcast_to(x, shape):
    """x repeated to ``shape`` by NumPy's broadcasting rules (a read-only view)."""
    x = _t(x, "broadcast_to")
    shape = tuple(shape)
    if shape == x.shape:
        return x
    return unary(BROADCAST_TO, x, shape)


def sum_to(x, shape):
    """Sum x down to ``shape``: undoes broadcasting (the VJP of ``broadcast_to``)."""
    x = _t(x, "sum_to")
    shape = tuple(shape)
    if shape == x.shape:
        return x
    return unary(SUM_TO, x, shape)


def scatter(x, shape, index):
    """Zeros of ``shape`` with x added at ``index`` (repeated indices add up)."""
    return unary(SCATTER, _t(x, "scatter"), tuple(shape), _index(index))


def getitem(x, index):
    return _t(x, "getitem")[index]


def concatenate(tensors, axis=0, *, dim=None):
    """Join tensors along an existing axis (PyTorch's ``cat``)."""
    xs = _seq("concatenate", tensors)
    axis = _one_axis("concatenate", xs[0], axis if dim is None else None, dim)
    return apply(CONCATENATE, xs, axis)


cat = concatenate


def stack(tensors, axis=0, *, dim=None):
    """Join tensors along a new axis."""
    xs = _seq("stack", tensors)
    nd = xs[0].ndim + 1
    axis = axis if dim is None else dim
    if not -nd <= axis < nd:
        raise _axis_error("stack", axis, xs[0].shape + (1,))
    return apply(STACK, xs, axis % nd)


def _seq(where, tensors):
    if isinstance(tensors, (Tensor, np.ndarray)) or not hasattr(tensors, "__iter__"):
        raise TypeError(
            f"{where}: expected a list or tuple of tensors, got {type(tensors).__name__}"
        )
    xs = [_t(x, where) for x in tensors]
    if not xs:
        raise ValueError(f"{where}: needs at least one tensor")
    return xs


def sign(x):
    """Sign of x, elementwise (a constant: no gradient)."""
    return _wrap(np.sign(_t(x, "sign").data), None)


# ------------------------------------------------------------- the two namespaces
def _np_sum(x, axis, keepdims):
    return np.add.reduce(x, axis, None, None, keepdims)  # np.sum's work, without its wrapper


def _np_broadcast_to(x, shape):
    """``np.broadcast_to``, copied out when small: a read-only view costs more to make."""
    if _count(shape, None) > 4096:
        return np.broadcast_to(x, shape)
    out = np.empty_like(x, shape=shape, order="C")
    out[...] = x
    return out


NP = SimpleNamespace(
    exp=np.exp, log=np.log, sin=np.sin, cos=np.cos, sign=np.sign, where=np.where,
    sum=_np_sum, reshape=np.reshape, transpose=np.transpose, swapaxes=np.swapaxes,
    expand_dims=np.expand_dims, broadcast_to=_np_broadcast_to, sum_to=_sum_to,
    getitem=lambda x, index: x[index], scatter=_scatter,
)

TS = SimpleNamespace(
    exp=exp, log=log, sin=sin, cos=cos, sign=sign, where=where,
    sum=sum, reshape=reshape, transpose=transpose, swapaxes=swapaxes,
    expand_dims=expand_dims, broadcast_to=broadcast_to, sum_to=sum_to,
    getitem=getitem, scatter=scatter,
)
