"""Every op in the registry: forward equals NumPy, gradients pass gradcheck to first and
second order in float64 (random shapes with broadcasting, plus the fixed forms in CASES)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr

from .op_samples import CASES, SAMPLES, ops_used

OP_NAMES = sorted(cr.OPS)

ENGINE = settings(max_examples=20, deadline=None, derandomize=False,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_registry_covers_every_op():
    assert set(SAMPLES) == set(cr.OPS), (
        f"ops without samples: {sorted(set(cr.OPS) - set(SAMPLES))}; "
        f"samples without ops: {sorted(set(SAMPLES) - set(cr.OPS))}"
    )


def test_fixed_cases_cover_the_forms():
    names = {name for _, name, _ in CASES}
    assert {"sum", "mean", "max", "min", "softmax", "log_softmax", "getitem", "scatter",
            "matmul", "concatenate", "stack", "where"} <= names


def check_forward(name, s):
    out = s.fn(*s.inputs)
    expected = np.asarray(s.ref(*[x.data for x in s.inputs]))
    assert isinstance(out, cr.Tensor)
    assert out.shape == expected.shape, s.note
    assert out.dtype == expected.dtype, s.note
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-14, err_msg=s.note)
    assert out.requires_grad
    assert name in ops_used(out), f"sample for {name} does not run it ({s.note})"


# central differences in float64 with a 1e-6 step are good to ~1e-9 on these domains, so
# the tolerances are much tighter than gradcheck's defaults: a VJP off by 0.1% must fail
TIGHT = dict(atol=1e-7, rtol=1e-6)


def check_gradients(s):
    tol = {**TIGHT, **s.tol}
    assert cr.gradcheck(s.fn, s.inputs, **tol), s.note
    assert cr.gradgradcheck(s.fn, s.inputs, **tol), s.note


@pytest.mark.parametrize("name", OP_NAMES)
@ENGINE
@given(data=st.data())
def test_forward_matches_numpy(name, data):
    check_forward(name, data.draw(SAMPLES[name], label=name))


@pytest.mark.parametrize("name", OP_NAMES)
@ENGINE
@given(data=st.data())
def test_gradcheck_first_and_second_order(name, data):
    check_gradients(data.draw(SAMPLES[name], label=name))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fixed_forms(case):
    _, name, build = case
    check_forward(name, build())
    check_gradients(build())


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_backward_gradients_have_input_shape_and_dtype(name, data):
    s = data.draw(SAMPLES[name], label=name)
    out = s.fn(*s.inputs)
    out.backward(np.ones(out.shape, dtype=out.dtype))
    for x in s.inputs:
        assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == x.dtype
