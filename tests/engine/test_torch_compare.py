"""Optional: the registry's samples run side by side in PyTorch (float64). Forward values,
gradients and second derivatives (a Hessian-vector product) must agree to ~1e-10.
Skipped when torch is not installed; nothing else needs it."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import chainrule as cr

from .op_samples import CASES, SAMPLES

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-10, atol=1e-10)
OP_NAMES = sorted(cr.OPS)


def _compare(s, seed=0):
    rng = np.random.default_rng(seed)
    xs = [cr.tensor(x.data, requires_grad=True) for x in s.inputs]
    ts = [torch.tensor(x.data, dtype=torch.float64, requires_grad=True) for x in s.inputs]
    out = s.fn(*xs)
    tout = s.torch(torch, *ts)
    expected = tout.detach().numpy()
    assert out.shape == tuple(tout.shape), s.note
    np.testing.assert_allclose(out.numpy().astype(np.float64), expected, err_msg=s.note, **TOL)

    v = rng.standard_normal(out.shape)
    gs = cr.grad(out, xs, grad_outputs=v.astype(out.dtype), create_graph=True)
    tgs = torch.autograd.grad(tout, ts, grad_outputs=torch.tensor(v, dtype=tout.dtype),
                              create_graph=True)
    for g, tg in zip(gs, tgs):
        np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), err_msg=s.note, **TOL)

    # second order: d/dx of Σ_i <grad_i, w_i>
    ws = [rng.standard_normal(x.shape) for x in xs]
    second = sum((g * w).sum() for g, w in zip(gs, ws))
    tsecond = sum((tg * torch.tensor(w)).sum() for tg, w in zip(tgs, ws))
    hs = _grads(cr.grad, second, xs)
    ths = _grads(torch.autograd.grad, tsecond, ts)
    for x, h, th in zip(xs, hs, ths):
        h = np.zeros(x.shape) if h is None else h.numpy()
        th = np.zeros(x.shape) if th is None else th.detach().numpy(force=True)  # ZeroTensor
        np.testing.assert_allclose(h, th, err_msg=s.note, **TOL)


def _grads(grad, y, xs):
    """Gradients of y, None where y does not depend on an input (or on any)."""
    if not y.requires_grad:  # e.g. abs: its derivative sign(x) is a constant
        return [None] * len(xs)
    return grad(y, xs, allow_unused=True)


@pytest.mark.parametrize("name", OP_NAMES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_sample_matches_torch(name, data):
    s = data.draw(SAMPLES[name], label=name)
    if name == "pow":
        # torch's pow backward masks the base's gradient where the exponent is exactly 0,
        # dropping the mixed second derivative ∂²(a^b)/∂a∂b = a^(b−1)(1 + b log a) there
        assume(all(np.all(x.data != 0) for x in s.inputs))
    assert s.torch is not None, f"sample for {name} has no torch twin"
    _compare(s)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fixed_form_matches_torch(case):
    _compare(case[2]())


def test_two_layer_net_matches_torch():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    shapes = [(5, 3), (5,), (2, 5), (2,)]
    values = [rng.standard_normal(s) for s in shapes]
    ps = [cr.tensor(v, requires_grad=True) for v in values]
    tps = [torch.tensor(v, requires_grad=True) for v in values]
    E = 0.5 * ((cr.tanh(cr.tensor(x) @ ps[0].T + ps[1]) @ ps[2].T + ps[3] - t) ** 2).sum()
    tE = 0.5 * ((torch.tanh(torch.tensor(x) @ tps[0].T + tps[1]) @ tps[2].T + tps[3]
                 - torch.tensor(t)) ** 2).sum()
    E.backward()
    tE.backward()
    assert E.item() == pytest.approx(tE.item(), rel=1e-12)
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12, atol=1e-12)
