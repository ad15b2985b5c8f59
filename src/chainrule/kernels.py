"""NumPy kernels behind the ops: the forwards that are more than one NumPy call, and the
speed shims (``np.add.reduce`` where ``np.sum`` would add a layer of Python, small
broadcasts copied out). ``ops.py`` holds the table and its formulas; these are how.

Arrays are created from their inputs (``np.zeros_like(g, shape=...)``), so the functions
dispatch on whatever array type they are given.
"""

from __future__ import annotations

import math

import numpy as np

from .tensor import _asarray  # np.asarray, which a cr.compile stand-in answers itself

# np.sum, np.max and np.min call these after a layer of Python; the kernels call them directly
add_reduce, max_reduce, min_reduce = np.add.reduce, np.maximum.reduce, np.minimum.reduce


def count(shape, axis):
    """How many elements a reduction over ``axis`` (None: all) combines."""
    n = 1
    for i, s in enumerate(shape):
        if axis is None or i in axis:
            n *= s
    return n


def sum(x, axis, keepdims):  # noqa: A001 (the op's name)
    return add_reduce(x, axis, None, None, keepdims)


def max(x, axis, keepdims):  # noqa: A001
    return max_reduce(x, axis, None, None, keepdims)


def min(x, axis, keepdims):  # noqa: A001
    return min_reduce(x, axis, None, None, keepdims)


def mean(x, axis, keepdims):
    if x.dtype.kind == "f" and x.dtype.itemsize >= 4:  # np.mean's work, without its wrapper
        return add_reduce(x, axis, None, None, keepdims) / count(x.shape, axis)
    return np.mean(x, axis=axis, keepdims=keepdims)


def sum_to(x, shape):
    """Sum a broadcast result back to ``shape`` (the one place broadcasting is undone)."""
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    return add_reduce(x, axes, None, None, True).reshape(shape)


def broadcast_to(x, shape):
    """``np.broadcast_to``, copied out when small: a read-only view costs more to make."""
    if count(shape, None) > 4096:
        return np.broadcast_to(x, shape)
    out = np.empty_like(x, shape=shape)
    out[...] = x
    return out


def scatter(g, shape, index):
    """Zeros of ``shape`` with ``g`` added at ``index`` (the VJP of indexing)."""
    out = np.zeros_like(g, shape=shape)
    if _has_int_array(index):
        np.add.at(out, index, g)  # repeated indices must add up
    else:
        out[index] = g
    return out


def _has_int_array(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


def unwritten(shape, index):
    """True where ``a[index] = value`` leaves ``a`` as it was (setitem's VJP for ``a``)."""
    keep = np.ones(shape, dtype=bool)
    keep[index] = False
    return keep


def stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def softmax(x, axis):
    e = np.exp(x - max(x, axis, True))
    return e / add_reduce(e, axis, None, None, True)


def log_softmax(x, axis):
    s = x - max(x, axis, True)
    return s - np.log(add_reduce(np.exp(s), axis, None, None, True))


def linear(x, w, b=None):
    out = x @ w.T
    if b is None:
        return out
    if out.dtype == np.result_type(out, b):
        out += b  # in place: the step keeps one array per layer, not x@Wᵀ and x@Wᵀ + b
        return out
    return out + b


def mse(x, t, reduction):
    d = x - t
    d = d * d
    if reduction == "none":
        return d
    s = add_reduce(d, None)
    return _asarray(s / d.size if reduction == "mean" else s)


# ------------------------------------------- the same kernels for other array libraries
# (``B`` is a chainrule.backend.Backend: ``B.xp`` the library's array-API namespace)
def generic_sigmoid(B, x):
    xp = B.xp
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def generic_reduction(name):
    """sum/mean/max/min over ``axis`` (None or a tuple), NumPy's dtypes: booleans sum as
    integers, integers average as float64."""
    def reduce(B, x, axis, keepdims):
        xp = B.xp
        if name in ("sum", "mean") and xp.isdtype(x.dtype, "bool"):
            x = xp.astype(x, xp.int64)
        if name == "mean" and not xp.isdtype(x.dtype, "real floating"):
            x = xp.astype(x, xp.float64)
        return getattr(xp, name)(x, axis=axis, keepdims=keepdims)
    return reduce


def generic_softmax(B, x, axis):
    xp = B.xp
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def generic_log_softmax(B, x, axis):
    xp = B.xp
    s = x - xp.max(x, axis=axis, keepdims=True)
    return s - xp.log(xp.sum(xp.exp(s), axis=axis, keepdims=True))


def generic_sum_to(B, x, shape):
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    return B.xp.reshape(B.xp.sum(x, axis=axes, keepdims=True), shape)


def generic_linear(B, x, w, b=None):
    out = B.xp.matmul(x, B.xp.matrix_transpose(w))
    return out if b is None else out + b


def generic_mse(B, x, t, reduction):
    xp = B.xp
    d = x - t
    d = d * d
    if reduction == "none":
        return d
    s = xp.sum(d)
    return s / math.prod(d.shape) if reduction == "mean" else s
