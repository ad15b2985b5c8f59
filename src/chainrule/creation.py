"""Making tensors: from data, and the usual factories (zeros, ones, randn, ...)."""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, as_array


def tensor(data, requires_grad=False, dtype=None) -> Tensor:
    """A new tensor holding a copy of ``data``.

    Parameters
    ----------
    data : number, (nested) list, NumPy array or Tensor
    requires_grad : bool
        Record operations on it so ``backward()`` computes its ``.grad``.
    dtype : optional
        NumPy dtype; by default NumPy's choice (Python floats give float64, ints int64),
        and an array's own dtype is kept.

    Examples
    --------
    >>> x = cr.tensor([[1.0, 2.0]], requires_grad=True)
    >>> x.shape, x.dtype, x.requires_grad
    ((1, 2), dtype('float64'), True)
    >>> cr.tensor(np.arange(3, dtype=np.float32)).dtype     # an array's dtype is kept
    dtype('float32')
    """
    t = Tensor.__new__(Tensor)
    Tensor.__init__(t, as_array(data, dtype=dtype, copy=True), requires_grad=requires_grad)
    return t


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with ``array`` (no copy).

    Examples
    --------
    >>> a = np.zeros(3)
    >>> t = cr.from_numpy(a)
    >>> a[0] = 5.0                  # the tensor sees the change: same memory
    >>> t
    tensor([5., 0., 0.])
    """
    return Tensor(array)


def _make(arr, requires_grad):
    return Tensor(arr, requires_grad=requires_grad)


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def zeros(*shape, dtype=np.float64, requires_grad=False) -> Tensor:
    """A tensor of zeros.

    Examples
    --------
    >>> cr.zeros(2, 3).shape, cr.zeros((2, 3), dtype=np.float32).dtype
    ((2, 3), dtype('float32'))
    """
    return _make(np.zeros(_shape(shape), dtype=dtype), requires_grad)


def ones(*shape, dtype=np.float64, requires_grad=False) -> Tensor:
    """A tensor of ones.

    Examples
    --------
    >>> cr.ones(3)
    tensor([1., 1., 1.])
    """
    return _make(np.ones(_shape(shape), dtype=dtype), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``.

    Examples
    --------
    >>> cr.full((2, 2), 0.5)
    tensor([[0.5, 0.5],
            [0.5, 0.5]])
    """
    return _make(np.full(tuple(np.atleast_1d(shape)) if not isinstance(shape, tuple) else shape,
                         fill_value, dtype=dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False) -> Tensor:
    """Zeros shaped like ``t``.

    Examples
    --------
    >>> cr.zeros_like(cr.ones(2, 2)).sum().item()
    0.0
    """
    return _make(np.zeros_like(np.asarray(t), dtype=dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad=False) -> Tensor:
    """Ones shaped like ``t``.

    Examples
    --------
    >>> cr.ones_like(np.zeros((2, 3))).shape
    (2, 3)
    """
    return _make(np.ones_like(np.asarray(t), dtype=dtype), requires_grad)


def arange(*args, dtype=None, requires_grad=False) -> Tensor:
    """Evenly spaced values, as ``np.arange``.

    Examples
    --------
    >>> cr.arange(4)
    tensor([0, 1, 2, 3])
    >>> cr.arange(0.0, 1.0, 0.25)
    tensor([0.  , 0.25, 0.5 , 0.75])
    """
    return _make(np.arange(*args, dtype=dtype), requires_grad)


def linspace(start, stop, num=50, dtype=None, requires_grad=False) -> Tensor:
    """``num`` evenly spaced values from start to stop, as ``np.linspace``.

    Examples
    --------
    >>> cr.linspace(-1, 1, 5)
    tensor([-1. , -0.5,  0. ,  0.5,  1. ])
    """
    return _make(np.linspace(start, stop, num, dtype=dtype), requires_grad)


def eye(n, m=None, dtype=np.float64, requires_grad=False) -> Tensor:
    """Identity matrix.

    Examples
    --------
    >>> cr.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    return _make(np.eye(n, m, dtype=dtype), requires_grad)


def randn(*shape, seed=None, generator=None, dtype=np.float64, requires_grad=False) -> Tensor:
    """Standard normal samples; ``seed`` or a ``np.random.Generator`` make them repeatable.

    Examples
    --------
    >>> a, b = cr.randn(2, 3, seed=0), cr.randn(2, 3, seed=0)
    >>> a.shape, bool((a.numpy() == b.numpy()).all())      # the same seed, the same values
    ((2, 3), True)
    """
    rng = generator if generator is not None else np.random.default_rng(seed)
    return _make(rng.standard_normal(_shape(shape)).astype(dtype, copy=False), requires_grad)


def rand(*shape, seed=None, generator=None, dtype=np.float64, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1).

    Examples
    --------
    >>> u = cr.rand(1000, seed=1).numpy()
    >>> bool(u.min() >= 0.0 and u.max() < 1.0)
    True
    """
    rng = generator if generator is not None else np.random.default_rng(seed)
    return _make(rng.random(_shape(shape)).astype(dtype, copy=False), requires_grad)
