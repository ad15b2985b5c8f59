"""Optimizer state dicts (round trips through cr.save, errors) and learning-rate schedules."""

import math

import numpy as np
import pytest
from optim_problem import backward, params

import chainrule as cr
from chainrule import optim
from chainrule.nn import StateDictError
from chainrule.optim import lr_scheduler

ALL = [
    lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.05),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    lambda ps: optim.Adagrad(ps, lr=0.1),
]


def run(opt, ps, steps, on=None):
    for _ in range(steps):
        opt.zero_grad()
        backward(ps, on)
        opt.step()


def on_host(tree, on):
    """A state dict with every array copied to the host (what cr.save writes)."""
    if isinstance(tree, dict):
        return {k: on_host(v, on) for k, v in tree.items()}
    if isinstance(tree, list):
        return [on_host(v, on) for v in tree]
    return on.host(tree) if hasattr(tree, "shape") else tree


@pytest.mark.parametrize("make", ALL, ids=["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_resuming_from_a_saved_state_continues_exactly(make, tmp_path, on):
    ps = params(on)
    opt = make(ps)
    run(opt, ps, 5, on)
    # host copies, loaded back onto the parameters' device by load_state_dict
    ck = on_host({"params": [p.data for p in ps], "opt": opt.state_dict()}, on)
    cr.save(ck, tmp_path / "ck.npz")
    run(opt, ps, 5, on)  # the uninterrupted run

    saved = cr.load(tmp_path / "ck.npz")
    ps2 = [cr.nn.Parameter(on.array(a)) for a in saved["params"]]
    opt2 = make(ps2)
    opt2.load_state_dict(saved["opt"])
    for st in opt2.state.values():  # the buffers now live where the parameters do
        assert all(on.host(v) is not None for v in st.values() if hasattr(v, "shape"))
    run(opt2, ps2, 5, on)
    for p, q in zip(ps, ps2):
        np.testing.assert_array_equal(on.host(p), on.host(q))


def test_state_dict_is_a_copy_with_indices(on):
    ps = params(on)
    opt = optim.Adam(ps, lr=0.1)
    run(opt, ps, 2, on)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1]
    assert sd["state"][0]["step"] == 2 and set(sd["state"][0]) == {"step", "exp_avg",
                                                                   "exp_avg_sq"}
    before = on.host(sd["state"][0]["exp_avg"]).copy()  # (on device1 until then)
    run(opt, ps, 1, on)
    np.testing.assert_array_equal(on.host(sd["state"][0]["exp_avg"]), before)


def test_load_state_dict_restores_hyperparameters(on):
    ps = params(on)
    a = optim.SGD(ps, lr=0.5, momentum=0.9)
    b = optim.SGD(params(on), lr=0.1, momentum=0.9)
    b.load_state_dict(a.state_dict())
    assert b.param_groups[0]["lr"] == 0.5


@pytest.mark.parametrize("mutate, message", [
    (lambda sd: sd.pop("state"), r"expected a dict with 'state' \(a dict\) and 'param_groups'"),
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])),
     "2 parameter group"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), "group 0 has 1 parameters"),
    (lambda sd: sd["state"][0].update(exp_avg=np.zeros((5, 5))),
     r"buffer 'exp_avg' of parameter 0 has shape \(5, 5\).*\(3, 2\)"),
    (lambda sd: sd["state"][1].update(velocity=np.zeros(2)), "unknown buffer 'velocity'"),
    (lambda sd: sd["param_groups"][0].update(momentum=0.9), "another optimizer"),
])
def test_load_state_dict_errors_name_the_problem_and_change_nothing(mutate, message, on):
    ps = params(on)
    opt = optim.Adam(ps, lr=0.1)
    run(opt, ps, 1, on)
    sd = opt.state_dict()
    mutate(sd)
    other = optim.Adam(params(on), lr=0.3)
    run(other, other.param_groups[0]["params"], 1, on)
    before = other.state_dict()
    with pytest.raises(StateDictError, match=message):
        other.load_state_dict(sd)
    after = other.state_dict()
    assert after["param_groups"][0]["lr"] == 0.3
    np.testing.assert_array_equal(on.host(after["state"][0]["exp_avg"]),
                                  on.host(before["state"][0]["exp_avg"]))


def lrs(scheduler, n):
    out = []
    for _ in range(n):
        out.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    return out


def test_step_lr():
    opt = optim.SGD(params(), lr=1.0)
    got = lrs(lr_scheduler.StepLR(opt, step_size=3, gamma=0.5), 8)
    assert got == pytest.approx([1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])


def test_exponential_lr():
    opt = optim.Adam(params(), lr=0.2)
    got = lrs(lr_scheduler.ExponentialLR(opt, gamma=0.9), 5)
    assert got == pytest.approx([0.2 * 0.9**k for k in range(5)])


def test_cosine_annealing_lr():
    opt = optim.SGD(params(), lr=1.0)
    got = lrs(lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.1), 5)
    want = [0.1 + 0.9 * (1 + math.cos(math.pi * k / 4)) / 2 for k in range(5)]
    assert got == pytest.approx(want)
    assert got[-1] == pytest.approx(0.1)


def test_scheduler_changes_the_step_size(on):
    W, b = params(on)
    opt = optim.SGD([W], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
    sched.step()
    W.grad = on.tensor(np.ones(W.shape))
    before = on.host(W).copy()
    opt.step()
    np.testing.assert_allclose(before - on.host(W), 0.1)


def test_scheduler_state_dict_round_trip_and_errors():
    opt = optim.SGD(params(), lr=1.0)
    s = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    s.step()
    s.step()
    s2 = lr_scheduler.ExponentialLR(optim.SGD(params(), lr=1.0), gamma=0.5)
    s2.load_state_dict(s.state_dict())
    assert s2.last_epoch == 2
    s2.step()
    assert s2.get_last_lr() == pytest.approx([0.125])
    with pytest.raises(StateDictError, match="unknown entries"):
        s2.load_state_dict({"warmup": 3})
    with pytest.raises(ValueError, match="StepLR: invalid step_size=0: must be an integer >= 1"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(TypeError, match="needs an Optimizer"):
        lr_scheduler.StepLR([opt], step_size=2)
