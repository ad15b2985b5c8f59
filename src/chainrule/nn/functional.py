"""Functions behind the layers and the losses, built from the engine's primitives.

The text's sum-of-squares error ``E = ½ Σ_n Σ_k (y_nk − t_nk)²`` is
``0.5 * mse_loss(y, t, reduction="sum")``; its gradient with respect to the output is
``y − t``, the output unit's δ of the back-propagation equations.
"""

from __future__ import annotations

import numpy as np

from .. import backend, log_softmax, relu, sigmoid, softmax, stack, tanh
from ..errors import ShapeError
from ..ops import LINEAR, MSE_LOSS
from ..tensor import Tensor, _asarray, apply

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "linear",
    "log_softmax",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]

_REDUCTIONS = ("mean", "sum", "none")


def linear(x, weight, bias=None):
    """``x @ weight.T + bias``: the text's ``a_j = Σ_i w_ji x_i + w_j0`` for a batch of rows.

    Parameters
    ----------
    x : Tensor, shape (..., in_features)
    weight : Tensor, shape (out_features, in_features)
    bias : Tensor, shape (out_features,), optional

    Examples
    --------
    >>> x, W, b = cr.ones(4, 3), cr.ones(2, 3), cr.tensor([0.0, 1.0])
    >>> cr.nn.functional.linear(x, W, b)[0]
    tensor([3., 4.])
    """
    if x.shape[-1:] != weight.shape[-1:]:
        raise ShapeError(
            f"linear: input has {x.shape[-1] if x.ndim else 'no'} features (shape {x.shape}) "
            f"but the weight expects {weight.shape[-1]} (weight shape {weight.shape})"
        )
    if weight.ndim == 2 and x.ndim >= 1 and (bias is None or np.shape(bias) == weight.shape[:1]):
        return apply(LINEAR, (x, weight) if bias is None else (x, weight, bias))
    out = x @ weight.T
    return out if bias is None else out + bias


def _check_reduction(fn, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{fn}: reduction must be one of {', '.join(map(repr, _REDUCTIONS))}, "
            f"got {reduction!r}"
        )


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def mse_loss(input, target, reduction="mean"):
    """Squared error ``(input − target)²``, averaged, summed or kept per element.

    Parameters
    ----------
    input : Tensor
        Predictions.
    target : Tensor or array_like
        Targets, same shape as ``input`` (no broadcasting: a ``(n, 1)`` prediction
        against ``(n,)`` targets is an error, not an ``(n, n)`` matrix).
    reduction : {"mean", "sum", "none"}

    Notes
    -----
    The text's ``E = ½ Σ (y − t)²`` is ``0.5 * mse_loss(y, t, reduction="sum")``.

    Examples
    --------
    >>> y, t = cr.tensor([1.0, 2.0], requires_grad=True), [0.0, 0.0]
    >>> cr.nn.functional.mse_loss(y, t)                   # (1² + 2²) / 2
    tensor(2.5, grad_fn=<mse_loss>)
    >>> E = 0.5 * cr.nn.functional.mse_loss(y, t, reduction="sum")   # the text's ½ Σ (y − t)²
    >>> E.backward()
    >>> y.grad                                            # δ = y − t
    tensor([1., 2.])
    """
    _check_reduction("mse_loss", reduction)
    if np.shape(target) != input.shape:
        raise ShapeError(
            f"mse_loss: input shape {input.shape} and target shape {np.shape(target)} differ; "
            "reshape one of them (e.g. targets as a column with .reshape(-1, 1))"
        )
    return apply(MSE_LOSS, (input, target), reduction)


def _class_targets(fn, target, n, classes):
    t = target.data if isinstance(target, Tensor) else target
    # class indices on a device are checked and used on the host: indexing computes its
    # positions there (backend.Backend.getitem), and a bad class must be named
    t = backend.host(t) if backend._is_array(t) and backend.of(t) is not None else _asarray(t)
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "f" and t.size and np.all(t == np.round(t)):
            t = t.astype(np.intp)
        else:
            raise TypeError(
                f"{fn}: targets must be integer class indices, got dtype {t.dtype}"
            )
    if t.shape != (n,):
        raise ShapeError(f"{fn}: expected targets of shape ({n},), got {t.shape}")
    if t.size and (t.min() < 0 or t.max() >= classes):
        bad = t[(t < 0) | (t >= classes)][0]
        raise IndexError(
            f"{fn}: target class {bad} is out of range for {classes} classes (0..{classes - 1})"
        )
    return t


def cross_entropy(input, target, reduction="mean"):
    """Softmax cross-entropy from logits and integer class targets (stable at any scale).

    Parameters
    ----------
    input : Tensor, shape (n, classes)
        Unnormalised scores (logits).
    target : array_like of int, shape (n,)
        The class index of each row (on the host or on the logits' device; the indices
        are checked on the host, a copy of ``n`` integers).
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    Tensor
        ``−log softmax(input)[n, target[n]]``, reduced.

    Examples
    --------
    >>> logits = cr.tensor([[2.0, 0.0], [0.0, 2.0]], requires_grad=True)
    >>> loss = cr.nn.functional.cross_entropy(logits, [0, 1])
    >>> round(loss.item(), 4)                             # −log(e² / (e² + 1))
    0.1269
    >>> loss.backward()
    >>> logits.grad.shape
    (2, 2)
    """
    _check_reduction("cross_entropy", reduction)
    if input.ndim != 2:
        raise ShapeError(
            f"cross_entropy: expected logits of shape (n, classes), got {input.shape}"
        )
    n, classes = input.shape
    t = _class_targets("cross_entropy", target, n, classes)
    logp = log_softmax(input, axis=1)
    return _reduce(-logp[np.arange(n), t], reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """Binary cross-entropy of ``sigmoid(input)`` against targets in [0, 1], stable.

    Computed as ``−[t log σ(x) + (1 − t) log σ(−x)]`` through a two-class
    ``log_softmax`` over ``(0, x)``, so logits of ±1000 give finite values and the
    gradient is ``σ(x) − t`` everywhere, including at ``x = 0``.

    Parameters
    ----------
    input : Tensor
        Logits.
    target : Tensor or array_like
        Probabilities (usually 0 or 1), same shape as ``input``.
    reduction : {"mean", "sum", "none"}

    Examples
    --------
    >>> bce = cr.nn.functional.binary_cross_entropy_with_logits
    >>> bce(cr.tensor([1000.0, -1000.0]), cr.tensor([1.0, 0.0]))     # finite at ±1000
    tensor(0.)
    >>> round(bce(cr.tensor([0.0]), cr.tensor([1.0])).item(), 4)     # log 2
    0.6931
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    if np.shape(target) != input.shape:
        raise ShapeError(
            f"binary_cross_entropy_with_logits: input shape {input.shape} and target shape "
            f"{np.shape(target)} differ"
        )
    zeros = backend.zeros(input.shape, input.dtype, input.data)
    if not isinstance(target, Tensor) and backend._is_array(target) \
            and backend.of(target) is not None:
        target = Tensor(target)  # another library's array defers to no Tensor operator
    logp = log_softmax(stack([zeros, input], axis=-1), axis=-1)  # log σ(−x), log σ(x)
    loss = -(target * logp[..., 1] + (1 - target) * logp[..., 0])
    return _reduce(loss, reduction)
