"""Making tensors: from data, and the usual factories (zeros, ones, randn, ...)."""

from __future__ import annotations

import numpy as np

from . import backend as _backend
from .compiler import create
from .tensor import Tensor, as_array

_FLOATS = (np.float16, np.float32, np.float64)
_default = [np.float64]  # the one process-wide setting, as PyTorch's default dtype


def set_default_dtype(dtype):
    """The floating-point dtype of new tensors made from Python floats, of the factories
    (``zeros``, ``randn``, ...) and of ``nn`` layers' parameters: float64 unless set
    (the text's gradchecks want it); float32 for speed. Arrays keep their own dtype.

    Examples
    --------
    >>> cr.set_default_dtype(np.float32)
    >>> cr.tensor([0.5]).dtype, cr.zeros(2).dtype, cr.tensor(np.zeros(2)).dtype
    (dtype('float32'), dtype('float32'), dtype('float64'))
    >>> cr.set_default_dtype(np.float64)
    """
    try:
        d = np.dtype(dtype).type
    except TypeError:
        d = None
    if d not in _FLOATS:
        raise TypeError(f"set_default_dtype: expected float16, float32 or float64, got {dtype!r}")
    _default[0] = d


def get_default_dtype():
    """The dtype that :func:`set_default_dtype` set (``np.float64`` unless changed).

    Examples
    --------
    >>> cr.get_default_dtype()
    <class 'numpy.float64'>
    """
    return _default[0]


def _floats(dtype):
    return _default[0] if dtype is None else dtype


def tensor(data, requires_grad=False, dtype=None, device=None) -> Tensor:
    """A new tensor holding a copy of ``data``.

    Parameters
    ----------
    data : number, (nested) list, NumPy array or Tensor
    requires_grad : bool
        Record operations on it so ``backward()`` computes its ``.grad``.
    dtype : optional
        NumPy dtype. By default an array's or tensor's own dtype is kept, Python ints give
        int64, and Python floats the default dtype (``get_default_dtype()``, float64).
    device : optional
        "cpu" (NumPy, the default), "cuda" or "cuda:N" (CuPy), or a library's device;
        see ``Tensor.to``.

    Examples
    --------
    >>> x = cr.tensor([[1.0, 2.0]], requires_grad=True)
    >>> x.shape, x.dtype, x.requires_grad
    ((1, 2), dtype('float64'), True)
    >>> cr.tensor(np.arange(3, dtype=np.float32)).dtype     # an array's dtype is kept
    dtype('float32')
    """
    if device is not None and device != "cpu":
        t = tensor(data, dtype=dtype)
        t = Tensor(_backend.move(t.data, device))
        return t.requires_grad_(True) if requires_grad else t
    arr = as_array(data, dtype=dtype, copy=True)
    if type(arr) is not np.ndarray:  # another library's array: its own dtype, or dtype
        t = Tensor.__new__(Tensor)
        Tensor.__init__(t, arr, requires_grad=requires_grad)
        return t
    if dtype is None and arr.dtype == np.float64 and _default[0] is not np.float64 \
            and not isinstance(data, (np.ndarray, np.generic, Tensor)):
        arr = arr.astype(_default[0])
    t = Tensor.__new__(Tensor)
    Tensor.__init__(t, arr, requires_grad=requires_grad)
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


def zeros(*shape, dtype=None, requires_grad=False) -> Tensor:
    """A tensor of zeros.

    Examples
    --------
    >>> cr.zeros(2, 3).shape, cr.zeros((2, 3), dtype=np.float32).dtype
    ((2, 3), dtype('float32'))
    """
    return _make(create(np.zeros, _shape(shape), dtype=_floats(dtype)), requires_grad)


def ones(*shape, dtype=None, requires_grad=False) -> Tensor:
    """A tensor of ones.

    Examples
    --------
    >>> cr.ones(3)
    tensor([1., 1., 1.])
    """
    return _make(create(np.ones, _shape(shape), dtype=_floats(dtype)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (a Python float: the default dtype).

    Examples
    --------
    >>> cr.full((2, 2), 0.5)
    tensor([[0.5, 0.5],
            [0.5, 0.5]])
    """
    if dtype is None and isinstance(fill_value, float):
        dtype = _default[0]
    shape = tuple(np.atleast_1d(shape)) if not isinstance(shape, tuple) else shape
    return _make(create(np.full, shape, fill_value, dtype=dtype), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False) -> Tensor:
    """Zeros shaped like ``t``.

    Examples
    --------
    >>> cr.zeros_like(cr.ones(2, 2)).sum().item()
    0.0
    """
    return _make(_like("zeros", as_array(t, where="zeros_like"), dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad=False) -> Tensor:
    """Ones shaped like ``t``.

    Examples
    --------
    >>> cr.ones_like(np.zeros((2, 3))).shape
    (2, 3)
    """
    return _make(_like("ones", as_array(t, where="ones_like"), dtype), requires_grad)


def _like(name, arr, dtype):
    """``np.zeros_like``/``np.ones_like``, or the same function of ``arr``'s own library."""
    b = _backend.of(arr) if type(arr) is not np.ndarray else None
    if b is None:
        return getattr(np, name + "_like")(arr, dtype=dtype)
    return getattr(b.xp, name + "_like")(arr, dtype=None if dtype is None else b.dtype(dtype))


def arange(*args, dtype=None, requires_grad=False) -> Tensor:
    """Evenly spaced values, as ``np.arange`` (floats in the default dtype).

    Examples
    --------
    >>> cr.arange(4)
    tensor([0, 1, 2, 3])
    >>> cr.arange(0.0, 1.0, 0.25)
    tensor([0.  , 0.25, 0.5 , 0.75])
    """
    arr = create(np.arange, *args, dtype=dtype)
    if dtype is None and arr.dtype == np.float64:
        arr = arr.astype(_default[0], copy=False)
    return _make(arr, requires_grad)


def linspace(start, stop, num=50, dtype=None, requires_grad=False) -> Tensor:
    """``num`` evenly spaced values from start to stop, as ``np.linspace``.

    Examples
    --------
    >>> cr.linspace(-1, 1, 5)
    tensor([-1. , -0.5,  0. ,  0.5,  1. ])
    """
    return _make(create(np.linspace, start, stop, num, dtype=_floats(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False) -> Tensor:
    """Identity matrix.

    Examples
    --------
    >>> cr.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    return _make(create(np.eye, n, m, dtype=_floats(dtype)), requires_grad)


def randn(*shape, seed=None, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """Standard normal samples; ``seed`` or a ``np.random.Generator`` make them repeatable.

    Examples
    --------
    >>> a, b = cr.randn(2, 3, seed=0), cr.randn(2, 3, seed=0)
    >>> a.shape, bool((a.numpy() == b.numpy()).all())      # the same seed, the same values
    ((2, 3), True)
    """
    draw = create(_draw, generator, seed, "standard_normal", _shape(shape), random=True)
    return _make(draw.astype(_floats(dtype), copy=False), requires_grad)


def rand(*shape, seed=None, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1).

    Examples
    --------
    >>> u = cr.rand(1000, seed=1).numpy()
    >>> bool(u.min() >= 0.0 and u.max() < 1.0)
    True
    """
    draw = create(_draw, generator, seed, "random", _shape(shape), random=True)
    return _make(draw.astype(_floats(dtype), copy=False), requires_grad)


def _draw(generator, seed, method, shape):
    """Samples from ``generator``, or from a new one seeded with ``seed`` (None: fresh
    entropy), made per call: under cr.compile each replay draws again."""
    rng = generator if generator is not None else np.random.default_rng(seed)
    return getattr(rng, method)(shape)
