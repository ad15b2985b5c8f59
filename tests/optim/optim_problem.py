"""A small problem shared by the optimizer tests: E(W, b) with a closed-form gradient.

E = ½‖X W + b − Y‖² + ¼ Σ W⁴, so ∂E/∂W = Xᵀ R + W³ and ∂E/∂b = Σ_rows R with R = X W + b − Y.
"""

import numpy as np

import chainrule as cr

_rng = np.random.default_rng(42)
X = _rng.normal(size=(8, 3))
Y = _rng.normal(size=(8, 2))
W0 = _rng.normal(size=(3, 2))
B0 = _rng.normal(size=2)


def gradients(W, b):
    R = X @ W + b - Y
    return X.T @ R + W**3, R.sum(axis=0)


def params(on=None):
    """The parameters (W, b), on ``on``'s backend (tests/conftest.py) when given."""
    ps = [cr.nn.Parameter(W0.copy()), cr.nn.Parameter(B0.copy())]
    return [cr.nn.Parameter(on.array(p.data)) for p in ps] if on is not None else ps


def backward(ps, on=None):
    W, b = ps
    x, y = (X, Y) if on is None else (on.array(X), on.array(Y))
    R = cr.tensor(x) @ W + b - y
    E = 0.5 * (R * R).sum() + 0.25 * (W**4).sum()
    E.backward()
    return E.item()
