"""Adagrad (Duchi, Hazan & Singer 2011), as PyTorch defines it."""

from __future__ import annotations

from ..backend import ufuncs
from .optimizer import Optimizer, with_weight_decay
from .options import NONNEGATIVE


class Adagrad(Optimizer):
    """Steps divided by the root of the sum of all past squared gradients.

    With ``g = ∇E + λw`` and step count ``t``::

        η_t = η / (1 + (t − 1) · lr_decay)
        s ← s + g²
        w ← w − η_t g / (√s + ε)

    Parameters
    ----------
    params : iterable of Tensors or of parameter-group dicts
    lr : float
        ``η`` (default 1e-2).
    lr_decay, weight_decay : float
        Default 0.
    initial_accumulator_value : float
        Starting value of ``s`` (default 0).
    eps : float
        ``ε`` (default 1e-10).

    Examples
    --------
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = cr.optim.Adagrad([w], lr=0.1)
    >>> opt.zero_grad(); (0.5 * (w * w).sum()).backward(); opt.step()
    >>> w                                # the first step is lr · g / |g|
    tensor([ 0.9, -1.9], requires_grad=True)
    """

    OPTIONS = {**Optimizer.OPTIONS, "lr_decay": NONNEGATIVE, "weight_decay": NONNEGATIVE,
               "initial_accumulator_value": NONNEGATIVE, "eps": NONNEGATIVE}

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        u = ufuncs(p.data)
        s = u.full_like(p.data, group["initial_accumulator_value"])
        return {"step": 0, "sum": s, "_d": u.empty_like(p.data)}

    def _update(self, w, g, state, group):
        u = ufuncs(w)
        g = with_weight_decay(w, g, group["weight_decay"], state)
        state["step"] += 1
        clr = group["lr"] / (1.0 + (state["step"] - 1) * group["lr_decay"])
        s, d = state["sum"], state["_d"]
        u.multiply(g, g, out=d)
        u.add(s, d, out=s)
        u.sqrt(s, out=d)
        u.add(d, group["eps"], out=d)
        u.divide(g, d, out=d)
        u.multiply(d, clr, out=d)
        u.subtract(w, d, out=w)
