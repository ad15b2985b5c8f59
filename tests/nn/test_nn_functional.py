"""Losses and functional forms against closed forms and finite differences (float64)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import functional as F

rng = np.random.default_rng(0)


def leaf(*shape, scale=1.0, on=None):
    data = rng.normal(size=shape) * scale
    return cr.tensor(data if on is None else on.array(data), requires_grad=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("reduction, ref", [
    ("mean", lambda d: (d**2).mean()),
    ("sum", lambda d: (d**2).sum()),
    ("none", lambda d: d**2),
])
def test_mse_loss_values(reduction, ref, on):
    y, t = leaf(6, 2, on=on), rng.normal(size=(6, 2))
    out = F.mse_loss(y, on.array(t), reduction=reduction)
    np.testing.assert_allclose(on.host(out), ref(on.host(y) - t), rtol=1e-14)


def test_half_sum_of_squares_has_gradient_y_minus_t(on):
    """The text's E = ½ Σ (y − t)²: ∂E/∂y = y − t (the output δ)."""
    y, t = leaf(10, 1, on=on), rng.normal(size=(10, 1))
    E = 0.5 * F.mse_loss(y, on.array(t), reduction="sum")
    assert E.item() == pytest.approx(0.5 * np.sum((on.host(y) - t) ** 2), rel=1e-14)
    E.backward()
    np.testing.assert_allclose(on.host(y.grad), on.host(y) - t, rtol=1e-14)


def test_mse_loss_gradcheck_and_tensor_targets(on):
    t = on.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    assert cr.gradcheck(lambda y, t: F.mse_loss(y, t), [leaf(3, 4, on=on), t])


def test_mse_loss_refuses_broadcasting_shapes(on):
    with pytest.raises(cr.ShapeError, match=r"input shape \(5, 1\) and target shape \(5,\)"):
        F.mse_loss(leaf(5, 1, on=on), on.array(np.zeros(5)))


@pytest.mark.parametrize("fn", [F.mse_loss, F.cross_entropy,
                                F.binary_cross_entropy_with_logits])
def test_unknown_reduction_is_named(fn):
    with pytest.raises(ValueError, match="reduction must be one of.*'avg'"):
        fn(leaf(2, 2), np.zeros((2, 2)) if fn is not F.cross_entropy else [0, 1],
           reduction="avg")


def test_cross_entropy_value_and_gradient_softmax_minus_onehot(on):
    z, t = leaf(5, 4, on=on), np.array([0, 3, 1, 1, 2])
    loss = F.cross_entropy(z, on.array(t))  # class indices may live on the device too
    zh = on.host(z)
    p = np.exp(zh) / np.exp(zh).sum(1, keepdims=True)
    assert on.host(loss) == pytest.approx(-np.log(p[np.arange(5), t]).mean(), rel=1e-13)
    loss.backward()
    onehot = np.eye(4)[t]
    np.testing.assert_allclose(on.host(z.grad), (p - onehot) / 5, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradcheck(reduction, on):
    t = np.array([2, 0, 1])
    assert cr.gradcheck(lambda z: (F.cross_entropy(z, t, reduction=reduction) * 1.0).sum(),
                        [leaf(3, 3, on=on)])


def test_cross_entropy_is_stable_at_large_logits(on):
    z = on.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], requires_grad=True)
    loss = F.cross_entropy(z, [1, 2], reduction="none")
    np.testing.assert_allclose(on.host(loss), [2000.0, 1 + np.log1p(np.exp(-1))], rtol=1e-12)
    loss.sum().backward()
    assert np.all(np.isfinite(on.host(z.grad)))


def test_cross_entropy_accepts_integral_float_targets(on):
    z = leaf(2, 3, on=on)
    assert F.cross_entropy(z, on.array([2.0, 0.0])).item() == pytest.approx(
        F.cross_entropy(z, [2, 0]).item())


def test_cross_entropy_bad_targets_are_named(on):
    z = leaf(3, 4, on=on)
    with pytest.raises(IndexError, match="target class 4 is out of range for 4 classes"):
        F.cross_entropy(z, on.array([0, 4, 1]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.cross_entropy(z, [0.5, 1, 2])
    with pytest.raises(cr.ShapeError, match=r"targets of shape \(3,\)"):
        F.cross_entropy(z, [0, 1])
    with pytest.raises(cr.ShapeError, match=r"logits of shape \(n, classes\)"):
        F.cross_entropy(leaf(4), [0])


def test_bce_with_logits_matches_formula_and_gradient(on):
    x, t = leaf(4, 3, scale=3, on=on), rng.uniform(size=(4, 3))
    loss = F.binary_cross_entropy_with_logits(x, on.array(t), reduction="sum")
    s = sigmoid(on.host(x))
    ref = -(t * np.log(s) + (1 - t) * np.log(1 - s)).sum()
    assert loss.item() == pytest.approx(ref, rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(on.host(x.grad), s - t, rtol=1e-12, atol=1e-15)
    assert cr.gradcheck(lambda x: F.binary_cross_entropy_with_logits(x, on.tensor(t)),
                        [leaf(4, 3, on=on)])


def test_bce_with_logits_is_stable_and_smooth_at_zero(on):
    x = on.tensor([-1000.0, 1000.0, 0.0, 0.0], requires_grad=True)
    t = on.array([1.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(on.host(loss), [1000.0, 0.0, np.log(2), np.log(2)], atol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(on.host(x.grad), [-1.0, 0.0, -0.5, 0.5], atol=1e-12)


def test_linear_functional_without_bias(on):
    x, w = leaf(4, 3, on=on), leaf(2, 3, on=on)
    np.testing.assert_allclose(on.host(F.linear(x, w)), on.host(x) @ on.host(w).T, rtol=1e-15)
    assert cr.gradcheck(lambda x, w, b: F.linear(x, w, b), [x, w, leaf(2, on=on)])
