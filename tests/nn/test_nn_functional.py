"""Losses and functional forms against closed forms and finite differences (float64)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import functional as F

rng = np.random.default_rng(0)


def leaf(*shape, scale=1.0):
    return cr.tensor(rng.normal(size=shape) * scale, requires_grad=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("reduction, ref", [
    ("mean", lambda d: (d**2).mean()),
    ("sum", lambda d: (d**2).sum()),
    ("none", lambda d: d**2),
])
def test_mse_loss_values(reduction, ref):
    y, t = leaf(6, 2), rng.normal(size=(6, 2))
    out = F.mse_loss(y, t, reduction=reduction)
    np.testing.assert_allclose(out.numpy(), ref(y.numpy() - t), rtol=1e-14)


def test_half_sum_of_squares_has_gradient_y_minus_t():
    """The text's E = ½ Σ (y − t)²: ∂E/∂y = y − t (the output δ)."""
    y, t = leaf(10, 1), rng.normal(size=(10, 1))
    E = 0.5 * F.mse_loss(y, t, reduction="sum")
    assert E.item() == pytest.approx(0.5 * np.sum((y.numpy() - t) ** 2), rel=1e-14)
    E.backward()
    np.testing.assert_allclose(y.grad.numpy(), y.numpy() - t, rtol=1e-14)


def test_mse_loss_gradcheck_and_tensor_targets():
    t = cr.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    assert cr.gradcheck(lambda y, t: F.mse_loss(y, t), [leaf(3, 4), t])


def test_mse_loss_refuses_broadcasting_shapes():
    with pytest.raises(cr.ShapeError, match=r"input shape \(5, 1\) and target shape \(5,\)"):
        F.mse_loss(leaf(5, 1), np.zeros(5))


@pytest.mark.parametrize("fn", [F.mse_loss, F.cross_entropy,
                                F.binary_cross_entropy_with_logits])
def test_unknown_reduction_is_named(fn):
    with pytest.raises(ValueError, match="reduction must be one of.*'avg'"):
        fn(leaf(2, 2), np.zeros((2, 2)) if fn is not F.cross_entropy else [0, 1],
           reduction="avg")


def test_cross_entropy_value_and_gradient_softmax_minus_onehot():
    z, t = leaf(5, 4), np.array([0, 3, 1, 1, 2])
    loss = F.cross_entropy(z, t)
    p = np.exp(z.numpy()) / np.exp(z.numpy()).sum(1, keepdims=True)
    assert loss.item() == pytest.approx(-np.log(p[np.arange(5), t]).mean(), rel=1e-13)
    loss.backward()
    onehot = np.eye(4)[t]
    np.testing.assert_allclose(z.grad.numpy(), (p - onehot) / 5, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradcheck(reduction):
    t = np.array([2, 0, 1])
    assert cr.gradcheck(lambda z: (F.cross_entropy(z, t, reduction=reduction) * 1.0).sum(),
                        [leaf(3, 3)])


def test_cross_entropy_is_stable_at_large_logits():
    z = cr.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], requires_grad=True)
    loss = F.cross_entropy(z, [1, 2], reduction="none")
    np.testing.assert_allclose(loss.numpy(), [2000.0, 1 + np.log1p(np.exp(-1))], rtol=1e-12)
    loss.sum().backward()
    assert np.all(np.isfinite(z.grad.numpy()))


def test_cross_entropy_accepts_integral_float_targets():
    z = leaf(2, 3)
    assert F.cross_entropy(z, np.array([2.0, 0.0])).item() == pytest.approx(
        F.cross_entropy(z, [2, 0]).item())


def test_cross_entropy_bad_targets_are_named():
    z = leaf(3, 4)
    with pytest.raises(IndexError, match="target class 4 is out of range for 4 classes"):
        F.cross_entropy(z, [0, 4, 1])
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(z, [0.5, 1, 2])
    with pytest.raises(cr.ShapeError, match=r"targets of shape \(3,\)"):
        F.cross_entropy(z, [0, 1])
    with pytest.raises(cr.ShapeError, match=r"logits of shape \(n, classes\)"):
        F.cross_entropy(leaf(4), [0])


def test_bce_with_logits_matches_formula_and_gradient():
    x, t = leaf(4, 3, scale=3), rng.uniform(size=(4, 3))
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="sum")
    s = sigmoid(x.numpy())
    ref = -(t * np.log(s) + (1 - t) * np.log(1 - s)).sum()
    assert loss.item() == pytest.approx(ref, rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), s - t, rtol=1e-12, atol=1e-15)
    assert cr.gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, t), [leaf(4, 3)])


def test_bce_with_logits_is_stable_and_smooth_at_zero():
    x = cr.tensor([-1000.0, 1000.0, 0.0, 0.0], requires_grad=True)
    t = np.array([1.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [1000.0, 0.0, np.log(2), np.log(2)], atol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 0.0, -0.5, 0.5], atol=1e-12)


def test_linear_functional_without_bias():
    x, w = leaf(4, 3), leaf(2, 3)
    np.testing.assert_allclose(F.linear(x, w).numpy(), x.numpy() @ w.numpy().T, rtol=1e-15)
    assert cr.gradcheck(lambda x, w, b: F.linear(x, w, b), [x, w, leaf(2)])
