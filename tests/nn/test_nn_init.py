"""Initialisation: seeded, right bounds and spreads."""

import math

import numpy as np
import pytest

from chainrule import nn
from chainrule.nn import init


def weight(*shape, on=None):
    return nn.Parameter(np.zeros(shape) if on is None else on.array(np.zeros(shape)))


def test_same_seed_same_values_and_generator_advances(on):
    a = on.host(init.xavier_uniform_(weight(30, 20, on=on), seed=1)).copy()
    b = on.host(init.xavier_uniform_(weight(30, 20, on=on), seed=1))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, init.xavier_uniform_(weight(30, 20), seed=1).numpy())
    g = np.random.default_rng(1)
    c = on.host(init.normal_(weight(5, 5, on=on), generator=g)).copy()
    d = on.host(init.normal_(weight(5, 5, on=on), generator=g))
    assert not np.array_equal(c, d)


def test_generator_and_seed_together_or_wrong_type_are_refused():
    with pytest.raises(ValueError, match="either generator= or seed="):
        init.uniform_(weight(2, 2), generator=np.random.default_rng(), seed=1)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        init.uniform_(weight(2, 2), generator=np.random.RandomState(0))


def test_xavier_uniform_bound(on):
    w = on.host(init.xavier_uniform_(weight(300, 200, on=on), gain=2.0, seed=0))
    bound = 2.0 * math.sqrt(6 / 500)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound


@pytest.mark.parametrize("fn, std", [
    (lambda w: init.xavier_normal_(w, seed=0), math.sqrt(2 / 700)),
    (lambda w: init.kaiming_normal_(w, nonlinearity="relu", seed=0), math.sqrt(2 / 300)),
    (lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", seed=0),
     math.sqrt(2 / 400)),
    (lambda w: init.kaiming_uniform_(w, nonlinearity="tanh", seed=0), 5 / 3 / math.sqrt(300)),
])
def test_spread_of_normal_and_kaiming(fn, std, on):
    w = on.host(fn(weight(400, 300, on=on)))  # 120,000 samples: std within 1% of its target
    assert w.std() == pytest.approx(std, rel=0.01)
    assert abs(w.mean()) < 0.01 * std


def test_kaiming_uniform_bound_and_aliases(on):
    w = on.host(init.he_uniform_(weight(100, 50, on=on), nonlinearity="relu", seed=0))
    assert np.abs(w).max() <= math.sqrt(6 / 50)
    assert init.glorot_uniform_ is init.xavier_uniform_


def test_gains():
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fans_need_a_matrix():
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init.xavier_uniform_(weight(5))


def test_constant_fills_and_version_bump(on):
    w = weight(2, 3, on=on)
    v, data = w._version, w.data
    assert np.all(on.host(init.ones_(w)) == 1) and w._version > v
    assert np.all(on.host(init.constant_(w, 0.25)) == 0.25)
    assert np.all(on.host(init.zeros_(w)) == 0)
    assert w.data is data  # filled in place
