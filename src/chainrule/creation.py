"""Making tensors: from data, and the usual factories (zeros, ones, randn, ...)."""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, as_array

_FLOATS = (np.float16, np.float32, np.float64)
_default = [np.float64]  # the one process-wide setting, as PyTorch's default dtype


def set_default_dtype(dtype):
    """The floating-point dtype of new tensors made from Python floats, of the factories
    (``zeros``, ``randn``, ...) and of ``nn`` layers' parameters: float64 unless set
    (the text's gradchecks want it); float32 for speed. Arrays keep their own dtype."""
    try:
        d = np.dtype(dtype).type
    except TypeError:
        d = None
    if d not in _FLOATS:
        raise TypeError(f"set_default_dtype: expected float16, float32 or float64, got {dtype!r}")
    _default[0] = d


def get_default_dtype():
    """The dtype that :func:`set_default_dtype` set (``np.float64`` unless changed)."""
    return _default[0]


def _floats(dtype):
    return _default[0] if dtype is None else dtype


def tensor(data, requires_grad=False, dtype=None):
    """A new tensor holding a copy of ``data``.

    Parameters
    ----------
    data : number, (nested) list, NumPy array or Tensor
    requires_grad : bool
        Record operations on it so ``backward()`` computes its ``.grad``.
    dtype : optional
        NumPy dtype. By default an array's or tensor's own dtype is kept, Python ints give
        int64, and Python floats the default dtype (``get_default_dtype()``, float64).
    """
    arr = as_array(data, dtype=dtype, copy=True)
    if dtype is None and arr.dtype == np.float64 and _default[0] is not np.float64 \
            and not isinstance(data, (np.ndarray, np.generic, Tensor)):
        arr = arr.astype(_default[0])
    t = Tensor.__new__(Tensor)
    Tensor.__init__(t, arr, requires_grad=requires_grad)
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


def zeros(*shape, dtype=None, requires_grad=False):
    """A tensor of zeros."""
    return _make(np.zeros(_shape(shape), dtype=_floats(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    """A tensor of ones."""
    return _make(np.ones(_shape(shape), dtype=_floats(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    """A tensor of ``shape`` filled with ``fill_value`` (a Python float: the default dtype)."""
    if dtype is None and isinstance(fill_value, float):
        dtype = _default[0]
    return _make(np.full(tuple(np.atleast_1d(shape)) if not isinstance(shape, tuple) else shape,
                         fill_value, dtype=dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    """Zeros shaped like ``t``."""
    return _make(np.zeros_like(np.asarray(t), dtype=dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    """Ones shaped like ``t``."""
    return _make(np.ones_like(np.asarray(t), dtype=dtype), requires_grad)


def arange(*args, dtype=None, requires_grad=False):
    """Evenly spaced values, as ``np.arange`` (floats in the default dtype)."""
    arr = np.arange(*args, dtype=dtype)
    if dtype is None and arr.dtype == np.float64:
        arr = arr.astype(_default[0], copy=False)
    return _make(arr, requires_grad)


def linspace(start, stop, num=50, dtype=None, requires_grad=False):
    """``num`` evenly spaced values from start to stop, as ``np.linspace``."""
    return _make(np.linspace(start, stop, num, dtype=_floats(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    """Identity matrix."""
    return _make(np.eye(n, m, dtype=_floats(dtype)), requires_grad)


def randn(*shape, seed=None, generator=None, dtype=None, requires_grad=False):
    """Standard normal samples; ``seed`` or a ``np.random.Generator`` make them repeatable."""
    rng = generator if generator is not None else np.random.default_rng(seed)
    return _make(rng.standard_normal(_shape(shape)).astype(_floats(dtype), copy=False),
                 requires_grad)


def rand(*shape, seed=None, generator=None, dtype=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    rng = generator if generator is not None else np.random.default_rng(seed)
    return _make(rng.random(_shape(shape)).astype(_floats(dtype), copy=False), requires_grad)
