"""THE registry of test samples: one Hypothesis strategy for every primitive in ``cr.OPS``.

``SAMPLES[name]`` draws a :class:`Sample`: a chainrule computation that runs the op, its
inputs, the same computation in NumPy (the forward reference) and in PyTorch (the optional
comparison). The engine tests gradcheck every sample to first and second order, compare its
forward with NumPy, and ``test_registry_covers_every_op`` fails when an op has no entry here.

Values are drawn from a safe domain: positive for log/sqrt/pow bases, away from the kinks
of abs/relu/clip/maximum/minimum, distinct (well apart) for max/min, so that finite
differences with a step of 1e-6 never straddle a kink or a tie.

``CASES`` lists fixed samples, built by the same functions, that make sure every form is
checked on every run (each axis and tuple of axes, keepdims both ways, both spellings, each
indexing form, each matmul form, ...), while the strategies explore random combinations.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import strategies as st

import chainrule as cr


@dataclass
class Sample:
    fn: Callable  # the computation, on chainrule Tensors
    inputs: list  # Tensors, all requires_grad=True (constants live inside fn)
    ref: Callable  # the same computation on the inputs' NumPy arrays
    torch: Callable | None = None  # the same with PyTorch: torch(torch_module, *tensors)
    tol: dict = field(default_factory=dict)  # gradcheck eps/atol/rtol where defaults don't fit
    note: str = ""

    def __iter__(self):  # fn, inputs = sample
        return iter((self.fn, self.inputs))


def T(a):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def ops_used(out):
    """Names of the ops recorded in the graph that produced ``out``."""
    seen, stack, names = set(), [out], set()
    while stack:
        t = stack.pop()
        node = getattr(t, "_node", None)
        if node is None or node in seen:
            continue
        seen.add(node)
        names.add(node.op.name)
        if node.op.inplace:  # "sub_" runs sub, written into its first input
            names.add(node.op.name[:-1])
        stack.extend(x for x in node.inputs if isinstance(x, cr.Tensor))
    return names


# ------------------------------------------------------------------ value strategies
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
SHAPES_1D = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


def floats(lo=-2.0, hi=2.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def avoiding(points, lo=-2.0, hi=2.0, gap=0.1):
    """Floats in [lo, hi] at least ``gap`` away from each of ``points`` (kinks)."""
    parts, start = [], lo
    for p in sorted(points):
        if p - gap > start:
            parts.append(floats(start, p - gap))
        start = max(start, p + gap)
    if hi > start:
        parts.append(floats(start, hi))
    return st.one_of(*parts)


def arrays(shape, elements=None):
    return hnp.arrays(np.float64, shape, elements=floats() if elements is None else elements)


def offset_grid(shape, offset):
    """Values k/2 + offset + jitter (k integer, jitter < 0.05): two grids with offsets
    0 and 0.25 never come within 0.15 of each other, whatever broadcasting pairs up."""
    ks = hnp.arrays(np.int64, shape, elements=st.integers(-4, 4))
    jit = hnp.arrays(np.float64, shape, elements=floats(0.0, 0.05))
    return st.tuples(ks, jit).map(lambda kj: kj[0] / 2 + offset + kj[1])


@st.composite
def distinct(draw, shape):
    """Values at least 0.15 apart (no ties for max/min), in random order."""
    n = math.prod(shape)
    perm = np.array(draw(st.permutations(range(n))), dtype=np.float64).reshape(shape)
    jitter = draw(arrays(shape, floats(0.0, 0.1)))
    return perm * 0.25 - n * 0.125 + jitter


def distinct_np(shape, rng):
    n = math.prod(shape)
    return rng.permutation(n).reshape(shape) * 0.25 - n * 0.125 + rng.uniform(0, 0.1, shape)


# ------------------------------------------------------------------ elementwise, unary
def _relu_np(a):
    return np.maximum(a, 0.0)


def _sigmoid_np(a):
    return 1.0 / (1.0 + np.exp(-a))


# name -> (NumPy reference, safe elements, torch twin)
UNARY = {
    "neg": (np.negative, floats(), lambda th, x: -x),
    "exp": (np.exp, floats(), lambda th, x: th.exp(x)),
    "log": (np.log, floats(0.2, 3.0), lambda th, x: th.log(x)),
    "tanh": (np.tanh, floats(-3.0, 3.0), lambda th, x: th.tanh(x)),
    "sigmoid": (_sigmoid_np, floats(-4.0, 4.0), lambda th, x: th.sigmoid(x)),
    "relu": (_relu_np, avoiding([0.0]), lambda th, x: th.relu(x)),
    "sin": (np.sin, floats(-3.0, 3.0), lambda th, x: th.sin(x)),
    "cos": (np.cos, floats(-3.0, 3.0), lambda th, x: th.cos(x)),
    "tan": (np.tan, floats(-1.2, 1.2), lambda th, x: th.tan(x)),
    "sqrt": (np.sqrt, floats(0.2, 3.0), lambda th, x: th.sqrt(x)),
    "abs": (np.abs, avoiding([0.0]), lambda th, x: th.abs(x)),
    "clone": (np.copy, floats(), lambda th, x: x.clone()),
}

def unary_sample(name, a, form="function"):
    ref, _, twin = UNARY[name]
    forms = {"function": getattr(cr, name), "method": lambda x: getattr(x, name)()}
    if name == "neg":
        forms["method"] = operator.neg  # -x
    if name == "abs":
        forms["builtin"] = abs  # Tensor.__abs__
    return Sample(forms.get(form, forms["function"]), [T(a)], ref, twin, note=form)


@st.composite
def unary(draw, name):
    _, elements, _ = UNARY[name]
    a = draw(arrays(draw(SHAPES), elements))
    form = draw(st.sampled_from(["function", "method", "builtin"]))
    return unary_sample(name, a, form)


# -------------------------------------------------------------------- astype, clip
def astype_sample(a, form="function"):
    fn = {
        "function": lambda x: cr.astype(x, np.float32),
        "method": lambda x: x.astype("float32"),
        "float": lambda x: x.float(),
        "to": lambda x: x.to(np.float32),
    }[form]
    # the float32 output rounds to ~1e-7: a larger step keeps the finite differences exact
    return Sample(fn, [T(a)], lambda x: x.astype(np.float32), lambda th, x: x.float(),
                  tol=dict(eps=1e-3, atol=1e-4, rtol=1e-3), note=form)


@st.composite
def astype(draw):
    a = draw(arrays(draw(SHAPES)))
    return astype_sample(a, draw(st.sampled_from(["function", "method", "float", "to"])))


CLIP_LO, CLIP_HI = -0.5, 0.7


def clip_sample(a, lo, hi, form="function"):
    """clip(a, lo, hi); lo/hi are None, Python floats or arrays broadcasting against a."""
    fn = {
        "function": lambda x: cr.clip(x, lo, hi),
        "clamp": lambda x: cr.clamp(x, min=lo, max=hi),
        "method": lambda x: x.clip(lo, hi),
        "method_clamp": lambda x: x.clamp(min=lo, max=hi),
    }[form]

    def twin(th, x):
        return th.clamp(x, None if lo is None else th.as_tensor(lo, dtype=x.dtype),
                        None if hi is None else th.as_tensor(hi, dtype=x.dtype))

    return Sample(fn, [T(a)], lambda x: np.clip(x, lo, hi), twin, note=f"{form} {lo} {hi}")


@st.composite
def clip(draw):
    shape = draw(SHAPES)
    a = draw(arrays(shape, avoiding([CLIP_LO, CLIP_HI])))
    bounds = draw(st.sampled_from(["both", "min", "max", "arrays"]))
    lo = None if bounds == "max" else CLIP_LO
    hi = None if bounds == "min" else CLIP_HI
    if bounds == "arrays":
        tail = shape[len(shape) - draw(st.integers(0, len(shape))):]
        lo, hi = np.full(tail, CLIP_LO), np.full(tail, CLIP_HI)
    form = draw(st.sampled_from(["function", "clamp", "method", "method_clamp"]))
    return clip_sample(a, lo, hi, form)


# ------------------------------------------------------------- binary, broadcasting
ARITH = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
         "div": operator.truediv, "pow": operator.pow}

BINARY_FORMS = ["tensors", "function", "array_left", "array_right", "number_left",
                "number_right"]


def binary_sample(name, a, b, form="tensors"):
    """``a op b`` where either side may be a constant: a NumPy array or a Python number
    (form ``*_left``/``*_right`` says which side is the constant)."""
    op = ARITH.get(name) or getattr(np, name)
    crf = getattr(cr, name)
    if form in ("tensors", "function", "method"):
        fn = {"tensors": op if name in ARITH else crf, "function": crf,
              "method": lambda x, y: getattr(x, name)(y)}[form]
        if name in ARITH and form == "tensors":
            twin = lambda th, x, y: op(x, y)
        else:
            twin = lambda th, x, y: getattr(th, name)(x, y)
        return Sample(fn, [T(a), T(b)], op, twin, note=form)
    if form.startswith("number"):
        const = float(np.ravel(a if form == "number_left" else b)[0])
    else:
        const = np.array(a if form == "array_left" else b)
    if name in ARITH:
        tw = lambda th, c, x, left: op(c, x) if left else op(x, c)
    else:
        tw = lambda th, c, x, left: getattr(th, name)(
            th.as_tensor(c, dtype=x.dtype), x) if left else getattr(th, name)(
            x, th.as_tensor(c, dtype=x.dtype))
    if form.endswith("left"):
        fn = (lambda y: op(const, y)) if name in ARITH else (lambda y: crf(const, y))
        return Sample(fn, [T(b)], lambda y: op(const, y),
                      lambda th, y: tw(th, _th_const(th, const), y, True), note=form)
    fn = (lambda x: op(x, const)) if name in ARITH else (lambda x: crf(x, const))
    return Sample(fn, [T(a)], lambda x: op(x, const),
                  lambda th, x: tw(th, _th_const(th, const), x, False), note=form)


def _th_const(th, c):
    return c if isinstance(c, float) else th.as_tensor(c)


def _two_shapes(draw):
    return draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)
                ).input_shapes


@st.composite
def arith(draw, name):
    sa, sb = _two_shapes(draw)
    a = draw(arrays(sa))
    b = draw(arrays(sb, avoiding([0.0], gap=0.5) if name == "div" else None))
    return binary_sample(name, a, b, draw(st.sampled_from(BINARY_FORMS)))


@st.composite
def power(draw):
    sa, sb = _two_shapes(draw)
    kind = draw(st.sampled_from(["tensors", "function", "int_exponent", "float_exponent",
                                 "number_base", "array_exponent"]))
    if kind in ("tensors", "function"):
        return binary_sample("pow", draw(arrays(sa, floats(0.5, 2.0))), draw(arrays(sb)), kind)
    if kind == "int_exponent":  # any sign of base: x**2, x**3
        a = draw(arrays(sa))
        k = draw(st.sampled_from([2, 3]))
        return Sample(lambda x: x ** k, [T(a)], lambda x: x ** k, lambda th, x: x ** k,
                      note=f"x**{k}")
    if kind == "float_exponent":
        a = draw(arrays(sa, floats(0.5, 2.0)))
        p = draw(st.sampled_from([0.5, -1.5, 2.5]))
        return Sample(lambda x: x ** p, [T(a)], lambda x: x ** p, lambda th, x: x ** p,
                      note=f"x**{p}")
    if kind == "number_base":
        c = draw(st.sampled_from([2.0, 0.7]))
        return Sample(lambda y: c ** y, [T(draw(arrays(sb)))], lambda y: c ** y,
                      lambda th, y: c ** y, note=f"{c}**y")
    return binary_sample("pow", draw(arrays(sa, floats(0.5, 2.0))), draw(arrays(sb)),
                         "array_right")


@st.composite
def extremum(draw, name):
    """maximum/minimum on two grids that never tie (see ``offset_grid``)."""
    sa, sb = _two_shapes(draw)
    a, b = draw(offset_grid(sa, 0.0)), draw(offset_grid(sb, 0.25))
    form = draw(st.sampled_from(BINARY_FORMS + ["method"]))
    return binary_sample(name, a, b, form)


# ----------------------------------------------------------------------- matmul
def matmul_shapes(form, n=2, k=3, m=2, b=2, c=3):
    return {
        "vec@vec": ((k,), (k,)),
        "vec@mat": ((k,), (k, m)),
        "mat@vec": ((n, k), (k,)),
        "mat@mat": ((n, k), (k, m)),
        "batch@batch": ((b, n, k), (b, k, m)),
        "batch@mat": ((b, n, k), (k, m)),
        "mat@batch": ((n, k), (b, k, m)),
        "broadcast_batch": ((b, 1, n, k), (c, k, m)),
        "batch@vec": ((b, n, k), (k,)),
        "vec@batch": ((k,), (b, k, m)),
    }[form]


MATMUL_FORMS = ["vec@vec", "vec@mat", "mat@vec", "mat@mat", "batch@batch", "batch@mat",
                "mat@batch", "broadcast_batch", "batch@vec", "vec@batch"]


def matmul_sample(a, b, how="operator"):
    if how == "array_left":
        return Sample(lambda y: a @ y, [T(b)], lambda y: a @ y,
                      lambda th, y: th.as_tensor(a) @ y, note=how)
    if how == "array_right":
        return Sample(lambda x: x @ b, [T(a)], lambda x: x @ b,
                      lambda th, x: x @ th.as_tensor(b), note=how)
    fn = operator.matmul if how == "operator" else cr.matmul
    return Sample(fn, [T(a), T(b)], np.matmul, lambda th, x, y: x @ y, note=how)


@st.composite
def matmul(draw):
    form = draw(st.sampled_from(MATMUL_FORMS))
    sizes = draw(st.lists(st.integers(1, 3), min_size=5, max_size=5))
    sa, sb = matmul_shapes(form, *sizes)
    how = draw(st.sampled_from(["operator", "function", "array_left", "array_right"]))
    return matmul_sample(draw(arrays(sa)), draw(arrays(sb)), how)


# ----------------------------------------------------------------------- linear
LINEAR_FORMS = ["rows", "one_row", "batch", "no_bias", "const_input"]


def linear_sample(x, w, b, form="rows"):
    """``F.linear(x, w, b)``: the fused ``x @ w.T + b`` of a layer; ``b`` may be absent and
    ``x`` a constant (the data of a first layer)."""
    lin = cr.nn.functional.linear
    tl = lambda th: th.nn.functional.linear
    ref = lambda x_, w_, b_=None: x_ @ w_.T + (0 if b_ is None else b_)
    if form == "no_bias":
        return Sample(lambda x_, w_: lin(x_, w_), [T(x), T(w)], ref,
                      lambda th, x_, w_: tl(th)(x_, w_), note=form)
    if form == "const_input":
        return Sample(lambda w_, b_: lin(cr.tensor(x), w_, b_), [T(w), T(b)],
                      lambda w_, b_: ref(x, w_, b_),
                      lambda th, w_, b_: tl(th)(th.as_tensor(x), w_, b_), note=form)
    return Sample(lin, [T(x), T(w), T(b)], ref, lambda th, *a: tl(th)(*a), note=form)


def linear_shapes(form, n=2, k=3, m=2, b=2):
    x = {"one_row": (k,), "batch": (b, n, k)}.get(form, (n, k))
    return x, (m, k), (m,)


@st.composite
def linear(draw):
    form = draw(st.sampled_from(LINEAR_FORMS))
    sx, sw, sb = linear_shapes(form, *draw(st.lists(st.integers(1, 3), min_size=4, max_size=4)))
    return linear_sample(draw(arrays(sx)), draw(arrays(sw)), draw(arrays(sb)), form)


# --------------------------------------------------------------------- mse_loss
MSE_FORMS = ["tensors", "const_target", "list_target"]


def mse_sample(a, b, reduction="mean", form="tensors"):
    """``F.mse_loss(y, t, reduction)``, fused: ``(y − t)²`` averaged, summed or kept."""
    mse = cr.nn.functional.mse_loss
    ref = lambda y, t: {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction]((y - t) ** 2)
    twin = lambda th, y, t: th.nn.functional.mse_loss(y, t, reduction=reduction)
    note = f"{form} reduction={reduction}"
    if form == "tensors":
        return Sample(lambda y, t: mse(y, t, reduction), [T(a), T(b)], ref, twin, note=note)
    t = b.tolist() if form == "list_target" else np.array(b)
    return Sample(lambda y: mse(y, t, reduction), [T(a)], lambda y: ref(y, np.asarray(t)),
                  lambda th, y: twin(th, y, th.as_tensor(np.asarray(t))), note=note)


@st.composite
def mse_loss(draw):
    shape = draw(SHAPES)
    return mse_sample(draw(arrays(shape)), draw(arrays(shape)),
                      draw(st.sampled_from(["mean", "sum", "none"])),
                      draw(st.sampled_from(MSE_FORMS)))


# ------------------------------------------------------------------------ where
def where_sample(cond, a, b, form="tensors"):
    c = cr.tensor(cond) if form == "cond_tensor" else cond

    def twin2(th, x, y):
        return th.where(th.as_tensor(cond), x, y)

    if form == "a_const":
        return Sample(lambda y: cr.where(c, a, y), [T(b)], lambda y: np.where(cond, a, y),
                      lambda th, y: twin2(th, th.as_tensor(a), y), note=form)
    if form == "b_number":
        v = float(np.ravel(b)[0])
        return Sample(lambda x: cr.where(c, x, v), [T(a)], lambda x: np.where(cond, x, v),
                      lambda th, x: twin2(th, x, th.full((), v, dtype=x.dtype)), note=form)
    return Sample(lambda x, y: cr.where(c, x, y), [T(a), T(b)],
                  lambda x, y: np.where(cond, x, y), twin2, note=form)


@st.composite
def where(draw):
    sc, sa, sb = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3,
                                                        max_side=3)).input_shapes
    cond = draw(hnp.arrays(np.bool_, sc))
    form = draw(st.sampled_from(["tensors", "cond_tensor", "a_const", "b_number"]))
    return where_sample(cond, draw(arrays(sa)), draw(arrays(sb)), form)


# ------------------------------------------------------------------- reductions
REDUCE_NP = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}
REDUCE_TH = {"sum": "sum", "mean": "mean", "max": "amax", "min": "amin"}
SPELLINGS = ["axis", "dim", "positional", "method_axis", "method_dim"]


def reduction_sample(name, a, axis, keep, spelling="axis"):
    crf = getattr(cr, name)
    fn = {
        "axis": lambda x: crf(x, axis=axis, keepdims=keep),
        "dim": lambda x: crf(x, dim=axis, keepdim=keep),
        "positional": lambda x: crf(x, axis, keep),
        "method_axis": lambda x: getattr(x, name)(axis=axis, keepdims=keep),
        "method_dim": lambda x: getattr(x, name)(dim=axis, keepdim=keep),
    }[spelling]

    def twin(th, x):
        dims = tuple(range(x.ndim)) if axis is None else axis
        return getattr(th, REDUCE_TH[name])(x, dim=dims, keepdim=keep)

    ref = lambda x: REDUCE_NP[name](x, axis=axis, keepdims=keep)
    return Sample(fn, [T(a)], ref, twin, note=f"{spelling} axis={axis} keep={keep}")


def axis_choices(nd):
    """None, each axis (positive and negative), and each tuple of two or more axes."""
    out = [None] + list(range(-nd, nd))
    for r in range(2, nd + 1):
        out += list(itertools.combinations(range(nd), r))
    if nd >= 2:
        out.append((-1, 0))
    return out


@st.composite
def reduction(draw, name):
    shape = draw(SHAPES)
    a = draw(distinct(shape) if name in ("max", "min") else arrays(shape))
    axis = draw(st.sampled_from(axis_choices(len(shape))))
    return reduction_sample(name, a, axis, draw(st.booleans()), draw(st.sampled_from(SPELLINGS)))


def _softmax_np(a, axis):
    e = np.exp(a)
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax_np(a, axis):
    return a - np.log(np.exp(a).sum(axis=axis, keepdims=True))


def softmax_sample(name, a, axis, spelling="axis"):
    crf = getattr(cr, name)
    fn = {
        "default": lambda x: crf(x),
        "axis": lambda x: crf(x, axis=axis),
        "dim": lambda x: crf(x, dim=axis),
        "positional": lambda x: crf(x, axis),
        "method": lambda x: getattr(x, name)(dim=axis),
    }[spelling]
    if spelling == "default":
        axis = -1
    ref_f = _softmax_np if name == "softmax" else _log_softmax_np
    return Sample(fn, [T(a)], lambda x: ref_f(x, axis),
                  lambda th, x: getattr(th, name)(x, dim=axis), note=f"{spelling} {axis}")


@st.composite
def softmax(draw, name):
    shape = draw(SHAPES_1D)
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    spelling = draw(st.sampled_from(["default", "axis", "dim", "positional", "method"]))
    return softmax_sample(name, draw(arrays(shape, floats(-3.0, 3.0))), axis, spelling)


# --------------------------------------------------------------------- shapes
def reshape_sample(a, new_shape, form="function"):
    fn = {
        "function": lambda x: cr.reshape(x, new_shape),
        "method": lambda x: x.reshape(*new_shape),
        "method_tuple": lambda x: x.reshape(new_shape),
        "view": lambda x: x.view(new_shape),
    }[form]
    return Sample(fn, [T(a)], lambda x: np.reshape(x, new_shape),
                  lambda th, x: x.reshape(new_shape), note=f"{form} {new_shape}")


@st.composite
def reshape(draw):
    shape = draw(SHAPES)
    a = draw(arrays(shape))
    form = draw(st.sampled_from(["function", "method", "method_tuple", "view", "flatten",
                                 "unsqueeze", "squeeze"]))
    if form == "flatten":
        if len(shape) == 1:
            a = a.reshape(shape + (1,))
        return Sample(lambda x: x.flatten(), [T(a)], np.ravel, lambda th, x: x.flatten(),
                      note=form)
    if form == "unsqueeze":
        d = draw(st.integers(-len(shape) - 1, len(shape)))
        return Sample(lambda x: x.unsqueeze(d), [T(a)], lambda x: np.expand_dims(x, d),
                      lambda th, x: x.unsqueeze(d), note=f"{form} {d}")
    if form == "squeeze":
        d = draw(st.integers(0, len(shape)))
        a = np.expand_dims(a, d)
        return Sample(lambda x: cr.squeeze(x, d), [T(a)], lambda x: np.squeeze(x, d),
                      lambda th, x: x.squeeze(d), note=f"{form} {d}")
    # a random factorisation of the size, with 1s inserted and perhaps one -1
    factors = _prime_factors(math.prod(shape))
    factors = draw(st.permutations(factors)) if factors else []
    cuts = sorted(draw(st.sets(st.integers(1, max(len(factors) - 1, 1)), max_size=3)))
    dims = [math.prod(factors[i:j]) for i, j in zip([0] + cuts, cuts + [len(factors)])]
    dims = [d for d in dims if d != 1] or []
    for _ in range(draw(st.integers(0, 2))):
        dims.insert(draw(st.integers(0, len(dims))), 1)
    if tuple(dims) == shape:
        dims.append(1)
    if dims and draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return reshape_sample(a, tuple(dims), form)


def _prime_factors(n):
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


def transpose_sample(a, form, perm=None):
    """Every way to permute axes; ``perm`` for the "function"/"method"/"permute" forms,
    the two swapped axes for "swapaxes"/"torch_pair"."""
    nd = a.ndim
    if form in ("T", "no_args"):
        full = tuple(range(nd - 1, -1, -1))
    elif form in ("swapaxes", "torch_pair", "mT"):
        i, j = perm if form != "mT" else (-1, -2)
        p = list(range(nd))
        p[i], p[j] = p[j], p[i]
        full = tuple(p)
    else:
        full = tuple(perm)
    fn = {
        "T": lambda x: x.T,
        "no_args": lambda x: cr.transpose(x),
        "function": lambda x: cr.transpose(x, perm),
        "method": lambda x: x.transpose(*perm),
        "permute": lambda x: x.permute(*perm),
        "swapaxes": lambda x: cr.swapaxes(x, *perm),
        "torch_pair": lambda x: x.transpose(*perm),
        "mT": lambda x: x.mT,
    }[form]
    return Sample(fn, [T(a)], lambda x: np.transpose(x, full),
                  lambda th, x: x.permute(*full), note=f"{form} {perm} -> {full}")


@st.composite
def transpose(draw):
    nd = draw(st.integers(2, 3))
    a = draw(arrays(draw(hnp.array_shapes(min_dims=nd, max_dims=nd, max_side=3))))
    form = draw(st.sampled_from(["T", "no_args", "function", "method", "permute", "swapaxes",
                                 "mT"] + (["torch_pair"] if nd == 3 else [])))
    if form in ("swapaxes", "torch_pair"):
        i, j = draw(st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=2,
                             unique_by=lambda v: v % nd))
        return transpose_sample(a, form, (i, j))
    perm = draw(st.permutations(range(nd)).filter(lambda p: list(p) != list(range(nd))))
    if draw(st.booleans()):
        perm = [p - nd for p in perm]  # negative axes
    return transpose_sample(a, form, tuple(perm))


@st.composite
def shrunk(draw, shape):
    """A shape that broadcasts to ``shape`` and differs from it: leading axes dropped
    and/or some axes set to 1."""
    for _ in range(100):
        lead = draw(st.integers(0, len(shape)))
        small = tuple(1 if draw(st.booleans()) else s for s in shape[lead:])
        if small != shape:
            return small
    return ()


def broadcast_to_sample(a, shape, form="function"):
    fn = (lambda x: cr.broadcast_to(x, shape)) if form == "function" else (
        lambda x: x.broadcast_to(shape))
    return Sample(fn, [T(a)], lambda x: np.broadcast_to(x, shape),
                  lambda th, x: x.broadcast_to(shape), note=f"{a.shape} -> {shape}")


@st.composite
def broadcast_to(draw):
    target = draw(SHAPES_1D)
    small = draw(shrunk(target))
    return broadcast_to_sample(draw(arrays(small)), target,
                               draw(st.sampled_from(["function", "method"])))


def _sum_to_np(x, shape):
    lead = x.ndim - len(shape)
    x = x.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and x.shape[i] != 1)
    return x.sum(axis=axes, keepdims=True)


def sum_to_sample(a, shape):
    return Sample(lambda x: cr.ops.sum_to(x, shape), [T(a)], lambda x: _sum_to_np(x, shape),
                  lambda th, x: x.sum_to_size(shape) if shape else x.sum(),
                  note=f"{a.shape} -> {shape}")


@st.composite
def sum_to(draw):
    big = draw(SHAPES_1D)
    small = draw(shrunk(big))
    return sum_to_sample(draw(arrays(big)), small)


# ------------------------------------------------------------------- indexing
def _mask(shape, seed):
    m = np.random.default_rng(seed).random(shape) < 0.5
    m.flat[0] = True  # never empty
    return m


# label -> (shape, index); the index may hold ints, slices (negative steps too), None,
# Ellipsis, integer arrays with repeats, boolean masks, lists and Tensors
INDEX_FORMS = {
    "int": ((4,), 2),
    "negative_int": ((4, 3), -1),
    "int_pair": ((4, 3), (2, -1)),
    "slice": ((5,), slice(1, 4)),
    "slice_step": ((5, 3), slice(0, 5, 2)),
    "negative_step": ((5,), slice(None, None, -1)),
    "negative_steps_2d": ((5, 4), (slice(4, 0, -2), slice(None, None, -1))),
    "none": ((3, 4), (None, 1)),
    "ellipsis": ((2, 3, 4), (Ellipsis, 1)),
    "ellipsis_none": ((2, 3, 4), (0, Ellipsis, None)),
    "int_array_repeats": ((5,), np.array([0, 2, 2, 4, 0])),
    "int_array_2d": ((4, 3), np.array([[0, 1], [1, 1]])),
    "int_arrays_paired": ((4, 3), (np.array([0, 0, 3]), np.array([2, 2, -1]))),
    "list_repeats": ((3, 4), [0, 2, 2]),
    "tensor_index": ((3, 4), "tensor:[2, 0, 2]"),
    "bool_mask_full": ((4, 3), _mask((4, 3), 1)),
    "bool_mask_rows": ((4, 3), _mask((4,), 2)),
    "mixed_slice_array_int": ((3, 4, 2), (slice(None), np.array([3, 0, 3]), 1)),
    "mixed_mask_negstep": ((3, 4), (_mask((3,), 3), slice(None, None, -1))),
    "mixed_ellipsis_none_array": ((2, 3), (Ellipsis, None, np.array([1, 1]))),
}


def _index_of(index):
    """The index a user passes (a Tensor where the form says so) and its NumPy twin."""
    if isinstance(index, str) and index.startswith("tensor:"):
        values = eval(index[len("tensor:"):])  # noqa: S307 (a literal list above)
        return cr.tensor(values), np.asarray(values)
    return index, index


def _flat_positions(shape, np_index):
    return np.arange(math.prod(shape)).reshape(shape)[np_index]


def getitem_sample(a, index, form="operator"):
    user, np_index = _index_of(index)
    flat = _flat_positions(a.shape, np_index)
    fn = (lambda x: x[user]) if form == "operator" else (lambda x: cr.ops.getitem(x, user))

    def twin(th, x):
        return x.reshape(-1)[th.as_tensor(flat.ravel())].reshape(flat.shape)

    return Sample(fn, [T(a)], lambda x: x[np_index], twin, note=f"{form} {index!r}")


def scatter_sample(shape, index, g):
    user, np_index = _index_of(index)
    flat = _flat_positions(shape, np_index)
    size = math.prod(shape)

    def ref(x):
        return np.bincount(flat.ravel(), weights=x.ravel(), minlength=size).reshape(shape)

    def twin(th, x):
        out = th.zeros(size, dtype=x.dtype).index_add(0, th.as_tensor(flat.ravel()),
                                                      x.reshape(-1))
        return out.reshape(shape)

    return Sample(lambda x: cr.ops.scatter(x, shape, user), [T(g)], ref, twin,
                  note=repr(index))


@st.composite
def getitem(draw):
    label = draw(st.sampled_from(sorted(INDEX_FORMS)))
    shape, index = INDEX_FORMS[label]
    a = draw(arrays(shape))
    return getitem_sample(a, index, draw(st.sampled_from(["operator", "function"])))


@st.composite
def scatter(draw):
    label = draw(st.sampled_from(sorted(INDEX_FORMS)))
    shape, index = INDEX_FORMS[label]
    out_shape = np.zeros(shape)[_index_of(index)[1]].shape
    return scatter_sample(shape, index, draw(arrays(out_shape)))


# indices that name no position twice: ``a[index] = v`` then writes each element of v once
SETITEM_FORMS = sorted(k for k, (shape, index) in INDEX_FORMS.items()
                       if len(np.unique(_flat_positions(shape, _index_of(index)[1])))
                       == _flat_positions(shape, _index_of(index)[1]).size)


def setitem_sample(a, v, index, form="operator"):
    user, np_index = _index_of(index)
    flat = _flat_positions(a.shape, np_index)

    def fn(x, value):
        if form == "function":
            return cr.ops.setitem(x, user, value)
        h = x * 1.0  # a recorded intermediate: written in place, the graph records setitem_
        h[user] = value
        return h

    def ref(x, value):
        out = x.copy()
        out[np_index] = value
        return out

    def twin(th, x, value):
        idx = th.as_tensor(flat.ravel())
        return x.reshape(-1).scatter(0, idx, value.reshape(-1)).reshape(x.shape)

    return Sample(fn, [T(a), T(v)], ref, twin, note=f"{form} {index!r}")


@st.composite
def setitem(draw):
    label = draw(st.sampled_from(SETITEM_FORMS))
    shape, index = INDEX_FORMS[label]
    v_shape = np.zeros(shape)[_index_of(index)[1]].shape
    return setitem_sample(draw(arrays(shape)), draw(arrays(v_shape)), index,
                          draw(st.sampled_from(["operator", "function"])))


# ------------------------------------------------------------- concatenate, stack
def concatenate_sample(arrs, axis, form="axis", const=None):
    """Join ``arrs``; ``const`` (an index) marks one of them as a plain NumPy array."""
    f = {"axis": lambda xs: cr.concatenate(xs, axis=axis),
         "dim": lambda xs: cr.cat(xs, dim=axis),
         "positional": lambda xs: cr.concatenate(xs, axis)}[form]
    return _join_sample(f, arrs, const, lambda xs: np.concatenate(xs, axis=axis),
                        lambda th, xs: th.cat(xs, dim=axis), f"{form} axis={axis}")


def stack_sample(arrs, axis, form="axis", const=None):
    f = {"axis": lambda xs: cr.stack(xs, axis=axis),
         "dim": lambda xs: cr.stack(xs, dim=axis),
         "positional": lambda xs: cr.stack(xs, axis)}[form]
    return _join_sample(f, arrs, const, lambda xs: np.stack(xs, axis=axis),
                        lambda th, xs: th.stack(xs, dim=axis), f"{form} axis={axis}")


def _join_sample(f, arrs, const, ref, twin, note):
    def insert(xs, c):
        xs = list(xs)
        if const is not None:
            xs.insert(const, c)
        return xs

    c = arrs[const] if const is not None else None
    variable = [a for i, a in enumerate(arrs) if i != const]
    return Sample(lambda *xs: f(insert(xs, c)), [T(a) for a in variable],
                  lambda *xs: ref(insert(xs, c)),
                  lambda th, *xs: twin(th, insert(xs, None if c is None else th.as_tensor(c))),
                  note=f"{note} n={len(arrs)} const={const}")


@st.composite
def concatenate(draw):
    base = list(draw(SHAPES_1D))
    nd = len(base)
    axis = draw(st.integers(-nd, nd - 1))
    n = draw(st.integers(2, 4))
    lengths = draw(st.lists(st.integers(1, 3), min_size=n, max_size=n))
    arrs = []
    for length in lengths:
        s = list(base)
        s[axis] = length
        arrs.append(draw(arrays(tuple(s))))
    const = draw(st.none() | st.integers(0, n - 1))
    return concatenate_sample(arrs, axis, draw(st.sampled_from(["axis", "dim", "positional"])),
                              const)


@st.composite
def stack(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    nd = len(shape) + 1
    n = draw(st.integers(2, 4))
    arrs = [draw(arrays(shape)) for _ in range(n)]
    const = draw(st.none() | st.integers(0, n - 1))
    return stack_sample(arrs, draw(st.integers(-nd, nd - 1)),
                        draw(st.sampled_from(["axis", "dim", "positional"])), const)


# ------------------------------------------------------------------- devices
def _elsewhere(x):
    """Another device than x's: array_api_strict's fake "device1", or the host from there."""
    import array_api_strict as xps

    return xps.Device("device1") if isinstance(x.data, np.ndarray) else "cpu"


def to_device_sample(a, form="to"):
    """x moved to another device, doubled there, and moved back (to x's own device)."""
    there = {"to": lambda x: x.to(_elsewhere(x)),
             "function": lambda x: cr.ops.to_device(x, _elsewhere(x))}[form]
    return Sample(lambda x: cr.ops.to_device(there(x) * 2.0, x.data), [T(a)],
                  lambda x: 2.0 * x, lambda th, x: (x.to("cpu") * 2.0), note=form)


@st.composite
def to_device(draw):
    return to_device_sample(draw(arrays(draw(SHAPES))), draw(st.sampled_from(["to", "function"])))


# ----------------------------------------------------------------- THE registry
SAMPLES = {name: unary(name) for name in UNARY}
SAMPLES.update({name: arith(name) for name in ("add", "sub", "mul", "div")})
SAMPLES.update({name: extremum(name) for name in ("maximum", "minimum")})
SAMPLES.update({name: reduction(name) for name in REDUCE_NP})
SAMPLES.update({name: softmax(name) for name in ("softmax", "log_softmax")})
SAMPLES.update(
    astype=astype(), clip=clip(), pow=power(), matmul=matmul(), linear=linear(), where=where(),
    mse_loss=mse_loss(),
    reshape=reshape(), transpose=transpose(), broadcast_to=broadcast_to(), sum_to=sum_to(),
    getitem=getitem(), scatter=scatter(), setitem=setitem(), concatenate=concatenate(),
    stack=stack(), to_device=to_device(),
)


# ----------------------------------------------------------------- fixed cases
def _fixed_cases():
    """(id, op name, zero-argument builder) for every form that must be checked each run."""
    rng = np.random.default_rng(20240517)
    r = lambda *s: rng.uniform(-2, 2, s)
    p = functools.partial
    cases = []
    shape = (2, 3, 2)
    for name in REDUCE_NP:
        for axis in axis_choices(3):
            for keep in (False, True):
                for spelling in ("axis", "dim"):
                    a = distinct_np(shape, rng) if name in ("max", "min") else r(*shape)
                    cases.append((f"{name}-axis={axis}-keep={keep}-{spelling}", name,
                                  p(reduction_sample, name, a, axis, keep, spelling)))
        a0 = distinct_np((), rng) if name in ("max", "min") else r()
        cases.append((f"{name}-0d", name, p(reduction_sample, name, a0, None, False)))
    for name in ("softmax", "log_softmax"):
        for axis in range(-3, 3):
            for spelling in ("axis", "dim"):
                cases.append((f"{name}-axis={axis}-{spelling}", name,
                              p(softmax_sample, name, r(*shape), axis, spelling)))
    for label, (ishape, index) in INDEX_FORMS.items():
        cases.append((f"getitem-{label}", "getitem", p(getitem_sample, r(*ishape), index)))
        out_shape = np.zeros(ishape)[_index_of(index)[1]].shape
        cases.append((f"scatter-{label}", "scatter",
                      p(scatter_sample, ishape, index, r(*out_shape))))
        if label in SETITEM_FORMS:
            for form in ("operator", "function"):
                cases.append((f"setitem-{label}-{form}", "setitem",
                              p(setitem_sample, r(*ishape), r(*out_shape), index, form)))
    for form in MATMUL_FORMS:
        sa, sb = matmul_shapes(form)
        cases.append((f"matmul-{form}", "matmul", p(matmul_sample, r(*sa), r(*sb))))
    for how in ("array_left", "array_right"):
        cases.append((f"matmul-{how}", "matmul", p(matmul_sample, r(3, 2), r(2, 4), how)))
    for form in LINEAR_FORMS:
        sx, sw, sb = linear_shapes(form)
        cases.append((f"linear-{form}", "linear", p(linear_sample, r(*sx), r(*sw), r(*sb), form)))
    for reduction in ("mean", "sum", "none"):
        for form in MSE_FORMS:
            cases.append((f"mse_loss-{reduction}-{form}", "mse_loss",
                          p(mse_sample, r(3, 2), r(3, 2), reduction, form)))
    for axis in range(-3, 3):
        s = [2, 2, 2]
        arrs = []
        for length in (1, 3, 2):
            s[axis] = length
            arrs.append(r(*s))
        cases.append((f"concatenate-axis={axis}", "concatenate",
                      p(concatenate_sample, arrs, axis, "axis", 1 if axis == 0 else None)))
    for axis in range(-3, 3):
        arrs = [r(2, 3) for _ in range(3)]
        cases.append((f"stack-axis={axis}", "stack", p(stack_sample, arrs, axis, "dim")))
    for sc, sa, sb in [((2, 3), (2, 3), (2, 3)), ((3,), (2, 1), ()), ((2, 1), (1, 3), (3,)),
                       ((), (2, 2), (1,))]:
        cond = rng.random(sc) < 0.5
        cases.append((f"where-{sc}-{sa}-{sb}", "where", p(where_sample, cond, r(*sa), r(*sb))))
    return cases


CASES = _fixed_cases()
