"""RMSprop (Hinton's lecture 6e), as PyTorch defines it."""

from __future__ import annotations

from ..backend import ufuncs
from .optimizer import Optimizer, with_weight_decay
from .options import FLAG, NONNEGATIVE


class RMSprop(Optimizer):
    """Steps divided by a running root-mean-square of the gradient.

    With ``g = ∇E + λw``::

        v ← α v + (1 − α) g²
        s = √(v − ḡ²) + ε  if centered (ḡ ← α ḡ + (1 − α) g), else  s = √v + ε
        b ← μ b + g / s ;  w ← w − η b     (momentum μ > 0)
        w ← w − η g / s                     (μ = 0)

    Parameters
    ----------
    params : iterable of Tensors or of parameter-group dicts
    lr : float
        ``η`` (default 1e-2).
    alpha : float
        Smoothing constant ``α`` (default 0.99).
    eps : float
        ``ε`` (default 1e-8).
    weight_decay, momentum : float
        ``λ`` and ``μ`` (default 0).
    centered : bool
        Divide by an estimate of the variance instead of the second moment.

    Examples
    --------
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = cr.optim.RMSprop([w], lr=0.01)
    >>> opt.zero_grad(); (0.5 * (w * w).sum()).backward(); opt.step()
    >>> w                                # g / √(0.01 g²) = 10 · sign(g) on the first step
    tensor([ 0.9, -1.9], requires_grad=True)
    """

    OPTIONS = {**Optimizer.OPTIONS, "alpha": NONNEGATIVE, "eps": NONNEGATIVE,
               "weight_decay": NONNEGATIVE, "momentum": NONNEGATIVE, "centered": FLAG}

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        u = ufuncs(p.data)
        st = {"step": 0, "square_avg": u.zeros_like(p.data), "_d": u.empty_like(p.data)}
        if group["momentum"] > 0:
            st["momentum_buffer"] = u.zeros_like(p.data)
        if group["centered"]:
            st["grad_avg"] = u.zeros_like(p.data)
        return st

    def _update(self, w, g, state, group):
        u = ufuncs(w)
        g = with_weight_decay(w, g, group["weight_decay"], state)
        alpha = group["alpha"]
        state["step"] += 1
        v, d = state["square_avg"], state["_d"]
        u.multiply(v, alpha, out=v)
        u.multiply(g, g, out=d)
        u.multiply(d, 1.0 - alpha, out=d)
        u.add(v, d, out=v)
        if group["centered"]:
            gbar = state["grad_avg"]
            u.multiply(gbar, alpha, out=gbar)
            u.multiply(g, 1.0 - alpha, out=d)
            u.add(gbar, d, out=gbar)
            u.multiply(gbar, gbar, out=d)
            u.subtract(v, d, out=d)
            u.sqrt(d, out=d)
        else:
            u.sqrt(v, out=d)
        u.add(d, group["eps"], out=d)
        u.divide(g, d, out=d)
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            u.multiply(buf, group["momentum"], out=buf)
            u.add(buf, d, out=buf)
            d = u.multiply(buf, group["lr"], out=d)
        else:
            u.multiply(d, group["lr"], out=d)
        u.subtract(w, d, out=w)
