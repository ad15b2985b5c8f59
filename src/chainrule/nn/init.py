"""Initial weights: uniform/normal, Xavier (Glorot) and Kaiming (He), seeded.

Every function fills a tensor in place and returns it. Randomness comes from, in order:
``generator=`` (a ``numpy.random.Generator``), ``seed=`` (an int), or the module's default
generator, which :func:`manual_seed` re-seeds (as ``torch.manual_seed`` does for PyTorch).
"""

from __future__ import annotations

import math

import numpy as np

_default = np.random.default_rng()


def manual_seed(seed):
    """Re-seed the default generator used by layers and init functions; returns it."""
    global _default
    _default = np.random.default_rng(seed)
    return _default


def default_generator():
    """The generator used when neither ``generator`` nor ``seed`` is given."""
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
    tensor.data[...] = values
    tensor._bump_version()
    return tensor


def calculate_gain(nonlinearity, param=None):
    """The gain PyTorch recommends for an activation: 1 for linear/sigmoid, 5/3 for tanh,
    √2 for ReLU, √(2 / (1 + slope²)) for leaky ReLU with negative slope ``param``."""
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
    """Fill with values drawn uniformly from ``[a, b)``."""
    return _fill(tensor, _rng(generator, seed).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, *, generator=None, seed=None):
    """Fill with values drawn from ``N(mean, std²)``."""
    return _fill(tensor, _rng(generator, seed).normal(mean, std, tensor.shape))


def constant_(tensor, value):
    """Fill with ``value``."""
    return _fill(tensor, value)


def zeros_(tensor):
    """Fill with zeros."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with ones."""
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0, *, generator=None, seed=None):
    """Glorot & Bengio (2010): uniform in ``±gain·√(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator=generator, seed=seed)


def xavier_normal_(tensor, gain=1.0, *, generator=None, seed=None):
    """Glorot & Bengio (2010): normal with std ``gain·√(2 / (fan_in + fan_out))``."""
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
    """He et al. (2015): uniform in ``±gain·√(3 / fan)`` (fan_in by default)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator=generator, seed=seed)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *,
                    generator=None, seed=None):
    """He et al. (2015): normal with std ``gain / √fan`` (fan_in by default)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return normal_(tensor, 0.0, std, generator=generator, seed=seed)


glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_
