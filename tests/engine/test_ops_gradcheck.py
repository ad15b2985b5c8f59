"""Every op in the registry: forward equals NumPy, gradients pass gradcheck to first and
second order in float64 (random shapes with broadcasting, plus the fixed forms in CASES).

Each test runs on NumPy and again on ``array_api_strict`` arrays on its fake second device
``device1`` (the "strict" backend, through the same seam as CuPy): there any conversion to
NumPy raises, so a hidden NumPy call fails the test, and results must stay strict arrays.
A sample whose computation holds a NumPy array constant cannot run there (chainrule
refuses to mix devices) and is skipped for that backend only."""

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
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


BACKENDS = ["numpy", "strict"]


def _strict():
    xps = pytest.importorskip("array_api_strict")
    return xps, xps.Device("device1")


def on_backend(s, backend):
    """The sample with its inputs on ``backend`` (a copy; the NumPy inputs are kept)."""
    if backend == "numpy":
        return s
    xps, dev = _strict()
    inputs = [cr.tensor(xps.asarray(x.data, device=dev), requires_grad=True) for x in s.inputs]
    return dataclasses.replace(s, inputs=inputs, ref=lambda *_: s.ref(*[x.data for x in s.inputs]))


def host(t):
    """A tensor's values as NumPy; a strict tensor must hold a strict array on device1."""
    data = t.data
    if isinstance(data, (np.ndarray, np.generic)):
        return data
    xps, dev = _strict()
    assert type(data).__module__.startswith("array_api_strict"), type(data)
    assert data.device == dev
    return np.asarray(data.to_device(xps.Device("CPU_DEVICE")))


def _run(backend, check, *args):
    try:
        return check(*args)
    except cr.backend.DeviceError:
        if backend == "numpy":
            raise
        return "mixed"  # a NumPy constant in the sample met a strict input


def check_forward(name, s):
    out = s.fn(*s.inputs)
    expected = np.asarray(s.ref(*[x.data for x in s.inputs]))
    assert isinstance(out, cr.Tensor)
    assert out.shape == expected.shape, s.note
    assert out.dtype == expected.dtype, s.note
    np.testing.assert_allclose(host(out), expected, rtol=1e-12, atol=1e-14, err_msg=s.note)
    assert out.requires_grad
    assert name in ops_used(out), f"sample for {name} does not run it ({s.note})"


# central differences in float64 with a 1e-6 step are good to ~1e-9 on these domains, so
# the tolerances are much tighter than gradcheck's defaults: a VJP off by 0.1% must fail
TIGHT = dict(atol=1e-7, rtol=1e-6)


def check_gradients(s):
    tol = {**TIGHT, **s.tol}
    assert cr.gradcheck(s.fn, s.inputs, **tol), s.note
    assert cr.gradgradcheck(s.fn, s.inputs, **tol), s.note


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", OP_NAMES)
@ENGINE
@given(data=st.data())
def test_forward_matches_numpy(name, backend, data):
    s = on_backend(data.draw(SAMPLES[name], label=name), backend)
    if _run(backend, check_forward, name, s) == "mixed":
        reject()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", OP_NAMES)
@ENGINE
@given(data=st.data())
def test_gradcheck_first_and_second_order(name, backend, data):
    s = on_backend(data.draw(SAMPLES[name], label=name), backend)
    if _run(backend, check_gradients, s) == "mixed":
        reject()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fixed_forms(case, backend):
    _, name, build = case
    if _run(backend, check_forward, name, on_backend(build(), backend)) == "mixed":
        pytest.skip("the case holds a NumPy constant, refused beside strict inputs")
    check_gradients(on_backend(build(), backend))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_backward_gradients_have_input_shape_and_dtype(name, backend, data):
    s = on_backend(data.draw(SAMPLES[name], label=name), backend)

    def check():
        out = s.fn(*s.inputs)
        out.backward(cr.ones_like(out))
        for x in s.inputs:
            assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == x.dtype
            host(x.grad)

    if _run(backend, check) == "mixed":
        reject()
