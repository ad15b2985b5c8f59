"""Gradient-descent paths on an explorer objective, with chainrule's optimizers.

Each method is a ``cr.optim`` optimizer with PyTorch's semantics driving a 2-vector ``w``
(the point): ``opt.zero_grad(); E = f(w[0], w[1]); E.backward(); opt.step()``.
A path that blows up stops at once and says so in words.
"""

from __future__ import annotations

import math

import numpy as np

#: method id -> (label, optimizer class name in cr.optim, extra keyword arguments)
METHODS: dict[str, tuple[str, str, dict]] = {
    "gd": ("Gradient descent", "SGD", {}),
    "momentum": ("Momentum (β = 0.9)", "SGD", {"momentum": 0.9}),
    "nesterov": ("Nesterov (β = 0.9)", "SGD", {"momentum": 0.9, "nesterov": True}),
    "rmsprop": ("RMSprop", "RMSprop", {"alpha": 0.99, "eps": 1e-8}),
    "adam": ("Adam", "Adam", {"betas": (0.9, 0.999), "eps": 1e-8}),
}

#: A point farther than this from the origin counts as diverged.
ESCAPE = 1e6


def make_optimizer(method: str, param, lr: float):
    """The ``cr.optim`` optimizer for ``method`` (a key of :data:`METHODS`) over ``param``."""
    import chainrule as cr

    _, cls_name, kwargs = METHODS[method]
    return getattr(cr.optim, cls_name)([param], lr=lr, **kwargs)


def _gradient(e, w) -> np.ndarray:
    """∇E at the point, left in ``w.grad`` for the optimizer's step (zeros where E does not
    depend on the point)."""
    if e.requires_grad:
        e.backward()
    return np.zeros(2) if w.grad is None else w.grad.numpy()


def run(f, start: tuple[float, float], method: str, lr: float, steps: int) -> dict:
    """Run ``steps`` steps of ``method`` from ``start`` on objective ``f``.

    Returns
    -------
    dict
        ``x``, ``y``, ``E`` (lists, one entry per point visited, the start included),
        ``gx``, ``gy`` (∂E/∂x and ∂E/∂y at each of those points),
        ``status`` ("ok" or "diverged"), ``diverged_at`` (step number or None)
        and ``message`` (words, or None when nothing went wrong).
    """
    import chainrule as cr

    label = METHODS[method][0]
    w = cr.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = make_optimizer(method, w, lr)
    xs, ys, es, gxs, gys = [], [], [], [], []
    status, diverged_at, message = "ok", None, None
    with np.errstate(all="ignore"):
        for k in range(steps + 1):
            opt.zero_grad()
            e = f(w[0], w[1])
            px, py = (float(v) for v in w.detach().numpy())
            value = float(e.item())
            xs.append(px)
            ys.append(py)
            es.append(value)
            # the gradient at every point visited, the last included (a path's CSV shows it)
            g = _gradient(e, w) if math.isfinite(value) else np.full(2, math.nan)
            gxs.append(float(g[0]))
            gys.append(float(g[1]))
            if not math.isfinite(value):
                status, diverged_at = "diverged", k
                message = f"{label} diverged at step {k}: E became {value}."
                break
            if math.hypot(px, py) > ESCAPE:
                status, diverged_at = "diverged", k
                message = (f"{label} diverged at step {k}: the point ran off to "
                           f"({px:.3g}, {py:.3g}) with E = {value:.3g}.")
                break
            if k == steps:
                break
            if not np.all(np.isfinite(g)):
                status, diverged_at = "diverged", k
                message = f"{label} diverged at step {k}: the gradient is not finite there."
                break
            opt.step()
    return {
        "method": method,
        "label": label,
        "x": xs,
        "y": ys,
        "E": es,
        "gx": gxs,
        "gy": gys,
        "status": status,
        "diverged_at": diverged_at,
        "message": message,
    }
