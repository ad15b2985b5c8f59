"""Initial weights: uniform/normal, Xavier (Glorot) and Kaiming (He), seeded.

Every function fills a tensor in place and returns it. Randomness comes from, in order:
``generator=`` (a ``numpy.random.Generator``), ``seed=`` (an int), or the module's default
generator, which :func:`manual_seed` re-seeds (as ``torch.manual_seed`` does for PyTorch).
A tensor on another device gets the values drawn on the host, then copied there: the same
seed gives the same weights bit for bit on every device.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend

_default = np.random.default_rng()


def manual_seed(seed):
    """Re-seed the default generator used by layers and init functions; returns it.

    Examples
    --------
    >>> _ = cr.nn.init.manual_seed(0)
    >>> a = cr.nn.Linear(2, 2).weight.numpy().copy()
    >>> _ = cr.nn.init.manual_seed(0)
    >>> bool((cr.nn.Linear(2, 2).weight.numpy() == a).all())     # same seed, same weights
    True
    """
    global _default
    _default = np.random.default_rng(seed)
    return _default


def default_generator():
    """The generator used when neither ``generator`` nor ``seed`` is given.

    Examples
    --------
    >>> g = cr.nn.init.manual_seed(1)
    >>> cr.nn.init.default_generator() is g
    True
    """
    return _default


def _rng(generator, seed):
    if generator is not None and seed is not None:
        raise ValueError("give either generator= or seed=, not both")
    if generator is not None:
        if not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"generator must be a numpy.random.Generator, got {type(generator).__name__}"
            )
        return generator
    if seed is not None:
        return np.random.default_rng(seed)
    return _default


def _fill(tensor, values):
    data = tensor.data
    if type(data) is not np.ndarray and backend.of(data) is not None:
        values = backend.move(np.asarray(values, dtype=tensor.dtype), data)
    data[...] = values
    tensor._bump_version()
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The gain PyTorch recommends for an activation: 1 for linear/sigmoid, 5/3 for tanh,
    √2 for ReLU, √(2 / (1 + slope²)) for leaky ReLU with negative slope ``param``.

    Examples
    --------
    >>> cr.nn.init.calculate_gain("tanh"), cr.nn.init.calculate_gain("relu")
    (1.6666666666666667, 1.4142135623730951)
    """
    if nonlinearity in ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r}; use one of 'linear', "
        "'sigmoid', 'tanh', 'relu', 'leaky_relu'"
    )


def _fans(tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(
            f"fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}"
        )
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def uniform_(tensor, a=0.0, b=1.0, *, generator=None, seed=None):
    """Fill with values drawn uniformly from ``[a, b)``.

    Examples
    --------
    >>> w = cr.nn.init.uniform_(cr.nn.Parameter(np.empty((3, 4))), -0.1, 0.1, seed=0)
    >>> bool(abs(w.numpy()).max() <= 0.1)
    True
    """
    return _fill(tensor, _rng(generator, seed).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, *, generator=None, seed=None):
    """Fill with values drawn from ``N(mean, std²)``.

    Examples
    --------
    >>> w = cr.nn.init.normal_(cr.nn.Parameter(np.empty(10_000)), mean=1.0, std=0.5, seed=0)
    >>> round(float(w.numpy().mean()), 1), round(float(w.numpy().std()), 1)
    (1.0, 0.5)
    """
    return _fill(tensor, _rng(generator, seed).normal(mean, std, tensor.shape))


def constant_(tensor, value):
    """Fill with ``value``.

    Examples
    --------
    >>> cr.nn.init.constant_(cr.nn.Parameter(np.empty(3)), 0.25).numpy()
    array([0.25, 0.25, 0.25])
    """
    return _fill(tensor, value)


def zeros_(tensor):
    """Fill with zeros.

    Examples
    --------
    >>> cr.nn.init.zeros_(cr.nn.Linear(2, 2).bias).numpy()
    array([0., 0.])
    """
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with ones.

    Examples
    --------
    >>> cr.nn.init.ones_(cr.nn.Parameter(np.empty(2))).numpy()
    array([1., 1.])
    """
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0, *, generator=None, seed=None):
    """Glorot & Bengio (2010): uniform in ``±gain·√(6 / (fan_in + fan_out))``.

    Examples
    --------
    >>> w = cr.nn.init.xavier_uniform_(cr.nn.Parameter(np.empty((3, 4))), seed=0)
    >>> bool(abs(w.numpy()).max() <= np.sqrt(6 / (3 + 4)))      # fan_in 4, fan_out 3
    True
    """
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator=generator, seed=seed)


def xavier_normal_(tensor, gain=1.0, *, generator=None, seed=None):
    """Glorot & Bengio (2010): normal with std ``gain·√(2 / (fan_in + fan_out))``.

    Examples
    --------
    >>> w = cr.nn.init.xavier_normal_(cr.nn.Parameter(np.empty((200, 300))), seed=0)
    >>> round(float(w.numpy().std() / np.sqrt(2 / (200 + 300))), 2)
    1.0
    """
    fan_in, fan_out = _fans(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator=generator, seed=seed)


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *,
                     generator=None, seed=None):
    """He et al. (2015): uniform in ``±gain·√(3 / fan)`` (fan_in by default).

    Examples
    --------
    >>> w = cr.nn.init.kaiming_uniform_(cr.nn.Parameter(np.empty((3, 8))), nonlinearity="relu",
    ...                                 seed=0)
    >>> bool(abs(w.numpy()).max() <= np.sqrt(2) * np.sqrt(3 / 8))   # gain √2, fan_in 8
    True
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator=generator, seed=seed)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *,
                    generator=None, seed=None):
    """He et al. (2015): normal with std ``gain / √fan`` (fan_in by default).

    Examples
    --------
    >>> w = cr.nn.init.kaiming_normal_(cr.nn.Parameter(np.empty((100, 400))),
    ...                                nonlinearity="relu", seed=0)
    >>> round(float(w.numpy().std() / (np.sqrt(2) / np.sqrt(400))), 2)
    1.0
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return normal_(tensor, 0.0, std, generator=generator, seed=seed)


glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_
