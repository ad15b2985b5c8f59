"""gradcheck / gradgradcheck themselves: both modes pass correct ops and catch broken ones,
and a failure names the input, the element and both values."""

import importlib
import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.graph import Op
from chainrule.tensor import Tensor, unary

# x**2 with a VJP that says 3x instead of 2x (not registered in cr.OPS)
BROKEN_SQUARE = Op("broken_square", lambda x: x * x, (lambda F, g, out, x: g * 3 * x,))
# the right first derivative 2x, but computed from a detached x: second order is lost
DETACHED_SQUARE = Op("detached_square", lambda x: x * x, (
    lambda F, g, out, x: g * 2 * (x.detach() if isinstance(x, Tensor) else x),))
RIGHT_SQUARE = Op("right_square", lambda x: x * x, (lambda F, g, out, x: g * 2 * x,))


def broken(x):
    return unary(BROKEN_SQUARE, x)


def leaf(a):
    return cr.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def _values(msg):
    m = re.search(r"analytical (\S+) vs numerical (\S+)", msg)
    assert m, msg
    return float(m.group(1)), float(m.group(2))


def test_broken_ops_are_not_in_the_registry():
    assert not {"broken_square", "detached_square", "right_square"} & set(cr.OPS)


def test_full_jacobian_mode_passes_correct_and_fails_broken():
    xv = np.array([[0.5, -1.2, 2.0], [1.5, 0.7, -0.3]])
    assert cr.gradcheck(lambda x: unary(RIGHT_SQUARE, x) * 1.0, [leaf(xv)])
    with pytest.raises(cr.GradcheckError) as err:
        cr.gradcheck(broken, [leaf(xv)])
    msg = str(err.value)
    assert "input 0" in msg and "(2, 3)" in msg
    assert "element (0, 0)" in msg  # the first element of the Jacobian that disagrees
    analytical, numerical = _values(msg)
    assert analytical == pytest.approx(3 * xv[0, 0], rel=1e-9)
    assert numerical == pytest.approx(2 * xv[0, 0], rel=1e-6)


def test_failure_names_the_right_input_and_element():
    # the broken op only touches the second input, and only its element (1,)
    a = leaf([1.0, 2.0])
    b = leaf([0.0, 0.8])

    def f(a, b):
        return a * 2 + broken(b)

    with pytest.raises(cr.GradcheckError) as err:
        cr.gradcheck(f, [a, b])
    msg = str(err.value)
    assert "input 1" in msg and "element (1,)" in msg
    analytical, numerical = _values(msg)
    assert analytical == pytest.approx(2.4) and numerical == pytest.approx(1.6)


def test_random_direction_mode_for_large_inputs():
    rng = np.random.default_rng(0)
    xv = rng.uniform(0.5, 1.5, (20, 20))  # 400 elements > max_full: random directions
    assert cr.gradcheck(lambda x: (cr.tanh(x) * x).sum(axis=1), [leaf(xv)])
    assert cr.gradcheck(lambda x: unary(RIGHT_SQUARE, x), [leaf(xv)])
    with pytest.raises(cr.GradcheckError) as err:
        cr.gradcheck(broken, [leaf(xv)])
    msg = str(err.value)
    assert "input 0" in msg and "(20, 20)" in msg
    m = re.search(r"element \((\d+), (\d+)\)", msg)
    assert m, msg
    i, j = int(m.group(1)), int(m.group(2))
    analytical, numerical = _values(msg)
    # vᵀJ at that element: analytical v·3x against numerical v·2x, so their ratio is 3/2
    assert analytical / numerical == pytest.approx(1.5, rel=1e-5)
    assert 0 <= i < 20 and 0 <= j < 20


def test_random_direction_mode_is_really_used(monkeypatch):
    gc = importlib.import_module("chainrule.gradcheck")  # the module, not the function
    calls = []
    real = gc._check_directions
    monkeypatch.setattr(gc, "_check_directions",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    cr.gradcheck(lambda x: x * 2, [leaf(np.ones(300))])
    assert calls
    calls.clear()
    cr.gradcheck(lambda x: x * 2, [leaf(np.ones(10))])
    assert not calls


def test_raise_exception_false_returns_false():
    assert cr.gradcheck(broken, [leaf([1.0, 2.0])], raise_exception=False) is False
    assert cr.gradcheck(lambda x: x * x, [leaf([1.0, 2.0])], raise_exception=False) is True


def test_gradgradcheck_catches_a_wrong_second_derivative():
    xv = [0.5, -1.0, 2.0]
    f = lambda x: unary(DETACHED_SQUARE, x)
    assert cr.gradcheck(f, [leaf(xv)])  # first order is right
    with pytest.raises(cr.GradcheckError):
        cr.gradgradcheck(f, [leaf(xv)])
    assert cr.gradgradcheck(lambda x: unary(RIGHT_SQUARE, x), [leaf(xv)])


def test_gradgradcheck_random_direction_mode():
    rng = np.random.default_rng(1)
    xv = rng.uniform(0.5, 1.5, 300)
    assert cr.gradgradcheck(lambda x: cr.sin(x) * x, [leaf(xv)])
    with pytest.raises(cr.GradcheckError):
        cr.gradgradcheck(lambda x: unary(DETACHED_SQUARE, x), [leaf(xv)])


def test_gradcheck_checks_in_float64_and_leaves_inputs_alone():
    x32 = cr.tensor(np.array([0.3, 0.7], dtype=np.float32), requires_grad=True)
    seen = []

    def f(x):
        seen.append(x.dtype)
        return cr.exp(x)

    assert cr.gradcheck(f, [x32])
    assert set(seen) == {np.dtype(np.float64)}
    assert x32.dtype == np.float32 and x32.grad is None
    np.testing.assert_array_equal(x32.numpy(), np.array([0.3, 0.7], dtype=np.float32))


def test_gradcheck_with_constant_and_non_tensor_inputs():
    assert cr.gradcheck(lambda x, c, k: x * c + k, [leaf([1.0, 2.0]), cr.tensor([3.0, 4.0]),
                                                    2.0])


def test_gradcheck_with_several_outputs():
    f = lambda x: (cr.exp(x), x * 2, broken(x))
    with pytest.raises(cr.GradcheckError, match="output element"):
        cr.gradcheck(f, [leaf([0.5, 1.0])])
    assert cr.gradcheck(lambda x: (cr.exp(x), x.sum()), [leaf([0.5, 1.0])])
