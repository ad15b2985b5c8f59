"""Stochastic gradient descent, with momentum and Nesterov momentum as PyTorch defines them."""

from __future__ import annotations

from ..backend import copy, ufuncs
from .optimizer import Optimizer, with_weight_decay
from .options import FINITE, FLAG, NONNEGATIVE


class SGD(Optimizer):
    """Gradient descent ``w ← w − η ∇E``, optionally with momentum and weight decay.

    With gradient ``g = ∇E + λw`` (``λ`` = ``weight_decay``), momentum ``μ`` and
    dampening ``τ``, each step does (PyTorch's definition)::

        b ← g                   on the first step, else  b ← μ b + (1 − τ) g
        d ← g + μ b  if nesterov, else  d ← b            (d ← g when μ = 0)
        w ← w − η d

    Parameters
    ----------
    params : iterable of Tensors or of parameter-group dicts
    lr : float
        Learning rate ``η`` (default 1e-3).
    momentum, dampening, weight_decay : float
        ``μ``, ``τ`` and ``λ`` above (all default 0).
    nesterov : bool
        Nesterov momentum (needs ``momentum > 0`` and ``dampening = 0``).

    Examples
    --------
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = cr.optim.SGD([w], lr=0.1)
    >>> E = 0.5 * (w * w).sum()          # ∇E = w
    >>> opt.zero_grad(); E.backward(); opt.step()
    >>> w                                # w − 0.1 w
    tensor([ 0.9, -1.8], requires_grad=True)
    >>> opt = cr.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True)   # the variants
    """

    OPTIONS = {**Optimizer.OPTIONS, "momentum": NONNEGATIVE, "dampening": FINITE,
               "weight_decay": NONNEGATIVE, "nesterov": FLAG}

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _conflict(self, group):
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            return "nesterov momentum needs momentum > 0 and dampening = 0"
        return None

    def _init_state(self, p, group):
        u = ufuncs(p.data)
        return {"momentum_buffer": None, "_d": u.empty_like(p.data)}

    def _update(self, w, g, state, group):
        u = ufuncs(w)
        d = state["_d"]
        mu = group["momentum"]
        if not mu and not group["weight_decay"]:  # plain gradient descent
            u.multiply(g, group["lr"], out=d)
            u.subtract(w, d, out=w)
            return
        g = with_weight_decay(w, g, group["weight_decay"], state)
        if mu:
            buf = state["momentum_buffer"]
            if buf is None:
                buf = state["momentum_buffer"] = copy(g)
            else:
                u.multiply(buf, mu, out=buf)
                u.multiply(g, 1.0 - group["dampening"], out=d)
                u.add(buf, d, out=buf)
            if group["nesterov"]:
                u.multiply(buf, mu, out=d)
                u.add(d, g, out=d)
                g = d
            else:
                g = buf
        u.multiply(g, group["lr"], out=d)
        u.subtract(w, d, out=w)
