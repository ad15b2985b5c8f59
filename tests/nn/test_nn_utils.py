"""clip_grad_norm_ and clip_grad_value_."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def params_with_grads(on, *grads):
    ps = []
    for g in grads:
        p = nn.Parameter(on.array(np.zeros(np.shape(g))))
        p.grad = on.tensor(np.array(g, dtype=float))
        ps.append(p)
    return ps


def norm(total, on):
    """The returned norm as a float: NumPy's float64, or a 0-d tensor on the device."""
    if on.strict:
        assert isinstance(total, cr.Tensor) and total.shape == ()
        return float(on.host(total))
    assert isinstance(total, float)
    return total


def test_clip_grad_norm_scales_to_max_norm_and_returns_old_norm(on):
    ps = params_with_grads(on, [3.0, 0.0], [[4.0]])
    total = nn.utils.clip_grad_norm_(ps, max_norm=1.0)
    assert norm(total, on) == pytest.approx(5.0)
    new = math.sqrt(sum(float((on.host(p.grad) ** 2).sum()) for p in ps))
    assert new == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(on.host(ps[0].grad), [0.6, 0.0], rtol=1e-5)


def test_clip_grad_norm_leaves_small_gradients_alone(on):
    ps = params_with_grads(on, [0.3, 0.4])
    assert norm(nn.utils.clip_grad_norm_(ps, 1.0), on) == pytest.approx(0.5)
    np.testing.assert_array_equal(on.host(ps[0].grad), [0.3, 0.4])


def test_clip_grad_norm_inf_norm_and_missing_grads(on):
    ps = params_with_grads(on, [1.0, -6.0], [2.0])
    ps.append(nn.Parameter(on.array(np.zeros(2))))  # no gradient: skipped
    total = nn.utils.clip_grad_norm_(ps, 3.0, norm_type=float("inf"))
    assert norm(total, on) == pytest.approx(6.0)
    np.testing.assert_allclose(on.host(ps[0].grad), [0.5, -3.0], rtol=1e-5)


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, float("inf")])
def test_clip_grad_norm_on_a_device_is_numpys_to_the_last_bit(norm_type, on):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=s) * 3 for s in [(4, 3), (3,), (0,), (5, 2)]]
    ps, ref = params_with_grads(on, *grads), params_with_grads(on.__class__("numpy"), *grads)
    total = nn.utils.clip_grad_norm_(ps, 1.0, norm_type=norm_type)
    assert norm(total, on) == nn.utils.clip_grad_norm_(ref, 1.0, norm_type=norm_type)
    for p, q in zip(ps, ref):
        np.testing.assert_array_equal(on.host(p.grad), q.grad.numpy())


def test_clip_grad_norm_nonfinite(on):
    ps = params_with_grads(on, [np.nan, 1.0])
    with pytest.raises(FloatingPointError, match="NaN or Inf"):
        nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)


def test_clip_grad_value(on):
    ps = params_with_grads(on, [-5.0, 0.5, 2.0])
    nn.utils.clip_grad_value_(ps, 1.0)
    np.testing.assert_array_equal(on.host(ps[0].grad), [-1.0, 0.5, 1.0])
