"""Every optimizer against its published update rule, step by step, in float64."""

import math

import numpy as np
import pytest
from optim_problem import B0, W0, backward, gradients, params

import chainrule as cr
from chainrule import optim

STEPS = 40


# ---- the published rules, written plainly (one parameter array at a time) ----
def sgd_rule(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    def step(w, g, s, t):
        g = g + weight_decay * w
        if momentum:
            s["b"] = g.copy() if t == 1 else momentum * s["b"] + (1 - dampening) * g
            g = g + momentum * s["b"] if nesterov else s["b"]
        return w - lr * g
    return step


def adam_rule(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
              decoupled=False):
    b1, b2 = betas

    def step(w, g, s, t):
        if decoupled:
            w = w - lr * weight_decay * w
        else:
            g = g + weight_decay * w
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        v = s["v"]
        if amsgrad:
            s["vmax"] = np.maximum(s.get("vmax", 0), v)
            v = s["vmax"]
        m_hat = s["m"] / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return step


def rmsprop_rule(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    def step(w, g, s, t):
        g = g + weight_decay * w
        s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
        v = s["v"]
        if centered:
            s["gbar"] = alpha * s.get("gbar", 0) + (1 - alpha) * g
            v = v - s["gbar"] ** 2
        d = g / (np.sqrt(v) + eps)
        if momentum:
            s["b"] = momentum * s.get("b", 0) + d
            d = s["b"]
        return w - lr * d
    return step


def adagrad_rule(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    def step(w, g, s, t):
        g = g + weight_decay * w
        s["sum"] = s.get("sum", initial_accumulator_value) + g * g
        return w - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["sum"]) + eps)
    return step


CASES = [
    (optim.SGD, dict(lr=0.01), sgd_rule),
    (optim.SGD, dict(lr=0.01, momentum=0.9), sgd_rule),
    (optim.SGD, dict(lr=0.01, momentum=0.8, dampening=0.3, weight_decay=0.1), sgd_rule),
    (optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.05), sgd_rule),
    (optim.Adam, dict(lr=0.05), adam_rule),
    (optim.Adam, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), adam_rule),
    (optim.Adam, dict(lr=0.05, amsgrad=True), adam_rule),
    (optim.AdamW, dict(lr=0.05, weight_decay=0.1), lambda **k: adam_rule(decoupled=True, **k)),
    (optim.AdamW, dict(lr=0.05, amsgrad=True), lambda **k: adam_rule(decoupled=True,
                                                                     weight_decay=1e-2, **k)),
    (optim.RMSprop, dict(lr=0.01), rmsprop_rule),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1), rmsprop_rule),
    (optim.Adagrad, dict(lr=0.1), adagrad_rule),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1,
                         initial_accumulator_value=0.5), adagrad_rule),
]


@pytest.mark.parametrize("cls, kwargs, rule", CASES,
                         ids=[f"{c.__name__}-{sorted(k)}" for c, k, _ in CASES])
def test_optimizer_follows_its_published_rule(cls, kwargs, rule, on):
    ps = params(on)
    opt = cls(ps, **kwargs)
    update = rule(**kwargs)
    ref = [W0.copy(), B0.copy()]
    states = [{}, {}]
    first = None
    for t in range(1, STEPS + 1):
        opt.zero_grad()
        E = backward(ps, on)
        first = E if first is None else first
        grads = gradients(*ref)
        for p, g in zip(ps, grads):
            np.testing.assert_allclose(on.host(p.grad), g, rtol=1e-12, atol=1e-12)
        opt.step()
        ref = [update(w, g, s, t) for w, g, s in zip(ref, grads, states)]
        for p, w in zip(ps, ref):
            np.testing.assert_allclose(on.host(p), w, rtol=1e-11, atol=1e-13, err_msg=f"step {t}")
    assert backward(ps, on) < first  # it optimizes


def test_step_bumps_version_and_skips_params_without_grad(on):
    ps = params(on)
    opt = optim.SGD(ps, lr=0.1)
    ps[0].grad = on.tensor(np.ones_like(W0))
    v0, v1 = ps[0]._version, ps[1]._version
    data = ps[0].data
    opt.step()
    assert ps[0]._version == v0 + 1 and ps[1]._version == v1
    assert ps[0].data is data  # updated in place, on every backend
    np.testing.assert_allclose(on.host(ps[0]), W0 - 0.1)
    np.testing.assert_array_equal(on.host(ps[1]), B0)


def test_in_place_update_after_forward_is_caught_by_backward(on):
    """Stepping between a forward and its backward would silently give wrong gradients."""
    ps = params(on)
    opt = optim.SGD(ps, lr=0.1)
    ps[0].grad = on.tensor(np.ones_like(W0))
    E = (ps[0] ** 2).sum()
    opt.step()
    with pytest.raises(cr.BackwardError):
        E.backward()


def test_zero_grad_set_to_none_or_zeros(on):
    ps = params(on)
    opt = optim.Adam(ps)
    backward(ps, on)
    opt.zero_grad(set_to_none=False)
    assert all(np.all(on.host(p.grad) == 0) for p in ps)
    opt.zero_grad()
    assert all(p.grad is None for p in ps)


def test_step_closure_returns_loss(on):
    ps = params(on)
    opt = optim.SGD(ps, lr=0.001)

    def closure():
        opt.zero_grad()
        return backward(ps, on)

    first = opt.step(closure)
    assert math.isfinite(first) and opt.step(closure) < first


def test_param_groups_have_their_own_hyperparameters(on):
    W, b = params(on)
    opt = optim.SGD([{"params": [W], "lr": 0.5}, {"params": [b]}], lr=0.1, momentum=0.0)
    W.grad = on.tensor(np.ones_like(W0))
    b.grad = on.tensor(np.ones_like(B0))
    opt.step()
    np.testing.assert_allclose(on.host(W), W0 - 0.5)
    np.testing.assert_allclose(on.host(b), B0 - 0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.1]


def test_float32_parameters_stay_float32(on):
    p = cr.nn.Parameter(on.array(np.ones(3, dtype=np.float32)))
    for cls in (optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad):
        opt = cls([p], lr=0.1, weight_decay=0.1)
        p.grad = on.tensor(np.full(3, 0.5, dtype=np.float32))
        opt.step()
        assert p.dtype == np.float32 and on.host(p).dtype == np.float32
        assert all(on.host(v).dtype == np.float32 for st in opt.state.values()
                   for v in st.values() if hasattr(v, "shape"))


@pytest.mark.parametrize("make, message", [
    (lambda: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda: optim.SGD(params()[0], lr=0.1), "got a single Tensor"),
    (lambda: optim.SGD([np.zeros(2)], lr=0.1), "parameter 0 is a ndarray"),
    (lambda: optim.SGD(params(), lr=-1), "SGD: invalid lr=-1: must be a finite number >= 0"),
    (lambda: optim.SGD(params(), lr=0.1, nesterov=True), "nesterov momentum needs"),
    (lambda: optim.Adam(params(), betas=(0.9, 1.0)),
     r"Adam: invalid betas=\(0.9, 1.0\): betas\[1\] must be a finite number in \[0, 1\)"),
    (lambda: optim.SGD([{"params": params(), "lrr": 1}], lr=0.1), "unknown option.*lrr"),
    (lambda: optim.SGD([cr.tensor([1, 2])], lr=0.1), "only floating-point"),
    (lambda: optim.RMSprop(params(), alpha=-0.5), "RMSprop: invalid alpha=-0.5"),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_same_parameter_twice_is_refused():
    W, b = params()
    with pytest.raises(ValueError, match="more than one group"):
        optim.SGD([{"params": [W]}, {"params": [W, b]}], lr=0.1)
