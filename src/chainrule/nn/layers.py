"""Layers: Linear and the activation functions, as modules."""

from __future__ import annotations

import math

import numpy as np

from ..creation import get_default_dtype
from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """Fully connected layer ``y = x Wᵀ + b`` (the text's ``y_j = Σ_i w_ji x_i + w_j0``).

    Parameters
    ----------
    in_features, out_features : int
        Sizes of each input and output row.
    bias : bool
        Whether to add a learned bias ``b`` (default True).
    dtype : numpy dtype
        Of the parameters (default: ``cr.get_default_dtype()``, float64 unless set).
    generator : numpy.random.Generator, optional
        Source of the initial values; default :func:`chainrule.nn.init.default_generator`.
    device : optional
        Where the parameters live (see ``Module.to``); the values are drawn on the host
        first, so a seed gives the same weights on every device.

    Notes
    -----
    ``weight`` has shape ``(out_features, in_features)``, PyTorch's layout, so ``weight[j, i]``
    is the text's ``w_ji``. Both are initialised uniformly in ``±1/√in_features``, as in
    PyTorch.

    Examples
    --------
    >>> layer = cr.nn.Linear(3, 2, generator=np.random.default_rng(0))
    >>> layer.weight.shape, layer.bias.shape            # weight[j, i] is the text's w_ji
    ((2, 3), (2,))
    >>> x = cr.ones(4, 3)
    >>> bool(np.allclose(layer(x).numpy(), x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()))
    True
    """

    def __init__(self, in_features, out_features, bias=True, *, dtype=None,
                 generator=None, device=None):
        super().__init__()
        for what, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
                raise ValueError(f"Linear: {what} must be a positive integer, got {n!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        bound = 1.0 / math.sqrt(self.in_features)
        dtype = get_default_dtype() if dtype is None else dtype
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        init.uniform_(self.weight, -bound, bound, generator=generator)
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
            init.uniform_(self.bias, -bound, bound, generator=generator)
        else:
            self.register_parameter("bias", None)
        if device is not None:
            self.to(device)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Tanh(Module):
    """``tanh(x)``, the text's hidden-unit activation (derivative ``1 − tanh²``).

    Examples
    --------
    >>> cr.nn.Tanh()(cr.tensor([0.0, 100.0]))
    tensor([0., 1.])
    """

    def forward(self, x):
        return F.tanh(x)


class ReLU(Module):
    """``max(x, 0)``.

    Examples
    --------
    >>> cr.nn.ReLU()(cr.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    def forward(self, x):
        return F.relu(x)


class Sigmoid(Module):
    """``1 / (1 + exp(−x))``, computed stably.

    Examples
    --------
    >>> cr.nn.Sigmoid()(cr.tensor([0.0, 1000.0, -1000.0]))     # no overflow at ±1000
    tensor([0.5, 1. , 0. ])
    """

    def forward(self, x):
        return F.sigmoid(x)


class Softmax(Module):
    """``softmax(x)`` along ``dim`` (default the last axis), computed stably.

    Examples
    --------
    >>> cr.nn.Softmax(dim=1)(cr.tensor([[1.0, 1.0], [0.0, 1000.0]]))
    tensor([[0.5, 0.5],
            [0. , 1. ]])
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


ACTIVATIONS = {"tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid}
