"""chainrule (eager and compiled) and each installed peer on a bench case.

Each ``make_*`` returns ``(step, weights)`` as described in :mod:`.cases`; a peer whose
package is missing raises ImportError and the bench leaves its column out.
"""

from __future__ import annotations

import math

import numpy as np


def _cr_model(case):
    import chainrule as cr

    layers = []
    n_layers = len(case.sizes) - 1
    for k, (n_in, n_out) in enumerate(zip(case.sizes[:-1], case.sizes[1:])):
        lin = cr.nn.Linear(n_in, n_out, dtype=case.dtype)
        lin.weight.data[...] = case.init[2 * k]
        lin.bias.data[...] = case.init[2 * k + 1]
        layers.append(lin)
        if k < n_layers - 1:
            layers.append(cr.nn.Tanh() if case.act == "tanh" else cr.nn.ReLU())
    model = cr.nn.Sequential(*layers)
    opt = cr.optim.SGD(model.parameters(), lr=case.lr)
    F = cr.nn.functional
    if case.loss == "mse":
        def loss_fn(y, t):
            return 0.5 * F.mse_loss(y, t)
    else:
        loss_fn = F.cross_entropy

    def train_step(x, t):
        opt.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        opt.step()
        return loss

    batches = [(cr.tensor(x), cr.tensor(t)) for x, t in case.batches]
    return model, train_step, batches


def _weights_of(params):
    return lambda: [p.data for p in params]


def make_chainrule(case):
    model, train_step, batches = _cr_model(case)

    def step(i):
        return train_step(*batches[i % len(batches)])

    return step, _weights_of(list(model.parameters()))


def make_chainrule_compiled(case):
    import chainrule as cr

    model, train_step, batches = _cr_model(case)
    compiled = cr.compile(train_step)

    def step(i):
        return compiled(*batches[i % len(batches)])

    return step, _weights_of(list(model.parameters()))


# ------------------------------------------------------------------------- PyTorch
def make_torch(case):
    import torch

    torch_dtype = {np.float32: torch.float32, np.float64: torch.float64}[case.dtype]
    layers = []
    n_layers = len(case.sizes) - 1
    for k, (n_in, n_out) in enumerate(zip(case.sizes[:-1], case.sizes[1:])):
        lin = torch.nn.Linear(n_in, n_out, dtype=torch_dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(case.init[2 * k]))
            lin.bias.copy_(torch.from_numpy(case.init[2 * k + 1]))
        layers.append(lin)
        if k < n_layers - 1:
            layers.append(torch.nn.Tanh() if case.act == "tanh" else torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=case.lr)
    F = torch.nn.functional
    if case.loss == "mse":
        def loss_fn(y, t):
            return 0.5 * F.mse_loss(y, t)
    else:
        loss_fn = F.cross_entropy
    batches = [(torch.from_numpy(x), torch.from_numpy(t)) for x, t in case.batches]

    def step(i):
        x, t = batches[i % len(batches)]
        opt.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        opt.step()
        return loss

    params = list(model.parameters())
    return step, lambda: [p.detach().numpy() for p in params]


# ---------------------------------------------------------------------------- JAX
def make_jax(case):
    import jax

    if case.dtype == np.float64:
        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    n_layers = len(case.init) // 2
    relu = case.act == "relu"

    def loss_fn(params, x, t):
        h = x
        for k in range(n_layers):
            h = h @ params[2 * k].T + params[2 * k + 1]
            if k < n_layers - 1:
                h = jnp.maximum(h, 0) if relu else jnp.tanh(h)
        if case.loss == "mse":
            return 0.5 * jnp.mean((h - t) ** 2)
        logp = jax.nn.log_softmax(h, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, t[:, None], axis=1))

    lr = case.lr

    @jax.jit
    def train_step(params, x, t):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, t)
        return [p - lr * g for p, g in zip(params, grads)], loss

    state = {"params": [jnp.asarray(w) for w in case.init]}
    batches = [(jnp.asarray(x), jnp.asarray(t)) for x, t in case.batches]

    def step(i):
        params, loss = train_step(state["params"], *batches[i % len(batches)])
        loss.block_until_ready()
        state["params"] = params
        return loss

    return step, lambda: [np.asarray(p) for p in state["params"]]


# ------------------------------------------------------------------- scikit-learn
def make_sklearn(case):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    kw = dict(hidden_layer_sizes=case.sizes[1:-1], activation=case.act, solver="sgd",
              learning_rate_init=case.lr, momentum=0.0, nesterovs_momentum=False, alpha=0.0,
              batch_size=len(case.batches[0][0]), shuffle=False, learning_rate="constant")
    warnings.simplefilter("ignore", ConvergenceWarning)
    if case.loss == "mse":
        est = MLPRegressor(**kw)
        batches = [(x, t[:, 0] if t.ndim == 2 and t.shape[1] == 1 else t)
                   for x, t in case.batches]
        est.partial_fit(*batches[0])
    else:
        est = MLPClassifier(**kw)
        batches = case.batches
        est.partial_fit(*batches[0], classes=np.arange(case.classes))
    for k in range(len(case.init) // 2):  # same starting point, set in place
        est.coefs_[k][...] = case.init[2 * k].T
        est.intercepts_[k][...] = case.init[2 * k + 1]

    def step(i):
        est.partial_fit(*batches[i % len(batches)])

    def weights():
        out = []
        for W, b in zip(est.coefs_, est.intercepts_):
            out += [W.T, b]
        return out

    return step, weights


# ----------------------------------------------------------------------- micrograd
def make_micrograd(case):
    from micrograd.engine import Value

    if case.name != "tiny":
        raise ImportError("micrograd runs the tiny case only")

    def tanh(v):
        out = Value(math.tanh(v.data), (v,), "tanh")

        def _backward():
            v.grad += (1 - out.data ** 2) * out.grad

        out._backward = _backward
        return out

    W1, b1, W2, b2 = ([[Value(float(a)) for a in row] for row in np.atleast_2d(w)]
                      for w in case.init)
    params = [v for m in (W1, b1, W2, b2) for row in m for v in row]
    x, t = case.batches[0]
    xs, ts = x[:, 0].tolist(), t[:, 0].tolist()
    n, lr = len(xs), case.lr

    def step(i):
        loss = Value(0.0)
        for xi, ti in zip(xs, ts):
            hs = [tanh(W1[j][0] * xi + b1[0][j]) for j in range(len(W1))]
            y = b2[0][0]
            for j, h in enumerate(hs):
                y = y + W2[0][j] * h
            loss = loss + (y - ti) ** 2
        loss = loss * (0.5 / n)
        for p in params:
            p.grad = 0
        loss.backward()
        for p in params:
            p.data -= lr * p.grad
        return loss.data

    def weights():
        return [np.array([[v.data for v in row] for row in W1]),
                np.array([v.data for v in b1[0]]),
                np.array([[v.data for v in row] for row in W2]),
                np.array([v.data for v in b2[0]])]

    return step, weights
