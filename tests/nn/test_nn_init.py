"""Initialisation: seeded, right bounds and spreads."""

import math

import numpy as np
import pytest

from chainrule import nn
from chainrule.nn import init


def weight(*shape):
    return nn.Parameter(np.zeros(shape))


def test_same_seed_same_values_and_generator_advances():
    a = init.xavier_uniform_(weight(30, 20), seed=1).data.copy()
    b = init.xavier_uniform_(weight(30, 20), seed=1).data
    np.testing.assert_array_equal(a, b)
    g = np.random.default_rng(1)
    c = init.normal_(weight(5, 5), generator=g).data.copy()
    d = init.normal_(weight(5, 5), generator=g).data
    assert not np.array_equal(c, d)


def test_generator_and_seed_together_or_wrong_type_are_refused():
    with pytest.raises(ValueError, match="either generator= or seed="):
        init.uniform_(weight(2, 2), generator=np.random.default_rng(), seed=1)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        init.uniform_(weight(2, 2), generator=np.random.RandomState(0))


def test_xavier_uniform_bound():
    w = init.xavier_uniform_(weight(300, 200), gain=2.0, seed=0).data
    bound = 2.0 * math.sqrt(6 / 500)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound


@pytest.mark.parametrize("fn, std", [
    (lambda w: init.xavier_normal_(w, seed=0), math.sqrt(2 / 700)),
    (lambda w: init.kaiming_normal_(w, nonlinearity="relu", seed=0), math.sqrt(2 / 300)),
    (lambda w: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", seed=0),
     math.sqrt(2 / 400)),
    (lambda w: init.kaiming_uniform_(w, nonlinearity="tanh", seed=0), 5 / 3 / math.sqrt(300)),
])
def test_spread_of_normal_and_kaiming(fn, std):
    w = fn(weight(400, 300)).data  # 120,000 samples: the std is within 1% of its target
    assert w.std() == pytest.approx(std, rel=0.01)
    assert abs(w.mean()) < 0.01 * std


def test_kaiming_uniform_bound_and_aliases():
    w = init.he_uniform_(weight(100, 50), nonlinearity="relu", seed=0).data
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


def test_constant_fills_and_version_bump():
    w = weight(2, 3)
    v = w._version
    assert np.all(init.ones_(w).data == 1) and w._version > v
    assert np.all(init.constant_(w, 0.25).data == 0.25)
    assert np.all(init.zeros_(w).data == 0)
