"""Array backends: which library holds a tensor's data (Chainer's ``xp``).

A tensor's array module is known from its data. NumPy arrays, NumPy scalars, Python
numbers and ``cr.compile``'s stand-ins take NumPy's path (``op.forward``, the speed shims
of ``kernels.py``), unchanged. Any other array goes through
``array_api_compat.array_namespace(x)`` (imported on first use) and each op's
array-API forward (``op.generic``, see ``ops.defop``); the few operations the standard
lacks, or spells differently from NumPy, have one shim each here: scatter-add (the VJP
of indexing), indexing and writing with integer arrays, NumPy's promotion of booleans in
arithmetic, NumPy dtypes given by the user, and moving data to the host.

Arrays of two libraries or two devices never meet in one op: :class:`DeviceError`
names both (no silent transfer).

Devices have PyTorch's names: ``"cpu"`` (NumPy), ``"cuda"`` / ``"cuda:N"`` (CuPy), and
for other libraries what ``t.device`` says, e.g. ``"array_api_strict:device1"``;
:func:`move` takes any of them, a library's device object, or an array on the device.
``cr.save`` writes host copies of device tensors and ``cr.load(map_location=...)`` puts
them back on a device; ``cr.compile`` runs on NumPy only and refuses the others.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ChainruleError

__all__ = ["DeviceError", "Backend", "of", "describe", "move", "common", "forward", "ufuncs"]


class DeviceError(ChainruleError, ValueError):
    """Arrays on two devices (or of two array libraries) met in one operation.

    Examples
    --------
    >>> import array_api_strict as xps
    >>> a = cr.tensor(xps.asarray([1.0], device=xps.Device("device1")))
    >>> a + cr.tensor([1.0])
    Traceback (most recent call last):
        ...
    chainrule.backend.DeviceError: add: inputs on different devices, ...device1 and cpu (numpy); ...
    """


class Backend:
    """One array library: ``xp`` (its array-API namespace) and the shims the engine needs.

    Examples
    --------
    >>> import array_api_strict as xps
    >>> b = cr.backend.of(xps.asarray([1.0, 2.0]))
    >>> b.name, b.describe(xps.asarray([1.0]))
    ('array_api_strict', 'array_api_strict:CPU_DEVICE')
    """

    def __init__(self, xp, name):
        self.xp = xp
        self.name = name

    # --------------------------------------------------------------- devices
    def device(self, x):
        return self.xp.asarray(x).device if not hasattr(x, "device") else x.device

    def describe(self, x):
        """The device of ``x`` in words, e.g. ``cuda:0`` or ``array_api_strict:device1``."""
        dev = self.device(x)
        name = getattr(dev, "_device", None) or str(dev)
        return f"{self.name}:{name}"

    def to_host(self, x):
        """``x`` as a NumPy array (an explicit copy to the host)."""
        if hasattr(x, "to_device") and hasattr(self.xp, "Device"):  # array_api_strict
            x = x.to_device(self.xp.Device("CPU_DEVICE"))
        return np.asarray(x)

    def from_host(self, a, like):
        """NumPy data ``a`` as an array of this library on ``like``'s device."""
        return self.xp.asarray(a, device=self.device(like))

    # ---------------------------------------------------------------- dtypes
    def dtype(self, d):
        """This library's dtype for ``d`` (a NumPy dtype, its name, or a native dtype)."""
        try:
            return getattr(self.xp, np.dtype(d).name)
        except TypeError:
            return d

    def np_dtype(self, d):
        """The NumPy dtype of native dtype ``d`` (chainrule reports NumPy dtypes)."""
        if isinstance(d, np.dtype):
            return d
        return np.dtype(str(d).rsplit(".", 1)[-1])

    def astype(self, x, d):
        return self.xp.astype(x, self.dtype(d))

    def copy(self, x):
        return self.xp.asarray(x, copy=True)

    # ------------------------------------------------------- NumPy's behaviour
    def promote(self, a, b):
        """NumPy's promotion where the standard refuses: a boolean array or Python bool
        meeting a number, a Python float meeting an integer array."""
        xp = self.xp
        if isinstance(a, np.generic):
            a = a.item()
        if isinstance(b, np.generic):
            b = b.item()
        ka, kb = self._kind(a), self._kind(b)
        if ka == kb:
            return a, b
        if ka == "b":
            a = self._cast(a, b)
        elif kb == "b":
            b = self._cast(b, a)
        elif ka == "i" and kb == "f" and not isinstance(a, (int, float)):
            a = xp.astype(a, xp.float64 if isinstance(b, float) else b.dtype)
        elif kb == "i" and ka == "f" and not isinstance(b, (int, float)):
            b = xp.astype(b, xp.float64 if isinstance(a, float) else a.dtype)
        return a, b

    def _kind(self, a):
        if isinstance(a, bool):
            return "b"
        if isinstance(a, int):
            return "i"
        if isinstance(a, float):
            return "f"
        xp = self.xp
        if xp.isdtype(a.dtype, "bool"):
            return "b"
        return "i" if xp.isdtype(a.dtype, "integral") else "f"

    def _cast(self, mask, other):
        if isinstance(mask, bool):
            return int(mask) if isinstance(other, int) else float(mask)
        if isinstance(other, (int, float)):
            return self.xp.astype(mask, self.xp.float64 if isinstance(other, float)
                                  else self.xp.int64)
        return self.xp.astype(mask, other.dtype)

    # --------------------------------------------------------------- indexing
    def _positions(self, shape, index):
        """The flat positions ``index`` selects in an array of ``shape``: index arithmetic
        on the host, from the shape alone (never the data)."""
        return np.arange(math.prod(shape)).reshape(shape)[self._host_index(index)]

    def _host_index(self, index):
        parts = index if isinstance(index, tuple) else (index,)
        out = tuple(self.to_host(p) if _is_array(p) and not isinstance(p, np.ndarray)
                    else p for p in parts)
        return out if isinstance(index, tuple) else out[0]

    def _take(self, x, pos):
        xp = self.xp
        flat = xp.reshape(x, (-1,))
        idx = xp.asarray(np.ascontiguousarray(pos.ravel()), device=self.device(x))
        return xp.reshape(xp.take(flat, idx), pos.shape)

    def getitem(self, x, index):
        """``x[index]`` for any NumPy index (ints, slices, None, Ellipsis, integer arrays,
        boolean masks): a ``take`` of the host-computed positions."""
        return self._take(x, self._positions(x.shape, index))

    def scatter(self, g, shape, index):
        """Zeros of ``shape`` with ``g`` added at ``index``, repeats adding up: without a
        scatter-add in the standard, the k-th occurrences of each position are gathered
        in the k-th of as many passes as a position repeats (usually one), summed in the
        order ``np.add.at`` sums them."""
        xp = self.xp
        pos = self._positions(shape, index).ravel()
        n = math.prod(shape)
        gf = xp.reshape(xp.broadcast_to(g, self._positions(shape, index).shape), (-1,))
        gz = xp.concat([gf, xp.zeros(1, dtype=g.dtype, device=self.device(g))])
        order = np.argsort(pos, kind="stable")
        sp = pos[order]
        first = np.r_[0, np.flatnonzero(np.diff(sp)) + 1] if sp.size else np.zeros(0, int)
        rank = np.arange(sp.size) - np.repeat(first, np.diff(np.r_[first, sp.size]))
        out = None
        for k in range(int(rank.max()) + 1 if sp.size else 0):
            src = np.full(n, gf.shape[0])
            sel = rank == k
            src[sp[sel]] = order[sel]
            part = self._take(gz, src.reshape(shape))
            out = part if out is None else out + part
        return xp.zeros(shape, dtype=g.dtype, device=self.device(g)) if out is None else out

    def setitem(self, a, value, index):
        """A copy of ``a`` with ``value`` written at ``index`` (the last write wins)."""
        xp = self.xp
        sel = self._positions(a.shape, index)
        n = math.prod(a.shape)
        src = np.zeros(n, dtype=np.intp)
        written = np.zeros(n, dtype=bool)
        src[sel.ravel()] = np.arange(sel.size)
        written[sel.ravel()] = True
        if not _is_array(value) or isinstance(value, np.ndarray):
            value = xp.asarray(value, dtype=a.dtype, device=self.device(a))
        vb = xp.reshape(xp.broadcast_to(xp.astype(value, a.dtype), sel.shape), (-1,))
        if sel.size == 0:
            return self.copy(a)
        dev = self.device(a)
        picked = xp.take(vb, xp.asarray(src, device=dev))
        out = xp.where(xp.asarray(written, device=dev), picked, xp.reshape(a, (-1,)))
        return xp.reshape(out, a.shape)

    def unwritten(self, shape, index, like):
        keep = np.ones(shape, dtype=bool)
        keep[self._host_index(index)] = False
        return self.from_host(keep, like)

    @property
    def ufuncs(self):
        """NumPy's ufunc calls with ``out=`` for this library (see :func:`ufuncs`)."""
        u = self.__dict__.get("_ufuncs")
        if u is None:
            u = self._ufuncs = InPlace(self.xp)
        return u

    def __repr__(self):
        return f"<backend {self.name}>"


class InPlace:
    """NumPy's calls that optimizers and ``nn.utils`` make (``multiply(a, b, out=a)``,
    ``zeros_like``, ...) for a library of the array-API standard, which has no ``out=``:
    each result is written into ``out`` with ``out[...] = r`` (the standard's in-place
    write), so buffers and parameters keep their identity, as NumPy's ``out=`` keeps it.
    A library whose arrays are immutable (JAX) refuses the write loudly.

    Examples
    --------
    >>> import array_api_strict as xps
    >>> w = xps.asarray([1.0, 2.0])
    >>> u = cr.backend.ufuncs(w)
    >>> u.multiply(w, 0.5, out=w) is w, w[1] == 1.0
    (True, Array(True, dtype=array_api_strict.bool))
    """

    def __init__(self, xp):
        self.xp = xp

    @staticmethod
    def _put(r, out):
        if out is None:
            return r
        out[...] = r
        return out

    def multiply(self, a, b, out=None):
        return self._put(a * b, out)

    def add(self, a, b, out=None):
        return self._put(a + b, out)

    def subtract(self, a, b, out=None):
        return self._put(a - b, out)

    def divide(self, a, b, out=None):
        return self._put(a / b, out)

    def sqrt(self, a, out=None):
        return self._put(self.xp.sqrt(a), out)

    def maximum(self, a, b, out=None):
        return self._put(self.xp.maximum(a, b), out)

    def clip(self, a, lo, hi, out=None):
        return self._put(self.xp.clip(a, lo, hi), out)

    def zeros_like(self, a):
        return self.xp.zeros_like(a)

    def full_like(self, a, value):
        return self.xp.full_like(a, value)

    def empty_like(self, a):
        return self.xp.empty_like(a)

    def copy(self, a):
        return self.xp.asarray(a, copy=True)


class _CuPy(Backend):
    """CuPy: NumPy's indexing and ``cupyx.scatter_add`` on the GPU."""

    def describe(self, x):
        return f"cuda:{x.device.id}"

    def to_host(self, x):
        return x.get()

    def from_host(self, a, like):
        with like.device:
            return self.xp.asarray(a)

    def np_dtype(self, d):
        return np.dtype(d)

    def dtype(self, d):
        return np.dtype(d)

    def _gpu_index(self, index):
        parts = index if isinstance(index, tuple) else (index,)
        out = tuple(self.xp.asarray(p) if isinstance(p, np.ndarray) else p for p in parts)
        return out if isinstance(index, tuple) else out[0]

    def getitem(self, x, index):
        return x[self._gpu_index(index)]

    def scatter(self, g, shape, index):
        import cupyx

        out = self.xp.zeros(shape, dtype=g.dtype)
        cupyx.scatter_add(out, self._gpu_index(index), g)
        return out

    def setitem(self, a, value, index):
        out = a.copy()
        out[self._gpu_index(index)] = value
        return out

    @property
    def ufuncs(self):
        return _cupy()  # CuPy's own ufuncs take out=, as NumPy's


def _is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, (int, float, type))


NUMPY = None  # NumPy's path is op.forward itself: no Backend object stands for it
_cache: dict = {}


def of(x):
    """The backend of array ``x``: None for NumPy (and stand-ins, numbers), else a
    :class:`Backend` for its library.

    Examples
    --------
    >>> cr.backend.of(np.zeros(2)) is None
    True
    """
    t = type(x)
    b = _cache.get(t, False)
    if b is not False:
        return b
    from .tensor import StandIn

    if isinstance(x, (np.ndarray, np.generic, int, float, bool, complex, StandIn)) \
            or not _is_array(x):
        b = NUMPY
    else:
        try:
            import array_api_compat
        except ImportError:
            raise ImportError(
                f"arrays of type {t.__module__}.{t.__name__} need array-api-compat: "
                'pip install "chainrule[array-api]"') from None
        xp = array_api_compat.array_namespace(x)
        name = xp.__name__.split(".")[-1]
        if name == "cupy":
            b = _CuPy(xp, "cupy")
        else:
            b = Backend(xp, "array_api_strict" if "strict" in xp.__name__ else name)
    _cache[t] = b
    return b


def describe(x):
    """The device of array ``x`` in words (``cpu (numpy)`` for NumPy).

    Examples
    --------
    >>> import array_api_strict as xps
    >>> cr.backend.describe(np.zeros(1)), cr.backend.describe(xps.asarray([1.0]))
    ('cpu (numpy)', 'array_api_strict:CPU_DEVICE')
    """
    b = of(x)
    return "cpu (numpy)" if b is None else b.describe(x)


def ufuncs(x):
    """The module whose NumPy-style calls update arrays like ``x`` in place: NumPy itself
    for NumPy arrays and ``cr.compile``'s stand-ins (NumPy's path, unchanged), CuPy for
    CuPy arrays, else an :class:`InPlace` over the array's library. Optimizers and
    ``nn.utils`` write their updates once against it.

    Examples
    --------
    >>> cr.backend.ufuncs(np.zeros(2)) is np
    True
    """
    if type(x) is np.ndarray:  # once per parameter per optimizer step: no call of of()
        return np
    b = of(x)
    return np if b is None else b.ufuncs


def zeros(shape, dtype, like):
    """Zeros of ``shape`` and NumPy dtype ``dtype`` on ``like``'s device.

    Examples
    --------
    >>> cr.backend.zeros((2,), np.float32, np.ones(3))
    array([0., 0.], dtype=float32)
    """
    b = of(like)
    if b is None:
        return np.zeros(shape, dtype=dtype)
    return b.xp.zeros(shape, dtype=b.dtype(dtype), device=b.device(like))


def host(x):
    """``x`` as a NumPy array: itself on the host, else an explicit copy from its device.

    Examples
    --------
    >>> import array_api_strict as xps
    >>> cr.backend.host(xps.asarray([1.0], device=xps.Device("device1")))
    array([1.])
    """
    b = of(x)
    return x if b is None else b.to_host(x)


def np_dtype(x):
    """The NumPy dtype of array ``x`` (of any library).

    Examples
    --------
    >>> import array_api_strict as xps
    >>> cr.backend.np_dtype(xps.asarray([1.0], dtype=xps.float32))
    dtype('float32')
    """
    b = of(x)
    return x.dtype if b is None else b.np_dtype(x.dtype)


def copy(x):
    """A copy of array ``x`` on its own device.

    Examples
    --------
    >>> a = np.zeros(2)
    >>> cr.backend.copy(a) is a
    False
    """
    b = of(x)
    return x.copy() if b is None else b.copy(x)


def astype(x, dtype):
    """Array ``x`` as NumPy dtype ``dtype`` (itself when it has that dtype already).

    Examples
    --------
    >>> a = np.zeros(2)
    >>> cr.backend.astype(a, np.float64) is a, cr.backend.astype(a, np.float32).dtype
    (True, dtype('float32'))
    """
    if np_dtype(x) == dtype:
        return x
    b = of(x)
    return x.astype(dtype) if b is None else b.astype(x, dtype)


def same_place(a, b):
    """Whether arrays ``a`` and ``b`` are of one library on one device.

    Examples
    --------
    >>> import array_api_strict as xps
    >>> cr.backend.same_place(np.zeros(1), xps.asarray([0.0]))
    False
    """
    ba, bb = of(a), of(b)
    return ba is bb and (ba is None or ba.device(a) == ba.device(b))


def common(where, arrays):
    """The one backend of ``arrays`` (numbers and None aside), or DeviceError naming the
    two devices that met; ``where`` (the op's name) starts the message.

    Examples
    --------
    >>> cr.backend.common("add", [np.ones(2), 1.0, None]) is None    # all NumPy
    True
    """
    found = None
    first = None
    for a in arrays:
        if a is None or isinstance(a, (bool, int, float)):
            continue
        b = of(a)
        if first is None:
            found, first = b, a
            continue
        if b is not found or (b is not None and b.device(a) != b.device(first)):
            raise DeviceError(
                f"{where}: inputs on different devices, {describe(first)} and "
                f"{describe(a)}; move one with .to(...) (chainrule never copies between "
                "devices silently)")
    return found


def forward(op, arrays, params):
    """Run ``op`` (an entry of ``cr.OPS``) on ``arrays`` with the forward of their backend:
    NumPy's ``op.forward``, or the op's array-API one for other libraries.

    Examples
    --------
    >>> cr.backend.forward(cr.OPS["exp"], (np.zeros(2),), ())
    array([1., 1.])
    """
    b = common(op.name, arrays)
    if b is None:
        return op.forward(arrays, *params) if op.variadic else op.forward(*arrays, *params)
    if op.variadic:
        return op.generic(b, arrays, *params)
    return op.generic(b, *arrays, *params)


def _cupy():
    try:
        import cupy
    except ImportError:
        raise ImportError(
            'device "cuda" needs CuPy and a CUDA GPU: pip install "chainrule[cuda]"') from None
    return cupy


_DEVICES = ("expected 'cpu', 'cuda', 'cuda:N', 'array_api_strict:NAME' (what t.device "
            "says), a library's device object or an array on the device")


def _cuda_index(device, index):
    if not index:
        return 0
    if not index.isdigit():
        raise ValueError(f"unknown device {device!r}: the GPU number must be an integer, as "
                         "in 'cuda:0'")
    return int(index)


def _strict_device(device, name):
    try:
        import array_api_strict
    except ImportError:
        raise ImportError(f"device {device!r} needs array_api_strict: pip install "
                          "array-api-strict") from None
    try:
        return array_api_strict.Device(name)
    except ValueError as e:
        raise ValueError(f"unknown device {device!r}: {e}") from None


def move(a, device):
    """``a`` on ``device``: "cpu" (NumPy), "cuda" or "cuda:N" (CuPy), what ``t.device``
    says of a tensor (``"array_api_strict:device1"``), a library's own device object
    (``array_api_strict.Device("device1")``), or an array whose device to use.

    Examples
    --------
    >>> a = cr.backend.move(np.arange(3.0), "array_api_strict:device1")
    >>> cr.backend.describe(a), cr.backend.move(a, "cpu")
    ('array_api_strict:device1', array([0., 1., 2.]))
    >>> cr.backend.move(np.zeros(1), "tpu")
    Traceback (most recent call last):
        ...
    ValueError: unknown device 'tpu'; expected 'cpu', 'cuda', 'cuda:N', ...
    """
    src = of(a)
    if isinstance(device, (np.ndarray, np.generic)):
        device = "cpu"
    if _is_array(device):
        b = of(device)
        if b is None:
            return a if src is None else src.to_host(a)
        if b is src and src.device(a) == b.device(device):
            return a
        return b.from_host(a if src is None else src.to_host(a), device)
    if isinstance(device, str):
        kind, _, index = device.partition(":")
        if kind == "cpu":
            return a if src is None else src.to_host(a)
        if kind == "cuda":
            cupy = _cupy()
            host = a if src is None else src.to_host(a)
            with cupy.cuda.Device(_cuda_index(device, index)):
                return cupy.asarray(host)
        if kind == "array_api_strict" and index:  # what t.device says: "array_api_strict:device1"
            return move(a, _strict_device(device, index))
        raise ValueError(f"unknown device {device!r}; {_DEVICES}")
    if type(device).__name__ not in ("Device", "device"):
        raise TypeError(f"unknown device {device!r} of type {type(device).__name__}; "
                        f"{_DEVICES}")
    module = type(device).__module__.split(".")[0]
    if module == "cupy":
        return move(a, f"cuda:{device.id}")
    import importlib

    xp = importlib.import_module(module)
    if src is not None and src.xp is xp or src is not None and module in src.xp.__name__:
        return a.to_device(device)
    host = a if src is None else src.to_host(a)
    return xp.asarray(host, device=device)
