"""Making tensors: from data, and the usual factories (zeros, ones, randn, ...)."""

from __future__ import annotations

import numpy as np

from .compiler import create
from .tensor import Tensor, as_array


def tensor(data, requires_grad=False, dtype=None):
    """A new tensor holding a copy of ``data``.

    Parameters
    ----------
    data : number, (nested) list, NumPy array or Tensor
    requires_grad : bool
        Record operations on it so ``backward()`` computes its ``.grad``.
    dtype : optional
        NumPy dtype; by default NumPy's choice (Python floats give float64, ints int64),
        and an array's own dtype is kept.
    """
    t = Tensor.__new__(Tensor)
    Tensor.__init__(t, as_array(data, dtype=dtype, copy=True), requires_grad=requires_grad)
    return t


def from_numpy(array):
    """A tensor sharing memory with ``array`` (no copy)."""
    return Tensor(array)


def _make(arr, requires_grad):
    return Tensor(arr, requires_grad=requires_grad)


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def zeros(*shape, dtype=np.float64, requires_grad=False):
    """A tensor of zeros."""
    return _make(create(np.zeros, _shape(shape), dtype=dtype), requires_grad)


def ones(*shape, dtype=np.float64, requires_grad=False):
    """A tensor of ones."""
    return _make(create(np.ones, _shape(shape), dtype=dtype), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    """A tensor of ``shape`` filled with ``fill_value``."""
    shape = tuple(np.atleast_1d(shape)) if not isinstance(shape, tuple) else shape
    return _make(create(np.full, shape, fill_value, dtype=dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    """Zeros shaped like ``t``."""
    return _make(np.zeros_like(as_array(t, where="zeros_like"), dtype=dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    """Ones shaped like ``t``."""
    return _make(np.ones_like(as_array(t, where="ones_like"), dtype=dtype), requires_grad)


def arange(*args, dtype=None, requires_grad=False):
    """Evenly spaced values, as ``np.arange``."""
    return _make(create(np.arange, *args, dtype=dtype), requires_grad)


def linspace(start, stop, num=50, dtype=None, requires_grad=False):
    """``num`` evenly spaced values from start to stop, as ``np.linspace``."""
    return _make(create(np.linspace, start, stop, num, dtype=dtype), requires_grad)


def eye(n, m=None, dtype=np.float64, requires_grad=False):
    """Identity matrix."""
    return _make(create(np.eye, n, m, dtype=dtype), requires_grad)


def randn(*shape, seed=None, generator=None, dtype=np.float64, requires_grad=False):
    """Standard normal samples; ``seed`` or a ``np.random.Generator`` make them repeatable."""
    draw = create(_draw, generator, seed, "standard_normal", _shape(shape), random=True)
    return _make(draw.astype(dtype, copy=False), requires_grad)


def rand(*shape, seed=None, generator=None, dtype=np.float64, requires_grad=False):
    """Uniform samples in [0, 1)."""
    return _make(create(_draw, generator, seed, "random", _shape(shape), random=True)
                 .astype(dtype, copy=False), requires_grad)


def _draw(generator, seed, method, shape):
    """Samples from ``generator``, or from a new one seeded with ``seed`` (None: fresh
    entropy), made per call: under cr.compile each replay draws again."""
    rng = generator if generator is not None else np.random.default_rng(seed)
    return getattr(rng, method)(shape)
