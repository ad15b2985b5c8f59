"""The text's case study (Bishop, PRML §5.3, Figure 5.3): a 1-3-1 tanh network trained by
gradient descent, and back-propagation written out by hand to check the library against.

For inputs ``x`` (n×1), targets ``t`` and the network ``a = x W₁ᵀ + b₁``, ``z = tanh(a)``,
``y = z W₂ᵀ + b₂`` with error ``E = ½ Σ (y − t)²``, eqs. 5.9–5.12 give::

    δ_k = y_k − t_k                          output units
    δ_j = (1 − z_j²) Σ_k w_kj δ_k            hidden units (tanh' = 1 − tanh²)
    ∂E/∂w_kj = Σ_n δ_k z_j,  ∂E/∂w_ji = Σ_n δ_j x_i   (biases: x_0 = z_0 = 1)
"""

from __future__ import annotations

import time

import numpy as np

from .. import data, nn, no_grad, tensor
from ..optim import SGD
from . import DEMO_LR, DEMO_STEPS


def text_network(seed=0):
    """The text's network: ``Linear(1, 3) → tanh → Linear(3, 1)``, float64, seeded."""
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(1, 3, generator=rng), nn.Tanh(),
                         nn.Linear(3, 1, generator=rng))


def network_arrays(model):
    """``(W1, b1, W2, b2)`` of a :func:`text_network`, as NumPy arrays (no copies)."""
    return model[0].weight.data, model[0].bias.data, model[2].weight.data, model[2].bias.data


def backprop_by_hand(x, t, W1, b1, W2, b2):
    """Error and gradients of the 1-H-1 tanh network by eqs. 5.9–5.12, in plain NumPy.

    Returns
    -------
    E : float
        ``½ Σ (y − t)²``.
    grads : tuple of ndarray
        ``(∂E/∂W1, ∂E/∂b1, ∂E/∂W2, ∂E/∂b2)``, shaped like the weights.
    """
    z = np.tanh(x @ W1.T + b1)
    y = z @ W2.T + b2
    delta_k = y - t
    delta_j = (1.0 - z**2) * (delta_k @ W2)
    E = 0.5 * float(np.sum(delta_k**2))
    return E, (delta_j.T @ x, delta_j.sum(axis=0), delta_k.T @ z, delta_k.sum(axis=0))


def error(model, x, t):
    """The text's ``E = ½ Σ (y − t)²`` as a Tensor (``0.5 * mse_loss(..., "sum")``)."""
    return 0.5 * nn.functional.mse_loss(model(x), t, reduction="sum")


def gradient_difference(model, x, t):
    """Largest absolute difference between back-propagated gradients and eqs. 5.9–5.12."""
    model.zero_grad()
    error(model, tensor(x), t).backward()
    _, by_hand = backprop_by_hand(x, t, *network_arrays(model))
    backprop = [p.grad.data for p in model.parameters()]
    model.zero_grad()
    return max(float(np.max(np.abs(a - b))) for a, b in zip(backprop, by_hand))


def fit(name, steps=DEMO_STEPS, lr=DEMO_LR, seed=0, progress=None, chunk=500):
    """Train the text's network on one Figure 5.3 problem by plain gradient descent.

    Parameters
    ----------
    name : str
        One of ``chainrule.data.FIGURE_5_3``.
    steps : int
        Full-batch steps ``w ← w − η ∇E``.
    lr : float
        ``η``.
    seed : int
        Seeds the data and the initial weights.
    progress : Progress, optional
        Updated every ``chunk`` steps.

    Returns
    -------
    dict
        ``name, x, t, model, errors`` (E before each step and after the last), ``seconds``,
        ``grad_diff`` (largest difference from eqs. 5.9–5.12, at the first and last weights).
    """
    x, t = data.figure_5_3(name, n=50, seed=seed)
    model = text_network(seed)
    diff = gradient_difference(model, x, t)
    xt = tensor(x)
    opt = SGD(model.parameters(), lr=lr)
    errors = np.empty(steps + 1)
    start = time.perf_counter()
    for i in range(steps):
        opt.zero_grad()
        E = error(model, xt, t)
        E.backward()
        opt.step()
        errors[i] = E.item()
        if progress is not None and (i + 1) % chunk == 0:
            progress.update(chunk)
    seconds = time.perf_counter() - start
    if progress is not None:
        progress.update(steps % chunk)
    with no_grad():
        errors[steps] = error(model, xt, t).item()
    diff = max(diff, gradient_difference(model, x, t))
    return {"name": name, "x": x, "t": t, "model": model, "errors": errors,
            "seconds": seconds, "grad_diff": diff}


def curves(model, grid):
    """The network's output and its hidden units' outputs on ``grid`` (a 1-d array)."""
    with no_grad():
        g = tensor(grid.reshape(-1, 1))
        hidden = model[1](model[0](g))
        return model[2](hidden).numpy().ravel(), hidden.numpy()
