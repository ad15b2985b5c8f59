"""Gradient utilities."""

from __future__ import annotations

import math
import sys

import numpy as np

from .. import backend
from ..tensor import Tensor

_tensor = sys.modules[Tensor.__module__]  # the module (cr.tensor is the function)


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad.data for p in parameters if p.grad is not None]


def zero_grads(parameters, set_to_none=True):
    """Forget the parameters' gradients: ``p.grad = None`` (default), or fill them with zeros
    in place; what ``Module.zero_grad`` and ``Optimizer.zero_grad`` both do.

    Examples
    --------
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> cr.nn.utils.zero_grads([w], set_to_none=False); w.grad
    tensor([0., 0.])
    >>> cr.nn.utils.zero_grads([w]); w.grad is None
    True
    """
    for p in parameters:
        if set_to_none or p.grad is None:
            p.grad = None
        else:
            p.grad.data[...] = 0


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients in place so that their joint norm is at most ``max_norm``.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensors
        Parameters whose ``.grad`` to clip (those without a gradient are skipped).
    max_norm : float
        Largest allowed norm of all gradients taken together as one vector.
    norm_type : float
        The p of the p-norm (``float("inf")`` for the largest absolute value).
    error_if_nonfinite : bool
        Raise instead of scaling when the norm is NaN or infinite.

    Returns
    -------
    float or Tensor
        The norm before clipping: a NumPy float64 for NumPy gradients, a 0-d tensor on
        the gradients' device otherwise (as PyTorch returns it, without a copy to the host).

    Examples
    --------
    >>> x = cr.tensor([3.0, 4.0], requires_grad=True)
    >>> (0.5 * (x * x).sum()).backward()                 # x.grad = (3, 4), norm 5
    >>> float(cr.nn.utils.clip_grad_norm_([x], max_norm=1.0))   # the norm before clipping
    5.0
    >>> x.grad
    tensor([0.6, 0.8])
    """
    grads = _grads(parameters)
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not grads:
        return 0.0
    b = backend.common("clip_grad_norm_", grads) if _tensor._FOREIGN else None
    if b is not None:
        return _clip_norm_on(b, grads, max_norm, norm_type, error_if_nonfinite)
    # the norm stays a NumPy float64 (a float) computed by NumPy calls, so that a step
    # compiled with cr.compile recomputes it at every call
    if norm_type == math.inf:
        total = np.float64(0.0)
        for g in grads:
            if g.size:
                total = np.maximum(total, np.max(np.abs(g)).astype(np.float64))
    else:
        total = 0
        for g in grads:
            total = total + np.sum(np.abs(g) ** norm_type).astype(np.float64)
        total = total ** (1.0 / norm_type)
    finite = np.isfinite(total)
    if error_if_nonfinite and not finite:
        raise FloatingPointError(
            f"clip_grad_norm_: the total {norm_type:g}-norm of the gradients is "
            f"{float(total)}; a gradient holds NaN or Inf"
        )
    scale = max_norm / (total + 1e-6)
    scale = np.where(finite & (scale < 1.0), scale, 1.0)  # × 1.0 leaves a gradient as is
    for g in grads:
        np.multiply(g, scale.astype(g.dtype), out=g)
    return total


def _clip_norm_on(b, grads, max_norm, norm_type, error_if_nonfinite):
    """clip_grad_norm_ for gradients of library ``b``: the same sums on their device."""
    xp = b.xp
    inf = norm_type == math.inf
    total = xp.zeros((), dtype=xp.float64, device=b.device(grads[0]))
    for g in grads:  # in NumPy's order, so the norm is NumPy's to the last bit
        if inf and g.size:
            total = xp.maximum(total, xp.astype(xp.max(xp.abs(g)), xp.float64))
        elif not inf:
            total = total + xp.astype(xp.sum(xp.abs(g) ** norm_type), xp.float64)
    if not inf:
        total = total ** (1.0 / norm_type)
    finite = xp.isfinite(total)
    if error_if_nonfinite and not bool(b.to_host(finite)):
        raise FloatingPointError(
            f"clip_grad_norm_: the total {norm_type:g}-norm of the gradients is "
            f"{float(b.to_host(total))}; a gradient holds NaN or Inf"
        )
    scale = max_norm / (total + 1e-6)
    scale = xp.where(finite & (scale < 1.0), scale, xp.ones_like(scale))
    for g in grads:
        g[...] = g * xp.astype(scale, g.dtype)
    return Tensor(total)


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element in place to ``[-clip_value, clip_value]``.

    Examples
    --------
    >>> x = cr.tensor([3.0, -0.5], requires_grad=True)
    >>> (0.5 * (x * x).sum()).backward()
    >>> cr.nn.utils.clip_grad_value_([x], 1.0)
    >>> x.grad
    tensor([ 1. , -0.5])
    """
    c = float(clip_value)
    for g in _grads(parameters):
        backend.ufuncs(g).clip(g, -c, c, out=g)
