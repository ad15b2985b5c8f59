"""Hyper-parameter checks: one table per optimizer (and schedule), applied by the
constructor, add_param_group and load_state_dict alike; PyTorch's ranges, and never NaN
or an infinity."""

import math

import numpy as np
import pytest
from optim_problem import backward, params

import chainrule as cr
from chainrule import optim
from chainrule.errors import StateDictError
from chainrule.optim import lr_scheduler
from chainrule.optim.options import Flag

OPTIMIZERS = [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad]
PROBES = [-1.0, -1e-12, 0.0, 1e-12, 0.5, 0.999, 1.0, 1.5, 1e6]
NONFINITE = [math.nan, math.inf, -math.inf]


def numeric_options(cls):
    """(option, index) for every number an optimizer takes; index for Adam's betas."""
    out = []
    for name, value in cls(params()).defaults.items():
        if isinstance(value, tuple):
            out += [(name, i) for i in range(len(value))]
        elif not isinstance(cls.OPTIONS[name], Flag):
            out.append((name, None))
    return out


def with_value(cls, name, index, value):
    """The constructor's keyword arguments with one number replaced."""
    if index is None:
        return {name: value}
    pair = list(cls(params()).defaults[name])
    pair[index] = value
    return {name: tuple(pair)}


CASES = [(cls, name, index) for cls in OPTIMIZERS for name, index in numeric_options(cls)]
IDS = [f"{c.__name__}-{n}{'' if i is None else f'[{i}]'}" for c, n, i in CASES]


def accepted(make, *args, **kwargs):
    try:
        make(*args, **kwargs)
    except ValueError:
        return False
    return True


def entry_points(cls, kwargs):
    """Whether the constructor, add_param_group and load_state_dict take ``kwargs``."""
    def construct():
        cls(params(), **kwargs)

    def add_group():
        opt = cls([params()[0]])
        opt.add_param_group({"params": [params()[1]], **kwargs})

    def load():
        ps = params()
        opt = cls(ps)
        opt.zero_grad()
        backward(ps)
        opt.step()
        sd = opt.state_dict()
        sd["param_groups"][0].update(kwargs)
        cls(params()).load_state_dict(sd)

    return [accepted(f) for f in (construct, add_group, load)]


def test_every_option_of_every_optimizer_has_a_rule():
    for cls in OPTIMIZERS:
        defaults = cls(params()).defaults
        assert set(defaults) <= set(cls.OPTIONS), cls.__name__
        assert "initial_lr" in cls.OPTIONS  # what schedulers add to groups
    assert len(CASES) == 4 + 5 + 5 + 5 + 5  # SGD, Adam, AdamW, RMSprop, Adagrad numbers


@pytest.mark.parametrize("cls, name, index", CASES, ids=IDS)
def test_nan_and_infinities_are_refused_at_every_entry_point(cls, name, index):
    label = "" if index is None else f"{name}\\[{index}\\] "
    for value in NONFINITE:
        kwargs = with_value(cls, name, index, value)
        assert entry_points(cls, kwargs) == [False, False, False], (name, value)
        shown = f"{name}={kwargs[name]!r}".replace("(", r"\(").replace(")", r"\)")
        with pytest.raises(ValueError, match=rf"^{cls.__name__}: invalid {shown}: {label}must be a "
                                             "finite number"):
            cls(params(), **kwargs)
        opt = cls([params()[0]])
        with pytest.raises(ValueError, match=rf"^{cls.__name__}: parameter group 1: invalid "
                                             rf"{shown}"):
            opt.add_param_group({"params": params()[1:], **kwargs})
        assert len(opt.param_groups) == 1


@pytest.mark.parametrize("cls, name, index", CASES, ids=IDS)
def test_the_three_entry_points_agree(cls, name, index):
    for value in PROBES:
        answers = entry_points(cls, with_value(cls, name, index, value))
        assert len(set(answers)) == 1, (name, value, answers)


@pytest.mark.parametrize("cls, name, index", CASES, ids=IDS)
def test_finite_values_accepted_exactly_as_pytorch_accepts_them(cls, name, index):
    torch = pytest.importorskip("torch")
    tcls = getattr(torch.optim, cls.__name__)
    for value in PROBES:
        kwargs = with_value(cls, name, index, value)
        theirs = accepted(tcls, [torch.zeros(1, requires_grad=True)], **kwargs)
        ours = accepted(cls, params(), **kwargs)
        assert ours == theirs, (cls.__name__, name, index, value, theirs)


@pytest.mark.parametrize("kwargs", [
    dict(momentum=0.9, nesterov=True), dict(momentum=0.0, nesterov=True),
    dict(momentum=0.9, dampening=0.1, nesterov=True), dict(momentum=0.9, dampening=-3.0),
])
def test_sgd_nesterov_combinations_as_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    theirs = accepted(torch.optim.SGD, [torch.zeros(1, requires_grad=True)], **kwargs)
    assert entry_points(optim.SGD, kwargs) == [theirs] * 3


def test_adam_with_nan_lr_is_refused_before_any_step():
    ps = params()
    before = [p.data.copy() for p in ps]
    with pytest.raises(ValueError, match="Adam: invalid lr=nan: must be a finite number >= 0"):
        optim.Adam(ps, lr=float("nan"))
    for p, b in zip(ps, before):
        np.testing.assert_array_equal(p.data, b)


@pytest.mark.parametrize("value", ["0.1", None, [0.1], True, 1 + 0j, 10**400, np.float64("nan")])
def test_values_that_are_not_finite_numbers_are_refused(value):
    with pytest.raises(ValueError, match=rf"SGD: invalid lr={value!r}".replace("[", r"\[")
                       .replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        optim.SGD(params(), lr=value)


def test_numbers_of_other_types_are_kept_and_flags_become_bools():
    opt = optim.Adam(params(), lr=np.float32(0.5), betas=[0.8, np.float64(0.9)], amsgrad=1)
    g = opt.param_groups[0]
    assert g["lr"] == np.float32(0.5) and g["betas"] == (0.8, 0.9) and g["amsgrad"] is True
    for flag in ["yes", 2, None, 0.5]:
        with pytest.raises(ValueError, match="invalid amsgrad=.*must be True or False"):
            optim.Adam(params(), amsgrad=flag)
    for betas in [0.9, (0.9,), (0.9, 0.99, 0.999), "ab"]:
        with pytest.raises(ValueError, match="invalid betas=.*must be 2 values"):
            optim.Adam(params(), betas=betas)


def saved_state(opt_cls=optim.Adam, on=None, **kwargs):
    ps = params(on)
    opt = opt_cls(ps, **kwargs)
    for _ in range(2):
        opt.zero_grad()
        backward(ps, on)
        opt.step()
    return opt.state_dict()


@pytest.mark.parametrize("mutate, message", [
    (lambda sd: sd["param_groups"][0].update(lr=-1),
     r"^Adam.load_state_dict: parameter group 0: invalid lr=-1: must be a finite number >= 0"),
    (lambda sd: sd["param_groups"][0].update(eps=float("inf")), "group 0: invalid eps=inf"),
    (lambda sd: sd["param_groups"][0].update(betas=(0.9, float("nan"))),
     r"invalid betas=\(0.9, nan\): betas\[1\]"),
    (lambda sd: sd["param_groups"][0].update(initial_lr=float("nan")), "invalid initial_lr=nan"),
    (lambda sd: sd["param_groups"][0].update(amsgrad="no"), "invalid amsgrad='no'"),
    (lambda sd: sd["param_groups"][0].update(params=[0, "x"]), "'params' list of indices"),
    (lambda sd: sd["param_groups"].__setitem__(0, 3), "group 0 is not a dict"),
    (lambda sd: sd.__setitem__("state", [1]), "'state' \\(a dict\\)"),
    (lambda sd: sd["state"][0].update(step=-1), "parameter 0: invalid step=-1: must be an "
                                                "integer >= 0"),
    (lambda sd: sd["state"][1].update(step=2.5), "parameter 1: invalid step=2.5"),
    (lambda sd: sd["state"][0].update(exp_avg=np.array(["a"] * 6).reshape(3, 2)),
     "buffer 'exp_avg' of parameter 0 has dtype <U1, expected numbers"),
    (lambda sd: sd["state"][0].update(exp_avg=[[1.0], [2.0, 3.0]]), "expected numbers"),
    (lambda sd: sd["state"][0].update(exp_avg=0.5), r"has shape \(\), but .* \(3, 2\)"),
    (lambda sd: sd["state"].__setitem__(0, [1.0]), "the state of parameter 0 is not a dict"),
    (lambda sd: sd["state"][0].__setitem__(3, 1.0), "unknown buffer 3"),
])
def test_loaded_values_are_checked_and_nothing_changes(mutate, message, on):
    sd = saved_state(on=on)
    mutate(sd)
    ps = params(on)
    opt = optim.Adam(ps, lr=0.3)
    opt.zero_grad()
    backward(ps, on)
    opt.step()
    before = opt.state_dict()
    with pytest.raises(StateDictError, match=message):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert after["state"][0]["step"] == before["state"][0]["step"] == 1
    np.testing.assert_array_equal(on.host(after["state"][0]["exp_avg"]),
                                  on.host(before["state"][0]["exp_avg"]))


def test_a_crafted_checkpoint_with_negative_lr_is_refused(tmp_path):
    sd = saved_state(optim.SGD, lr=0.1, momentum=0.9)
    sd["param_groups"][0]["lr"] = -1.0
    cr.save(sd, tmp_path / "opt.npz")
    opt = optim.SGD(params(), lr=0.1, momentum=0.9)
    with pytest.raises(StateDictError, match="SGD.load_state_dict: parameter group 0: "
                                             "invalid lr=-1.0"):
        opt.load_state_dict(cr.load(tmp_path / "opt.npz"))
    assert opt.param_groups[0]["lr"] == 0.1
    sd["param_groups"][0]["lr"] = 0.05  # the same file with a good value loads
    cr.save(sd, tmp_path / "opt.npz")
    opt.load_state_dict(cr.load(tmp_path / "opt.npz"))
    assert opt.param_groups[0]["lr"] == 0.05 and opt.state[opt.param_groups[0]["params"][0]]


# ---------------------------------------------------------------- schedules

SCHEDULES = [
    (lr_scheduler.StepLR, dict(step_size=2, gamma=0.5)),
    (lr_scheduler.ExponentialLR, dict(gamma=0.9)),
    (lr_scheduler.CosineAnnealingLR, dict(T_max=5, eta_min=0.01)),
]


@pytest.mark.parametrize("cls, kwargs", SCHEDULES, ids=lambda c: getattr(c, "__name__", ""))
def test_schedule_options_refuse_nan_and_infinities(cls, kwargs):
    for name in [*kwargs, "last_epoch"]:
        for value in NONFINITE:
            opt = optim.SGD(params(), lr=1.0)
            with pytest.raises(ValueError, match=f"^{cls.__name__}: invalid {name}={value}"):
                cls(opt, **{**kwargs, name: value})
            assert "initial_lr" not in opt.param_groups[0]  # refused before touching it
            s = cls(optim.SGD(params(), lr=1.0), **kwargs)
            with pytest.raises(StateDictError, match=f"^{cls.__name__}.load_state_dict: "
                                                     f"invalid {name}={value}"):
                s.load_state_dict({**s.state_dict(), name: value})
            assert getattr(s, name) == kwargs.get(name, 0)


@pytest.mark.parametrize("make, message", [
    (lambda o: lr_scheduler.StepLR(o, step_size=1.5), "step_size=1.5: must be an integer >= 1"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2, last_epoch=-2), "last_epoch=-2"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2, gamma="0.1"), "gamma='0.1'"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), "T_max=0: must be a finite number > 0"),
])
def test_schedule_options_out_of_range(make, message):
    with pytest.raises(ValueError, match=message):
        make(optim.SGD(params(), lr=1.0))


def test_schedule_state_checks_its_learning_rates():
    s = lr_scheduler.ExponentialLR(optim.SGD(params(), lr=1.0), gamma=0.5)
    with pytest.raises(StateDictError, match=r"invalid base_lrs=\[-1.0\]: base_lrs\[0\]"):
        s.load_state_dict({**s.state_dict(), "base_lrs": [-1.0]})
    with pytest.raises(StateDictError, match=r"2 base learning rate\(s\) for 1 parameter group"):
        s.load_state_dict({**s.state_dict(), "base_lrs": [1.0, 1.0]})
    with pytest.raises(StateDictError, match="expected a dict"):
        s.load_state_dict([1])
    assert s.base_lrs == [1.0] and s.last_epoch == 0
    s.load_state_dict({**s.state_dict(), "last_epoch": np.int64(3)})  # as cr.load returns
    assert s.last_epoch == 3 and type(s.last_epoch) is int


def test_state_dict_error_is_one_class_under_its_public_names():
    import chainrule.nn.module

    assert cr.nn.StateDictError is chainrule.nn.module.StateDictError is StateDictError
    assert issubclass(StateDictError, (cr.ChainruleError, ValueError))
    with pytest.raises(cr.nn.StateDictError):  # what user code catches today
        optim.SGD(params(), lr=0.1).load_state_dict({})


def test_a_users_optimizer_keeps_its_own_options_and_gets_the_lr_rule():
    class Halving(optim.Optimizer):
        def __init__(self, params, lr=0.1, factor=0.5):
            super().__init__(params, dict(lr=lr, factor=factor))

        def _update(self, w, g, state, group):
            w -= group["lr"] * group["factor"] * g

    opt = Halving(params(), factor=0.25)
    sd = opt.state_dict()
    Halving(params()).load_state_dict(sd)  # its own option loads
    with pytest.raises(ValueError, match="Halving: invalid lr=nan"):
        Halving(params(), lr=float("nan"))
    sd["param_groups"][0]["lr"] = -1.0
    with pytest.raises(StateDictError, match="Halving.load_state_dict: parameter group 0: "
                                             "invalid lr=-1.0"):
        Halving(params()).load_state_dict(sd)
