"""The three training problems of the bench, and the hand-written NumPy reference.

Every implementation (chainrule, NumPy, each peer) is built by a ``make_*(case)`` function
returning ``(step, weights)``: ``step(i)`` does one SGD step on batch ``i % len(batches)``
and ``weights()`` gives the current ``[W1, b1, W2, b2, ...]`` as NumPy arrays (``W`` shaped
out x in, PyTorch's layout). All start from ``case.init``, the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Case:
    name: str
    title: str
    sizes: tuple
    act: str  # "tanh" or "relu"
    loss: str  # "mse" (½ mean squared error) or "ce" (softmax cross-entropy, mean)
    dtype: type
    lr: float
    batches: list = field(repr=False)  # [(x, t), ...]
    init: list = field(repr=False)  # [W1, b1, W2, b2, ...]
    classes: int = 0


def init_weights(sizes, dtype, seed=0):
    """PyTorch's default: uniform in ±1/√fan_in, for weights and biases."""
    rng = np.random.default_rng(seed)
    out = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(n_in)
        out.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(dtype))
        out.append(rng.uniform(-bound, bound, n_out).astype(dtype))
    return out


def tiny_case():
    from ..data import figure_5_3

    x, t = figure_5_3("sin")
    x = np.ascontiguousarray(x, dtype=np.float64)
    t = np.ascontiguousarray(t, dtype=np.float64)
    return Case("tiny", "text's 1-3-1 tanh net, 50 points, float64, full batch", (1, 3, 1),
                "tanh", "mse", np.float64, 0.1, [(x, t)], init_weights((1, 3, 1), np.float64))


def digits_case(n_batches=None):
    from ..data import load_digits

    X, y = load_digits()[:2]
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.ascontiguousarray(y, dtype=np.int64)
    nb = len(X) // 64 if n_batches is None else n_batches
    batches = [(X[i * 64:(i + 1) * 64].copy(), y[i * 64:(i + 1) * 64].copy()) for i in range(nb)]
    return Case("digits", "64-128-10 tanh on the 8x8 digits, batch 64, float32", (64, 128, 10),
                "tanh", "ce", np.float32, 0.1, batches,
                init_weights((64, 128, 10), np.float32), classes=10)


def wide_case(n_batches=4):
    rng = np.random.default_rng(1)
    batches = [(rng.standard_normal((256, 784)).astype(np.float32),
                 rng.integers(0, 10, 256).astype(np.int64)) for _ in range(n_batches)]
    sizes = (784, 512, 512, 10)
    return Case("wide", "784-512-512-10 ReLU, batch 256, float32, synthetic", sizes, "relu",
                "ce", np.float32, 0.01, batches, init_weights(sizes, np.float32), classes=10)


def reference_loss(case, weights, batch=0):
    """The loss of ``weights`` on one batch, in float64 (used to check that all agree)."""
    x, t = case.batches[batch]
    h = x.astype(np.float64)
    n_layers = len(weights) // 2
    for k in range(n_layers):
        W, b = (np.asarray(w, dtype=np.float64) for w in weights[2 * k:2 * k + 2])
        h = h @ W.T + b
        if k < n_layers - 1:
            h = np.tanh(h) if case.act == "tanh" else np.maximum(h, 0)
    if case.loss == "mse":
        return float(0.5 * np.mean((h - t) ** 2))
    z = h - h.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(t)), t]))


# ------------------------------------------------------------------ hand-written NumPy
def make_numpy(case):
    """Forward, backward and update written out by hand: the bar every row is divided by."""
    params = [w.copy() for w in case.init]
    batches, lr, tanh = case.batches, case.lr, case.act == "tanh"
    n_layers = len(params) // 2
    mse = case.loss == "mse"

    def step(i):
        x, t = batches[i % len(batches)]
        hs = [x]
        h = x
        for k in range(n_layers):
            a = h @ params[2 * k].T
            a += params[2 * k + 1]
            if k < n_layers - 1:
                h = np.tanh(a) if tanh else np.maximum(a, 0)
                hs.append(h)
            else:
                h = a
        n = len(x)
        if mse:
            d = h - t
            loss = 0.5 * np.mean(d * d)
            d /= d.size
        else:
            z = h - h.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            loss = np.mean(np.log(s[:, 0]) - z[np.arange(n), t])
            d = e / s
            d[np.arange(n), t] -= 1
            d /= n
        for k in range(n_layers - 1, -1, -1):
            W, b = params[2 * k], params[2 * k + 1]
            h = hs[k]
            gW = d.T @ h
            gb = d.sum(axis=0)
            if k:
                d = d @ W
                if tanh:
                    d *= 1 - h * h
                else:
                    d *= h > 0
            gW *= lr
            gb *= lr
            W -= gW
            b -= gb
        return loss

    return step, lambda: params
