"""Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), with bias correction."""

from __future__ import annotations

from ..backend import ufuncs
from .optimizer import Optimizer, with_weight_decay
from .options import BETAS, FLAG, NONNEGATIVE


class Adam(Optimizer):
    """Adam: steps scaled by running averages of the gradient and its square.

    With ``g = ∇E + λw`` and step count ``t``::

        m ← β₁ m + (1 − β₁) g          v ← β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁ᵗ)             v̂ = v / (1 − β₂ᵗ)       (bias correction)
        w ← w − η m̂ / (√v̂ + ε)

    (with ``amsgrad``, ``v̂`` uses the running maximum of ``v``).

    Parameters
    ----------
    params : iterable of Tensors or of parameter-group dicts
    lr : float
        ``η`` (default 1e-3).
    betas : (float, float)
        ``(β₁, β₂)`` (default (0.9, 0.999)).
    eps : float
        ``ε`` (default 1e-8).
    weight_decay : float
        ``λ``, added to the gradient (L2; see :class:`AdamW` for decoupled decay).
    amsgrad : bool
        Use the maximum of past ``v`` (Reddi et al. 2018).

    Examples
    --------
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = cr.optim.Adam([w], lr=0.1)
    >>> opt.zero_grad(); (0.5 * (w * w).sum()).backward(); opt.step()
    >>> w                                # the first step moves each weight by about lr
    tensor([ 0.9, -1.9], requires_grad=True)
    >>> sorted(opt.state_dict())         # saved with cr.save, restored with load_state_dict
    ['param_groups', 'state']
    """

    _decoupled = False
    OPTIONS = {**Optimizer.OPTIONS, "betas": BETAS, "eps": NONNEGATIVE,
               "weight_decay": NONNEGATIVE, "amsgrad": FLAG}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        u = ufuncs(p.data)
        st = {"step": 0, "exp_avg": u.zeros_like(p.data), "exp_avg_sq": u.zeros_like(p.data),
              "_d": u.empty_like(p.data)}
        if group["amsgrad"]:
            st["max_exp_avg_sq"] = u.zeros_like(p.data)
        return st

    def _update(self, w, g, state, group):
        u = ufuncs(w)
        lr, (b1, b2), wd = group["lr"], group["betas"], group["weight_decay"]
        if self._decoupled:
            if wd:
                u.multiply(w, 1.0 - lr * wd, out=w)
        else:
            g = with_weight_decay(w, g, wd, state)
        state["step"] += 1
        t = state["step"]
        m, v, d = state["exp_avg"], state["exp_avg_sq"], state["_d"]
        u.multiply(m, b1, out=m)
        u.multiply(g, 1.0 - b1, out=d)
        u.add(m, d, out=m)
        u.multiply(v, b2, out=v)
        u.multiply(g, g, out=d)
        u.multiply(d, 1.0 - b2, out=d)
        u.add(v, d, out=v)
        if group["amsgrad"]:
            v = u.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        step_size = lr / (1.0 - b1**t)
        u.sqrt(v, out=d)
        u.divide(d, (1.0 - b2**t) ** 0.5, out=d)  # ** 0.5: also on a traced step count
        u.add(d, group["eps"], out=d)
        u.divide(m, d, out=d)
        u.multiply(d, step_size, out=d)
        u.subtract(w, d, out=w)


class AdamW(Adam):
    """Adam with decoupled weight decay: ``w ← w (1 − η λ)`` before the Adam step.

    Same parameters as :class:`Adam`; ``weight_decay`` defaults to 1e-2.

    Examples
    --------
    >>> w = cr.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = cr.optim.AdamW([w], lr=0.1, weight_decay=0.1)
    >>> opt.zero_grad(); (0.5 * (w * w).sum()).backward(); opt.step()
    >>> w                                # w (1 − 0.1 · 0.1), then the Adam step
    tensor([ 0.89, -1.88], requires_grad=True)
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
