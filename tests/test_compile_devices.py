"""cr.compile is NumPy-only: a tensor on another device (array_api_strict's fake
``device1`` stands in for a GPU), as an argument or in the step's state, is refused with
an error naming it, its device and what to do; nothing is traced, converted or changed."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.compiler import CompileError
from compile_helpers import same

xps = pytest.importorskip("array_api_strict")
DEV1 = xps.Device("device1")
F = cr.nn.functional
ADVICE = re.compile(r"array_api_strict:device1.*NumPy arrays only.*without cr\.compile.*"
                    r"\.cpu\(\)", re.S)


def to_device(arr):
    return xps.asarray(np.asarray(arr), device=DEV1)


def setup(seed=0):
    gen = np.random.default_rng(seed)
    model = cr.nn.Sequential(cr.nn.Linear(3, 4, generator=gen), cr.nn.Tanh(),
                             cr.nn.Linear(4, 1, generator=gen))
    opt = cr.optim.Adam(model.parameters(), lr=0.01)

    def step(x, t):
        opt.zero_grad()
        loss = F.mse_loss(model(x), t)
        loss.backward()
        opt.step()
        return loss

    return model, opt, step


def batch(seed=1):
    gen = np.random.default_rng(seed)
    return gen.standard_normal((5, 3)), gen.standard_normal((5, 1))


def params(model):
    return {k: p.cpu().numpy().copy() for k, p in model.named_parameters()}


def move_model(model):
    """Every parameter's data on device1 (in place, as ``Module.to`` does)."""
    for p in model.parameters():
        p.data = to_device(p.numpy())


@pytest.mark.parametrize("raw", [False, True], ids=["tensor", "array"])
def test_an_argument_on_a_device_is_refused_naming_it(raw):
    model, _, step = setup()
    before = params(model)
    x, t = batch()
    compiled = cr.compile(step)
    td = to_device(t) if raw else cr.tensor(to_device(t))
    with pytest.raises(CompileError, match=ADVICE) as info:
        compiled(cr.tensor(x), td)
    assert str(info.value).startswith("cr.compile: argument 1 (t) of step is on ")
    assert compiled.traces == 0 and compiled.cache == {}
    same(params(model), before)
    assert all(p.grad is None for p in model.parameters())


def test_the_name_of_a_star_argument():
    compiled = cr.compile(lambda *batch: batch[1] * 2)
    with pytest.raises(CompileError, match=r"argument 1 \(\*batch\[1\]\) of <lambda>"):
        compiled(cr.ones(2), cr.tensor(to_device([1.0, 2.0])))


def test_a_model_on_a_device_is_refused_naming_the_parameter():
    model, opt, step = setup()
    move_model(model)
    before = params(model)
    x, t = batch()
    xd, td = cr.tensor(to_device(x)), cr.tensor(to_device(t))
    compiled = cr.compile(step)
    with pytest.raises(CompileError, match=ADVICE) as info:
        compiled(cr.tensor(x), cr.tensor(t))  # the data on the CPU, the model not
    assert "the tensor model.0.weight, which the step uses, is on" in str(info.value)
    with pytest.raises(CompileError, match="argument 0 .x."):
        compiled(xd, td)  # both on the device: the arguments are named first
    assert compiled.cache == {}  # nothing kept to replay
    same(params(model), before)
    assert all(p.device == "array_api_strict:device1" and p.grad is None
               for p in model.parameters())
    # the advice holds: eagerly on the device, the loss and gradients are NumPy's
    loss = F.mse_loss(model(xd), td)
    loss.backward()
    ref_model, _, _ = setup()
    ref = F.mse_loss(ref_model(cr.tensor(x)), cr.tensor(t))
    ref.backward()
    np.testing.assert_allclose(loss.cpu().item(), ref.item(), rtol=1e-13)
    for p, q in zip(model.parameters(), ref_model.parameters()):
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.numpy(), rtol=1e-12,
                                   atol=1e-15)


def test_a_model_passed_as_an_argument_is_named_by_its_parameter():
    model, _, _ = setup()
    move_model(model)

    def forward(net, x):
        return net(x).sum()

    with pytest.raises(CompileError, match=r"^cr\.compile: the tensor net\.0\.weight, which"):
        cr.compile(forward)(model, cr.ones(2, 3))


def test_a_model_moved_after_the_trace_is_refused_not_replayed():
    model, _, step = setup()
    x, t = batch()
    compiled = cr.compile(step)
    for _ in range(3):  # the first call makes Adam's state: traced again, then replayed
        compiled(cr.tensor(x), cr.tensor(t))
    traces = compiled.traces
    compiled(cr.tensor(x), cr.tensor(t))
    assert compiled.traces == traces  # replayed
    move_model(model)
    before = params(model)
    with pytest.raises(CompileError, match=ADVICE):
        compiled(cr.tensor(x), cr.tensor(t))
    same(params(model), before)
    assert all(p.device == "array_api_strict:device1" for p in model.parameters())


def test_gradients_and_optimizer_state_on_a_device_are_named():
    model, opt, step = setup()
    x, t = batch()
    step(cr.tensor(x), cr.tensor(t))  # eager: the gradients and Adam's state exist
    w = model[0].weight
    w.grad = cr.tensor(to_device(w.grad.numpy()))
    with pytest.raises(CompileError, match=r"^cr\.compile: the gradient model\.0\.weight\.grad,"):
        cr.compile(step)(cr.tensor(x), cr.tensor(t))
    w.grad = None
    st = opt.state[next(iter(opt.state))]
    st["exp_avg"] = to_device(st["exp_avg"])
    with pytest.raises(CompileError, match=r"opt\.state\[\.\.\.\]\['exp_avg'\].*device1"):
        cr.compile(step)(cr.tensor(x), cr.tensor(t))


W_ON_DEVICE = None


def test_a_global_on_a_device_is_named():
    global W_ON_DEVICE
    W_ON_DEVICE = cr.tensor(to_device([1.0, 2.0]), requires_grad=True)

    def step(x):
        return (W_ON_DEVICE * x).sum()

    with pytest.raises(CompileError, match=r"^cr\.compile: the tensor W_ON_DEVICE, which"):
        cr.compile(step)(cr.ones(2))


def test_moving_to_a_device_inside_the_step_is_refused_at_its_line():
    model, _, _ = setup()
    before = params(model)

    def step(x):
        return model(x.to(DEV1)).sum()  # the line the error names

    with pytest.raises(CompileError, match=r"moving a tensor to .*device1.* at .*"
                       r"test_compile_devices\.py:\d+.*NumPy arrays only"):
        cr.compile(step)(cr.ones(2, 3))
    same(params(model), before)

    def to_host(x):  # .cpu() and .to("cpu") of NumPy data are no moves: traced as usual
        return (x.cpu().to("cpu") * 2).sum()

    compiled = cr.compile(to_host)
    for _ in range(2):
        assert compiled(cr.ones(3)).item() == 6.0
    assert compiled.traces == 1
