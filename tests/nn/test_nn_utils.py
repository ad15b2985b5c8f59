"""clip_grad_norm_ and clip_grad_value_."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def params_with_grads(*grads):
    ps = []
    for g in grads:
        p = nn.Parameter(np.zeros(np.shape(g)))
        p.grad = cr.tensor(np.array(g, dtype=float))
        ps.append(p)
    return ps


def test_clip_grad_norm_scales_to_max_norm_and_returns_old_norm():
    ps = params_with_grads([3.0, 0.0], [[4.0]])
    total = nn.utils.clip_grad_norm_(ps, max_norm=1.0)
    assert total == pytest.approx(5.0)
    new = math.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in ps))
    assert new == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(ps[0].grad.numpy(), [0.6, 0.0], rtol=1e-5)


def test_clip_grad_norm_leaves_small_gradients_alone():
    ps = params_with_grads([0.3, 0.4])
    assert nn.utils.clip_grad_norm_(ps, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(ps[0].grad.numpy(), [0.3, 0.4])


def test_clip_grad_norm_inf_norm_and_missing_grads():
    ps = params_with_grads([1.0, -6.0], [2.0])
    ps.append(nn.Parameter(np.zeros(2)))  # no gradient: skipped
    assert nn.utils.clip_grad_norm_(ps, 3.0, norm_type=float("inf")) == pytest.approx(6.0)
    np.testing.assert_allclose(ps[0].grad.numpy(), [0.5, -3.0], rtol=1e-5)


def test_clip_grad_norm_nonfinite():
    ps = params_with_grads([np.nan, 1.0])
    with pytest.raises(FloatingPointError, match="NaN or Inf"):
        nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    ps = params_with_grads([-5.0, 0.5, 2.0])
    nn.utils.clip_grad_value_(ps, 1.0)
    np.testing.assert_array_equal(ps[0].grad.numpy(), [-1.0, 0.5, 1.0])
