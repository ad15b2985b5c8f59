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
import functools
from types import SimpleNamespace

import numpy as np

from . import backend as _backend
from . import kernels as K
from .errors import ShapeError
from .graph import Op
from .tensor import (
    StandIn,
    Tensor,
    _asarray,
    _index,
    _setitem,
    _traced,
    _wrap,
    apply,
    as_array,
    binary,
    unary,
)

OPS: dict[str, Op] = {}  # the registry: every primitive; the test suite checks each one


def defop(name, forward, *vjps, inputs="x", params="", reads="", method=True, export=True,
          ordered=None, variadic=False, generic=None):
    """Declare a primitive: its forward, one VJP per input, and its facts (see ``Op``).

    ``inputs``/``params``: space-separated names of the tensor inputs and of the other
    arguments. ``reads``: the inputs (and ``out``) whose values the VJPs read, not just their
    shapes. ``method``/``export``: the names of its Tensor methods and ``cr.*`` functions
    (True: the op's name; False: none), each the public function of the op's name below.
    ``ordered``: whether the inputs' order matters (default: more than one input).
    ``generic``: the forward for arrays of other libraries, ``generic(B, *arrays, *params)``
    with ``B`` a :class:`~chainrule.backend.Backend` (default: the array-API function of
    the NumPy forward's name, see ``_generic``).
    """
    inputs, params, reads = inputs.split(), params.split(), reads.split()
    unknown = set(reads) - set(inputs) - {"out"}
    if unknown:
        raise ValueError(f"defop {name}: reads names no input or out: {sorted(unknown)}")
    op = Op(name, forward, vjps, variadic=variadic, inputs=inputs, params=params,
            reads=[i for i, x in enumerate(inputs) if x in reads], reads_out="out" in reads,
            methods=_names(method, name), exports=_names(export, name),
            ordered=len(inputs) > 1 if ordered is None else ordered)
    op.generic = generic or _generic(forward)
    OPS[name] = op
    return op


# NumPy's name -> the array API's, where they differ
_API_NAMES = {"absolute": "abs", "true_divide": "divide", "power": "pow",
              "transpose": "permute_dims"}
_PROMOTED = {"add", "subtract", "multiply", "true_divide", "power", "maximum", "minimum"}


def _generic(forward):
    """The array-API forward of a NumPy function: the same function of ``B.xp`` (arithmetic
    with NumPy's promotion of booleans, see ``Backend.promote``)."""
    name = getattr(forward, "__name__", None)
    api = _API_NAMES.get(name, name)
    if name in _PROMOTED:
        return lambda B, a, b: getattr(B.xp, api)(*B.promote(a, b))
    return lambda B, *args: getattr(B.xp, api)(*args)


def _names(spec, name):
    return (name,) if spec is True else tuple(spec.split()) if spec else ()


# ------------------------------------------------------------------------- helpers
def _unreduce(F, g, shape, axis, keepdims):
    """Broadcast the gradient of a reduction back over the reduced axes."""
    if not keepdims:
        keep = tuple(1 if axis is None or i in axis else s for i, s in enumerate(shape))
        g = F.reshape(g, keep)
    return F.broadcast_to(g, shape)




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


def _rows(F, a):
    """``a`` as a matrix of rows: the batch dimensions of a linear layer flattened."""
    return a if a.ndim == 2 else F.reshape(a, (-1, a.shape[-1]))


def _linear_vjp_w(F, g, out, x, w, b=None):
    return _rows(F, g).T @ _rows(F, x)  # Σ over the batch of g xᵀ, contiguous (out, in)


def _linear_vjp_b(F, g, out, x, w, b):
    return g if g.ndim == 1 else F.sum(g, tuple(range(g.ndim - 1)), False)


def _mse_vjp(F, g, out, x, t, reduction):
    """d/dy of (y − t)², times ``g`` (and 1/n for the mean): the text's δ = y − t, doubled."""
    scale = 2.0 / K.count(x.shape, None) if reduction == "mean" else 2.0
    return (g * scale) * (x - t)


def _concat_vjp(F, g, out, i, xs, axis):
    start = builtins.sum(xs[j].shape[axis] for j in range(i))
    index = (slice(None),) * axis + (slice(start, start + xs[i].shape[axis]),)
    return F.getitem(g, index)


def _stack_vjp(F, g, out, i, xs, axis):
    return F.getitem(g, (slice(None),) * axis + (i,))


def _clip_vjp_x(F, g, out, x, lo, hi):
    return g * ((x >= lo) & (x <= hi))  # inside the bounds (inclusive, as PyTorch)


def _pow_vjp_base(F, g, out, a, b):
    if isinstance(b, (int, float)):  # a Python exponent: d(a**0)/da is 0, also at a = 0
        return g * b * a ** (b - 1) if b != 0 else g * 0
    return g * b * a ** F.where((b == 0) & (a == 0), 1, b - 1)  # 0 · 0**-1 would be NaN


def _pow_vjp_exponent(F, g, out, a, b):
    positive = a > 0  # d(a**b)/db = a**b log a, taken as 0 where a <= 0
    return F.where(positive, g * out * F.log(F.where(positive, a, 1)), 0)


# ---------------------------------------------------------------------- the table
# elementwise: one input x; ``reads`` lists what each formula reads besides g
NEG = defop("neg", np.negative, lambda F, g, out, x: -g)
EXP = defop("exp", np.exp, lambda F, g, out, x: g * out, reads="out")
LOG = defop("log", np.log, lambda F, g, out, x: g / x, reads="x")
TANH = defop("tanh", np.tanh, lambda F, g, out, x: g * (1 - out * out), reads="out")
SIGMOID = defop("sigmoid", K.stable_sigmoid, lambda F, g, out, x: g * out * (1 - out),
                reads="out", generic=K.generic_sigmoid)
RELU = defop("relu", lambda x: np.maximum(x, 0), lambda F, g, out, x: g * (x > 0), reads="x",
             generic=lambda B, x: B.xp.maximum(x, 0))
SIN = defop("sin", np.sin, lambda F, g, out, x: g * F.cos(x), reads="x")
COS = defop("cos", np.cos, lambda F, g, out, x: -g * F.sin(x), reads="x")
TAN = defop("tan", np.tan, lambda F, g, out, x: g * (1 + out * out), reads="out")
SQRT = defop("sqrt", np.sqrt, lambda F, g, out, x: g / (2 * out), reads="out")
ABS = defop("abs", np.abs, lambda F, g, out, x: g * F.sign(x), reads="x")
CLONE = defop("clone", np.copy, lambda F, g, out, x: g, generic=lambda B, x: B.copy(x))
ASTYPE = defop("astype", lambda x, dtype: x.astype(dtype),
               lambda F, g, out, x, dtype: F.astype(g, x.dtype), params="dtype",
               generic=lambda B, x, dtype: B.astype(x, dtype))
CLIP = defop("clip", np.clip, _clip_vjp_x,  # a missing bound is ∓inf; bounds may be tensors
             lambda F, g, out, x, lo, hi: g * ((x < lo) & (lo <= hi)),
             lambda F, g, out, x, lo, hi: g * ((x > hi) | (lo > hi)),
             inputs="x min max", reads="x min max", method="clip clamp", export="clip clamp",
             generic=lambda B, x, lo, hi: B.xp.minimum(B.xp.maximum(x, lo), hi))

# binary, with broadcasting
ADD = defop("add", np.add, lambda F, g, out, a, b: g, lambda F, g, out, a, b: g,
            inputs="a b", ordered=False)
SUB = defop("sub", np.subtract, lambda F, g, out, a, b: g, lambda F, g, out, a, b: -g,
            inputs="a b")
MUL = defop("mul", np.multiply, lambda F, g, out, a, b: g * b, lambda F, g, out, a, b: g * a,
            inputs="a b", reads="a b", ordered=False)
DIV = defop("div", np.true_divide,
            lambda F, g, out, a, b: g / b,
            lambda F, g, out, a, b: -g * out / b, inputs="a b", reads="b out")
POW = defop("pow", np.power, _pow_vjp_base, _pow_vjp_exponent, inputs="a b",
            reads="a b out")
MATMUL = defop("matmul", np.matmul, _matmul_vjp_a, _matmul_vjp_b, inputs="a b", reads="a b")
MSE_LOSS = defop("mse_loss", K.mse, _mse_vjp,  # (y − t)², mean/sum/none, fused: one node
                 lambda F, g, out, x, t, reduction: -_mse_vjp(F, g, out, x, t, reduction),
                 inputs="x t", params="reduction", reads="x t", method=False, export=False,
                 generic=K.generic_mse)
LINEAR = defop("linear", K.linear,  # x @ Wᵀ + b, fused: a layer is one node (b optional)
               lambda F, g, out, x, w, b=None: g @ w, _linear_vjp_w, _linear_vjp_b,
               inputs="x w b", reads="x w", method=False, export=False,
               generic=K.generic_linear)
MAXIMUM = defop("maximum", np.maximum,
                lambda F, g, out, a, b: g * (a > b) + 0.5 * g * (a == b),
                lambda F, g, out, a, b: g * (b > a) + 0.5 * g * (a == b),
                inputs="a b", reads="a b", ordered=False)
MINIMUM = defop("minimum", np.minimum,
                lambda F, g, out, a, b: g * (a < b) + 0.5 * g * (a == b),
                lambda F, g, out, a, b: g * (b < a) + 0.5 * g * (a == b),
                inputs="a b", reads="a b", ordered=False)
WHERE = defop("where", lambda a, b, cond: np.where(cond, a, b),
              lambda F, g, out, a, b, cond: F.where(cond, g, 0),
              lambda F, g, out, a, b, cond: F.where(cond, 0, g),
              inputs="a b", params="cond", method=False,
              generic=lambda B, a, b, cond: B.xp.where(_on(B, cond, a, b), *B.promote(a, b)))
SETITEM = defop("setitem", lambda a, value, index: _setitem(a.copy(), value, index),
                lambda F, g, out, a, value, index: F.where(F.unwritten(a.shape, index, g), g, 0),
                lambda F, g, out, a, value, index: F.getitem(g, index),
                inputs="a value", params="index", method=False, export=False,
                generic=lambda B, a, value, index: B.setitem(a, value, index))

# reductions (axis is None or a sorted tuple of non-negative ints)
SUM = defop("sum", lambda x, axis, keepdims: _asarray(K.sum(x, axis, keepdims)),
            lambda F, g, out, x, axis, keepdims: _unreduce(F, g, x.shape, axis, keepdims),
            params="axis keepdims", generic=K.generic_reduction("sum"))
MEAN = defop("mean", lambda x, axis, keepdims: _asarray(K.mean(x, axis, keepdims)),
             lambda F, g, out, x, axis, keepdims:
                 _unreduce(F, g / K.count(x.shape, axis), x.shape, axis, keepdims),
             params="axis keepdims", generic=K.generic_reduction("mean"))
MAX = defop("max", lambda x, axis, keepdims: _asarray(K.max(x, axis, keepdims)),
            lambda F, g, out, x, axis, keepdims: _extreme_vjp(F, g, out, x, axis, keepdims),
            params="axis keepdims", reads="x out", generic=K.generic_reduction("max"))
MIN = defop("min", lambda x, axis, keepdims: _asarray(K.min(x, axis, keepdims)),
            lambda F, g, out, x, axis, keepdims: _extreme_vjp(F, g, out, x, axis, keepdims),
            params="axis keepdims", reads="x out", generic=K.generic_reduction("min"))
SOFTMAX = defop("softmax", K.softmax,
                lambda F, g, out, x, axis: out * (g - F.sum(g * out, (axis,), True)),
                params="axis", reads="out", generic=K.generic_softmax)
LOG_SOFTMAX = defop("log_softmax", K.log_softmax,
                    lambda F, g, out, x, axis: g - F.exp(out) * F.sum(g, (axis,), True),
                    params="axis", reads="out", generic=K.generic_log_softmax)

# shapes and indexing
RESHAPE = defop("reshape", np.reshape, lambda F, g, out, x, shape: F.reshape(g, x.shape),
                params="shape", method="reshape view")
TRANSPOSE = defop("transpose", np.transpose,
                  lambda F, g, out, x, axes: F.transpose(g, tuple(np.argsort(axes))),
                  params="axes")
BROADCAST_TO = defop("broadcast_to", np.broadcast_to,
                     lambda F, g, out, x, shape: F.sum_to(g, x.shape), params="shape",
                     generic=lambda B, x, shape: B.xp.broadcast_to(x, shape))
SUM_TO = defop("sum_to", K.sum_to, lambda F, g, out, x, shape: F.broadcast_to(g, x.shape),
               params="shape", method=False, export=False, generic=K.generic_sum_to)
GETITEM = defop("getitem", lambda x, index: x[index],
                lambda F, g, out, x, index: F.scatter(g, x.shape, index), params="index",
                method="__getitem__", export=False,
                generic=lambda B, x, index: B.getitem(x, index))
SCATTER = defop("scatter", K.scatter, lambda F, g, out, x, shape, index: F.getitem(g, index),
                params="shape index", method=False, export=False,
                generic=lambda B, g, shape, index: B.scatter(g, shape, index))
CONCATENATE = defop("concatenate", lambda xs, axis: np.concatenate(xs, axis=axis), _concat_vjp,
                    inputs="xs", params="axis", method=False, export="concatenate cat",
                    ordered=True, variadic=True,
                    generic=lambda B, xs, axis: B.xp.concat(_promoted(B, xs), axis=axis))
STACK = defop("stack", lambda xs, axis: np.stack(xs, axis=axis), _stack_vjp, inputs="xs",
              params="axis", method=False, ordered=True, variadic=True,
              generic=lambda B, xs, axis: B.xp.stack(_promoted(B, xs), axis=axis))

TO_DEVICE = defop("to_device", lambda x, device: _backend.move(x, device),
                  lambda F, g, out, x, device: F.move_like(g, x), params="device",
                  method=False, export=False,
                  generic=lambda B, x, device: _backend.move(x, device))


def _on(B, cond, *like):
    """A host mask (NumPy) moved to the device of the arrays it selects from."""
    if isinstance(cond, np.ndarray):
        arr = next((a for a in like if not isinstance(a, (int, float))), None)
        return B.from_host(cond, arr) if arr is not None else cond
    return cond


def _promoted(B, xs):
    dt = B.xp.result_type(*xs)
    return [x if x.dtype == dt else B.xp.astype(x, dt) for x in xs]


def _extreme_vjp(F, g, out, x, axis, keepdims):
    """max/min: the gradient goes to the elements equal to the extreme, shared among ties."""
    out_b = _unreduce(F, out, x.shape, axis, keepdims)
    hit = (x == out_b) | ((x != x) & (out_b != out_b))  # a NaN is the extreme: it gets g
    count = F.astype(F.sum(hit, axis, True), g.dtype)
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
    """-x, elementwise.

    Examples
    --------
    >>> cr.neg(cr.tensor([1.0, -2.0]))
    tensor([-1.,  2.])
    """
    return unary(NEG, _t(x, "neg"))


def exp(x):
    """e**x, elementwise.

    Examples
    --------
    >>> x = cr.tensor([0.0, 1.0], requires_grad=True)
    >>> cr.exp(x).sum().backward()
    >>> x.grad                                # d/dx e^x = e^x
    tensor([1.    , 2.7183])
    """
    return unary(EXP, _t(x, "exp"))


def log(x):
    """Natural logarithm, elementwise.

    Examples
    --------
    >>> x = cr.tensor([1.0, 4.0], requires_grad=True)
    >>> cr.log(x).sum().backward()
    >>> x.grad                                # 1 / x
    tensor([1.  , 0.25])
    """
    return unary(LOG, _t(x, "log"))


def tanh(x):
    """Hyperbolic tangent; its derivative is 1 − tanh² (the text's eq. 5.7).

    Examples
    --------
    >>> x = cr.tensor([0.0, 0.5], requires_grad=True)
    >>> cr.tanh(x).sum().backward()
    >>> bool(np.allclose(x.grad.numpy(), 1 - np.tanh(x.numpy()) ** 2))
    True
    """
    return unary(TANH, _t(x, "tanh"))


def sigmoid(x):
    """Logistic sigmoid 1 / (1 + e^−x), computed without overflow for any x.

    Examples
    --------
    >>> cr.sigmoid(cr.tensor([0.0, 1000.0, -1000.0]))       # no overflow
    tensor([0.5, 1. , 0. ])
    >>> x = cr.tensor([0.0, 1000.0, -1000.0], requires_grad=True)
    >>> cr.sigmoid(x).sum().backward()
    >>> x.grad                                # σ (1 − σ)
    tensor([0.25, 0.  , 0.  ])
    """
    return unary(SIGMOID, _t(x, "sigmoid"))


def relu(x):
    """max(x, 0), elementwise (derivative 0 at 0).

    Examples
    --------
    >>> x = cr.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> cr.relu(x).sum().backward()
    >>> x.grad
    tensor([0., 0., 1.])
    """
    return unary(RELU, _t(x, "relu"))


def sin(x):
    """Sine, elementwise.

    Examples
    --------
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> cr.sin(x).sum().backward()
    >>> x.grad                                # cos 0
    tensor([1.])
    """
    return unary(SIN, _t(x, "sin"))


def cos(x):
    """Cosine, elementwise.

    Examples
    --------
    >>> x = cr.tensor([np.pi / 2], requires_grad=True)
    >>> cr.cos(x).sum().backward()
    >>> x.grad                                # −sin(π/2)
    tensor([-1.])
    """
    return unary(COS, _t(x, "cos"))


def tan(x):
    """Tangent, elementwise.

    Examples
    --------
    >>> x = cr.tensor([0.0], requires_grad=True)
    >>> cr.tan(x).sum().backward()
    >>> x.grad                                # 1 + tan² 0
    tensor([1.])
    """
    return unary(TAN, _t(x, "tan"))


def sqrt(x):
    """Square root, elementwise.

    Examples
    --------
    >>> x = cr.tensor([4.0], requires_grad=True)
    >>> cr.sqrt(x).sum().backward()
    >>> x.grad                                # 1 / (2 √x)
    tensor([0.25])
    """
    return unary(SQRT, _t(x, "sqrt"))


def abs(x):  # noqa: A001 (mirrors numpy/torch)
    """Absolute value, elementwise (derivative sign(x), 0 at 0).

    Examples
    --------
    >>> x = cr.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    >>> cr.abs(x).sum().backward()
    >>> x.grad
    tensor([-1.,  0.,  1.])
    """
    return unary(ABS, _t(x, "abs"))


def clone(x):
    """A copy of x that stays in the graph.

    Examples
    --------
    >>> x = cr.tensor([1.0], requires_grad=True)
    >>> y = cr.clone(x)
    >>> y.backward(np.ones(1))
    >>> x.grad
    tensor([1.])
    """
    return unary(CLONE, _t(x, "clone"))


def astype(x, dtype):
    """x converted to ``dtype``; gradients convert back.

    Examples
    --------
    >>> x = cr.tensor([1.5], requires_grad=True)
    >>> y = cr.astype(x, np.float32)
    >>> y.dtype
    dtype('float32')
    >>> y.sum().backward()
    >>> x.grad.dtype
    dtype('float64')
    """
    x = _t(x, "astype")
    dtype = np.dtype(dtype)
    if dtype == x.dtype:
        return x
    return unary(ASTYPE, x, dtype)


def add(a, b):
    """a + b with broadcasting.

    Examples
    --------
    >>> a = cr.tensor([[1.0, 2.0]], requires_grad=True)
    >>> cr.add(a, cr.ones(3, 1)).sum().backward()
    >>> a.grad                                # broadcast over 3 rows, summed back
    tensor([[3., 3.]])
    """
    return binary(ADD, a, b)


def sub(a, b):
    """a − b with broadcasting.

    Examples
    --------
    >>> cr.sub(cr.tensor([3.0]), 1.0)
    tensor([2.])
    """
    return binary(SUB, a, b)


def mul(a, b):
    """a * b with broadcasting.

    Examples
    --------
    >>> a, b = cr.tensor(2.0, requires_grad=True), cr.tensor(5.0, requires_grad=True)
    >>> cr.mul(a, b).backward()
    >>> a.grad, b.grad
    (tensor(5.), tensor(2.))
    """
    return binary(MUL, a, b)


def div(a, b):
    """a / b with broadcasting.

    Examples
    --------
    >>> a, b = cr.tensor(1.0, requires_grad=True), cr.tensor(2.0, requires_grad=True)
    >>> cr.div(a, b).backward()
    >>> a.grad, b.grad                        # 1/b, −a/b²
    (tensor(0.5), tensor(-0.25))
    """
    return binary(DIV, a, b)


def pow(a, b):  # noqa: A001
    """a ** b with broadcasting.

    Examples
    --------
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> cr.pow(x, 2).backward()
    >>> x.grad
    tensor(6.)
    """
    return binary(POW, a, b)


def matmul(a, b):
    """Matrix product with NumPy's rules (1-D vectors and stacked batches included).

    Examples
    --------
    >>> x = cr.tensor([[1.0, 2.0]], requires_grad=True)
    >>> W = cr.tensor([[1.0], [3.0]])
    >>> cr.matmul(x.detach(), W)
    tensor([[7.]])
    >>> cr.matmul(x, W).sum().backward()
    >>> x.grad                                # Wᵀ
    tensor([[1., 3.]])
    """
    return binary(MATMUL, a, b)


def maximum(a, b):
    """Elementwise maximum (ties share the gradient equally).

    Examples
    --------
    >>> x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> cr.maximum(x, 2.0).sum().backward()
    >>> x.grad                                # a tie shares: ½
    tensor([0. , 0.5, 1. ])
    """
    return binary(MAXIMUM, a, b)


def minimum(a, b):
    """Elementwise minimum (ties share the gradient equally).

    Examples
    --------
    >>> cr.minimum(cr.tensor([1.0, 5.0]), 2.0)
    tensor([1., 2.])
    """
    return binary(MINIMUM, a, b)


def where(cond, a, b):
    """Elements of ``a`` where ``cond`` is true, of ``b`` elsewhere (broadcast).

    Examples
    --------
    >>> x = cr.tensor([-1.0, 2.0], requires_grad=True)
    >>> cr.where(x.numpy() > 0, x, 0.0).sum().backward()
    >>> x.grad
    tensor([0., 1.])
    """
    c = as_array(cond.data if isinstance(cond, Tensor) else cond, where="where")
    lib = _backend.of(c) if type(c) is not np.ndarray else None
    if lib is not None:
        c = c if lib.xp.isdtype(c.dtype, "bool") else lib.xp.astype(c, lib.xp.bool)
    elif c.dtype != np.bool_:
        c = c.astype(bool)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = _t(a, "where")
    return apply(WHERE, (a, b), c)


def clip(x, min=None, max=None):  # noqa: A002
    """Limit x to [min, max]; the gradient goes to x where min <= x <= max, else to the
    bound that gave the value (when it is a tensor). With min > max every value is max.

    Examples
    --------
    >>> x = cr.tensor([-2.0, 0.5, 2.0], requires_grad=True)
    >>> cr.clip(x.detach(), -1.0, 1.0)
    tensor([-1. ,  0.5,  1. ])
    >>> cr.clip(x, -1.0, 1.0).sum().backward()
    >>> x.grad
    tensor([0., 1., 0.])
    """
    if min is None and max is None:
        raise ValueError("clip: give at least one of min and max")
    return apply(CLIP, (_t(x, "clip"), -np.inf if min is None else min,
                        np.inf if max is None else max))



def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """Sum over ``axis`` (an int, a tuple, or None for all); PyTorch's dim/keepdim also work.

    Examples
    --------
    >>> x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> cr.sum(x, axis=0).shape, cr.sum(x, dim=1, keepdim=True).shape
    ((2,), (2, 1))
    >>> cr.sum(x).backward()
    >>> x.grad
    tensor([[1., 1.],
            [1., 1.]])
    """
    x = _t(x, "sum")
    return unary(SUM, x, _axes("sum", x, axis, dim), _keep(keepdims, keepdim))


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Mean over ``axis``.

    Examples
    --------
    >>> x = cr.tensor([1.0, 2.0, 3.0, 6.0], requires_grad=True)
    >>> cr.mean(x).backward()
    >>> x.grad
    tensor([0.25, 0.25, 0.25, 0.25])
    """
    x = _t(x, "mean")
    return unary(MEAN, x, _axes("mean", x, axis, dim), _keep(keepdims, keepdim))


def max(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """Largest value over ``axis`` (values only, like NumPy's ``max``; ties share the
    gradient). Use ``argmax`` for the positions.

    Examples
    --------
    >>> x = cr.tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> cr.max(x).backward()
    >>> x.grad                                # the two maxima share
    tensor([0. , 0.5, 0.5])
    """
    x = _t(x, "max")
    return unary(MAX, x, _axes("max", x, axis, dim), _keep(keepdims, keepdim))


def min(x, axis=None, keepdims=False, *, dim=None, keepdim=None):  # noqa: A001
    """Smallest value over ``axis`` (values only; ties share the gradient).

    Examples
    --------
    >>> cr.min(cr.tensor([[1.0, 5.0], [0.0, 2.0]]), axis=1)
    tensor([1., 0.])
    """
    x = _t(x, "min")
    return unary(MIN, x, _axes("min", x, axis, dim), _keep(keepdims, keepdim))


def softmax(x, axis=-1, *, dim=None):
    """exp(x) / Σ exp(x) along ``axis``, computed stably (shifted by the max).

    Examples
    --------
    >>> cr.softmax(cr.tensor([[0.0, 0.0], [0.0, 1000.0]]), axis=1)
    tensor([[0.5, 0.5],
            [0. , 1. ]])
    """
    x = _t(x, "softmax")
    return unary(SOFTMAX, x, _one_axis("softmax", x, axis if dim is None else None, dim))


def log_softmax(x, axis=-1, *, dim=None):
    """x − log Σ exp(x) along ``axis``, computed stably (no overflow at ±1000).

    Examples
    --------
    >>> cr.log_softmax(cr.tensor([0.0, 1000.0]))         # finite at 1000
    tensor([-1000.,     0.])
    """
    x = _t(x, "log_softmax")
    return unary(LOG_SOFTMAX, x, _one_axis("log_softmax", x, axis if dim is None else None, dim))


def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """log Σ exp(x) over ``axis``, stable; built from max, exp, sum and log.

    Examples
    --------
    >>> round(cr.logsumexp(cr.tensor([1000.0, 1000.0])).item() - 1000.0, 4)   # log 2
    0.6931
    """
    x = _t(x, "logsumexp")
    ax = _axes("logsumexp", x, axis, dim)
    m = max(x, ax, True).detach()
    m = where(_traced(np.isfinite, m.data), m, 0)  # all -inf gives -inf, a +inf gives +inf
    out = log(sum(exp(x - m), ax, True)) + m
    return out if _keep(keepdims, keepdim) else reshape(out, _reduced_shape(x.shape, ax))


def _reduced_shape(shape, axis):
    return tuple(s for i, s in enumerate(shape) if not (axis is None or i in axis))


def reshape(x, *shape):
    """The same elements in a new shape (one dimension may be -1).

    Examples
    --------
    >>> x = cr.arange(6.0, requires_grad=True)
    >>> cr.reshape(x, 2, -1).shape, x.reshape((3, 2)).shape
    ((2, 3), (3, 2))
    """
    x = _t(x, "reshape")
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    shape = tuple(int(s) for s in shape)
    if shape == x.shape:
        return x
    return unary(RESHAPE, x, shape)


def transpose(x, *axes):
    """Permute axes: no argument reverses them (NumPy's ``.T``); two axes swap them
    (PyTorch's ``transpose(dim0, dim1)``, also on a 2-D tensor); a tuple, or one axis per
    dimension of three or more, is a full permutation (NumPy's, PyTorch's ``permute``).

    Examples
    --------
    >>> x = cr.ones(2, 3, 4)
    >>> cr.transpose(x).shape, cr.transpose(x, 0, 2).shape, cr.transpose(x, (1, 0, 2)).shape
    ((4, 3, 2), (4, 3, 2), (3, 2, 4))
    """
    x = _t(x, "transpose")
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    elif len(axes) == 2:
        return swapaxes(x, *axes)
    nd = x.ndim
    if not axes:
        axes = tuple(range(nd - 1, -1, -1))
    if len(axes) != nd or sorted(a % nd if nd else a for a in axes) != list(range(nd)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of {nd} axes")
    axes = tuple(a % nd for a in axes)
    if axes == tuple(range(nd)):
        return x
    return unary(TRANSPOSE, x, axes)


def swapaxes(x, axis1, axis2):
    """Exchange two axes.

    Examples
    --------
    >>> cr.swapaxes(cr.ones(2, 3, 4), 0, 1).shape
    (3, 2, 4)
    """
    x = _t(x, "swapaxes")
    nd = x.ndim
    for a in (axis1, axis2):
        if not -nd <= a < nd:
            raise _axis_error("swapaxes", a, x.shape)
    perm = list(range(nd))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return transpose(x, tuple(perm))


def expand_dims(x, axis):
    """Insert a length-1 axis at ``axis`` (PyTorch's ``unsqueeze``).

    Examples
    --------
    >>> cr.expand_dims(cr.ones(3), 0).shape, cr.unsqueeze(cr.ones(3), -1).shape
    ((1, 3), (3, 1))
    """
    x = _t(x, "expand_dims")
    nd = x.ndim + 1
    if not -nd <= axis < nd:
        raise _axis_error("expand_dims", axis, x.shape)
    axis %= nd
    return reshape(x, x.shape[:axis] + (1,) + x.shape[axis:])


unsqueeze = expand_dims


def squeeze(x, axis=None, *, dim=None):
    """Remove length-1 axes (all, or those in ``axis``).

    Examples
    --------
    >>> cr.squeeze(cr.ones(1, 3, 1)).shape, cr.squeeze(cr.ones(1, 3, 1), axis=0).shape
    ((3,), (3, 1))
    """
    x = _t(x, "squeeze")
    ax = _axes("squeeze", x, axis, dim)
    if ax is not None:
        for a in ax:
            if x.shape[a] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {x.shape} has length {x.shape[a]}")
    keep = tuple(s for i, s in enumerate(x.shape) if not (s == 1 and (ax is None or i in ax)))
    return reshape(x, keep)


def broadcast_to(x, shape):
    """x repeated to ``shape`` by NumPy's broadcasting rules (a read-only view).

    Examples
    --------
    >>> b = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> cr.broadcast_to(b, (3, 2)).sum().backward()
    >>> b.grad                                # summed back over the 3 rows
    tensor([3., 3.])
    """
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
    """``x[index]``: ints, slices, None, Ellipsis, integer arrays (repeats add up in the
    gradient) and boolean masks, as NumPy's indexing."""
    return unary(GETITEM, _t(x, "getitem"), _index(index))


def setitem(x, index, value):
    """A copy of ``x`` with ``value`` written at ``index`` (``x[index] = value`` in place
    records the same op on ``x`` itself)."""
    return apply(SETITEM, (_t(x, "setitem"), value), _index(index))


def concatenate(tensors, axis=0, *, dim=None):
    """Join tensors along an existing axis (PyTorch's ``cat``).

    Examples
    --------
    >>> a = cr.tensor([1.0], requires_grad=True)
    >>> c = cr.concatenate([a, cr.tensor([2.0, 3.0])])
    >>> c.shape
    (3,)
    >>> (c * c).sum().backward()
    >>> a.grad
    tensor([2.])
    """
    xs = _seq("concatenate", tensors)
    axis = _one_axis("concatenate", xs[0], axis if dim is None else None, dim)
    return apply(CONCATENATE, xs, axis)



def stack(tensors, axis=0, *, dim=None):
    """Join tensors along a new axis.

    Examples
    --------
    >>> cr.stack([cr.ones(3), cr.zeros(3)]).shape, cr.stack([cr.ones(3), cr.zeros(3)], dim=1).shape
    ((2, 3), (3, 2))
    """
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


def to_device(x, device):
    """``x`` on ``device`` (recorded: the gradient goes back to x's device); x itself when
    it is there already. ``Tensor.to(device)`` and ``Tensor.cpu()`` call this."""
    x = _t(x, "to_device")
    if isinstance(x.data, StandIn):  # cr.compile is tracing: NumPy only
        if _backend.of(_backend.move(np.zeros(0), device)) is None:
            return x
        from .compiler import _NUMPY_ONLY, _refuse
        _refuse(f"moving a tensor to {device!r}", _NUMPY_ONLY)
    out = _backend.move(x.data, device)
    if out is x.data:
        return x
    from .tensor import _adopt
    if type(out) is not np.ndarray:
        _adopt(out)
    return unary(TO_DEVICE, x, device)


def to_host(x):
    return to_device(x, "cpu")


def sign(x):
    """Sign of x, elementwise (a constant: no gradient).

    Examples
    --------
    >>> cr.sign(cr.tensor([-2.0, 0.0, 3.0]))
    tensor([-1.,  0.,  1.])
    """
    d = _t(x, "sign").data
    b = _backend.of(d) if type(d) is not np.ndarray else None
    return _wrap(np.sign(d) if b is None else b.xp.sign(d), None)


# ------------------------------------------------------------- the two namespaces
NP = SimpleNamespace(
    exp=np.exp, log=np.log, sin=np.sin, cos=np.cos, sign=np.sign, where=np.where,
    sum=K.sum, reshape=np.reshape, transpose=np.transpose, swapaxes=np.swapaxes,
    expand_dims=np.expand_dims, broadcast_to=K.broadcast_to, sum_to=K.sum_to,
    getitem=lambda x, index: x[index], scatter=K.scatter,
    move_like=lambda g, x: _backend.move(g, x),
    astype=lambda x, dtype: x.astype(dtype), unwritten=lambda shape, index, like: K.unwritten(
        shape, index),
)

TS = SimpleNamespace(
    exp=exp, log=log, sin=sin, cos=cos, sign=sign, where=where,
    sum=sum, reshape=reshape, transpose=transpose, swapaxes=swapaxes,
    expand_dims=expand_dims, broadcast_to=broadcast_to, sum_to=sum_to,
    getitem=getitem, scatter=scatter,
    move_like=lambda g, x: to_device(g, x.data),
    astype=lambda x, dtype: astype(x, dtype), unwritten=lambda shape, index, like: _unwritten(
        shape, index, like),
)


def _unwritten(shape, index, like):
    b = _backend.of(like.data)
    return K.unwritten(shape, index) if b is None else b.unwritten(shape, index, like.data)


# ---------------------------------------------- Tensor methods and cr.* names, from the table
COMPOSITES = ("logsumexp", "squeeze", "expand_dims", "unsqueeze", "swapaxes", "sign")


def _method(op, fn):
    """The Tensor method for ``op``: its public function with the tensor first (a one-input
    op without parameters calls ``unary`` directly: nothing to check)."""
    if len(op.inputs) == 1 and not op.params and not op.variadic:
        def method(self):
            return unary(op, self)
    else:
        def method(self, *args, **kwargs):
            return fn(self, *args, **kwargs)
    return functools.update_wrapper(method, fn)


def _function(op):
    """The public function of a primitive declared without one: ``name(x, *inputs, *params)``
    (the first input made a Tensor, the rest as given)."""
    n = len(op.inputs)

    def fn(x, *args):
        return apply(op, (_t(x, op.name), *args[:n - 1]), *args[n - 1:])

    fn.__name__ = fn.__qualname__ = op.name
    fn.__doc__ = f"{op.name}({', '.join(op.inputs + op.params)}), as declared in cr.OPS."
    return fn


def _derive():
    """Every op's Tensor methods, and its functions as ``chainrule`` exports them: the public
    function of its name here, or one made from its ``defop``."""
    exports = {}
    for op in OPS.values():
        if op.methods or op.exports:
            fn = globals().get(op.name) or _function(op)
            for name in op.methods:
                setattr(Tensor, name, _method(op, fn))
            exports.update(dict.fromkeys(op.exports, fn))
    exports.update({name: globals()[name] for name in COMPOSITES})
    return exports


EXPORTS = _derive()  # what ``chainrule`` exports: every primitive's functions and COMPOSITES
