"""Differential fuzz of cr.compile: random training-step programs run eagerly and compiled
over several calls; losses, parameters, gradients and optimizer state must be bitwise equal
after every call, or the compile must refuse at trace time (CompileError). Programs with a
Python branch on data must be refused. The counts are printed at the end (``-s``)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.compiler import CompileError
from compile_helpers import same, snapshot

F = cr.nn.functional
COUNTS = {"programs": 0, "refused": 0, "of them with a branch on data": 0,
          "silent differences": 0, "compiled calls": 0, "of them replayed": 0}
OTHER_REFUSALS = []

OPTIMIZERS = {
    "sgd": lambda p: cr.optim.SGD(p, lr=0.05),
    "sgd-momentum": lambda p: cr.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1,
                                           weight_decay=1e-3),
    "sgd-nesterov": lambda p: cr.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    "adam": lambda p: cr.optim.Adam(p, lr=0.01, weight_decay=1e-3),
    "adam-amsgrad": lambda p: cr.optim.Adam(p, lr=0.01, amsgrad=True, betas=(0.8, 0.9)),
    "adamw": lambda p: cr.optim.AdamW(p, lr=0.01),
    "rmsprop": lambda p: cr.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "rmsprop-plain": lambda p: cr.optim.RMSprop(p, lr=0.01, weight_decay=1e-3),
    "adagrad": lambda p: cr.optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=1e-3),
    "manual": None,
}
SCHEDULERS = {
    "none": None,
    "step": lambda o: cr.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    "exp": lambda o: cr.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
    "cosine": lambda o: cr.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5),
}

program = st.fixed_dictionaries({
    "dtype": st.sampled_from([np.float32, np.float64]),
    "model": st.sampled_from(["sequential", "raw"]),
    "act": st.sampled_from(["tanh", "relu", "sigmoid"]),
    "inputs": st.sampled_from(["numpy", "tensor", "tensor-inside"]),
    "loss": st.sampled_from(["mse", "half-sum", "ce", "bce"]),
    "opt": st.sampled_from(sorted(OPTIMIZERS)),
    "zero": st.sampled_from(["opt", "model", "set-none", "zero_", "none"]),
    "clip": st.sampled_from(["none", "norm", "norm-inf", "value"]),
    "sched": st.sampled_from(sorted(SCHEDULERS)),
    "sched_inside": st.booleans(),
    "retain": st.booleans(),
    "seed": st.booleans(),
    "mask": st.booleans(),
    "noise": st.booleans(),
    "rows": st.lists(st.sampled_from([3, 5, 5]), min_size=4, max_size=7),
    "branch": st.sampled_from([None] * 9 + ["data", "item", "bool-loss"]),
})


def _make(p):
    dtype = p["dtype"]
    gen = np.random.default_rng(0)
    n_out = 3 if p["loss"] == "ce" else 2
    if p["model"] == "sequential":
        act = {"tanh": cr.nn.Tanh, "relu": cr.nn.ReLU, "sigmoid": cr.nn.Sigmoid}[p["act"]]
        model = cr.nn.Sequential(cr.nn.Linear(4, 6, dtype=dtype, generator=gen), act(),
                                 cr.nn.Linear(6, n_out, dtype=dtype, generator=gen))
        params = list(model.parameters())
        hidden_of = None
    else:
        W1 = cr.tensor(gen.normal(size=(4, 6)).astype(dtype) * 0.5, requires_grad=True)
        b1 = cr.tensor(np.zeros(6, dtype=dtype), requires_grad=True)
        W2 = cr.tensor(gen.normal(size=(6, n_out)).astype(dtype) * 0.5, requires_grad=True)
        params = [W1, b1, W2]
        model = None
    make_opt = OPTIMIZERS[p["opt"]]
    opt = make_opt(params) if make_opt is not None else None
    sched = None
    if opt is not None and SCHEDULERS[p["sched"]] is not None:
        sched = SCHEDULERS[p["sched"]](opt)
    lr = 0.05
    act_fn = {"tanh": cr.tanh, "relu": cr.relu, "sigmoid": cr.sigmoid}[p["act"]]

    def forward(x):
        nonlocal hidden_of
        if model is not None:
            h = model[1](model[0](x))
            return model[2](h), h
        h = act_fn(x @ params[0] + params[1])
        return h @ params[2], h

    def step(x, t, noise, seed):
        if p["zero"] == "opt" and opt is not None:
            opt.zero_grad()
        elif p["zero"] == "model" and model is not None:
            model.zero_grad()
        elif p["zero"] == "set-none":
            for q in params:
                q.grad = None
        elif p["zero"] == "zero_":
            for q in params:
                if q.grad is not None:
                    q.grad.zero_()
        if p["inputs"] == "tensor-inside":
            x = cr.tensor(x)
        if p["noise"]:
            x = x + noise
        y, h = forward(x)
        if p["retain"]:
            h.retain_grad()
        if p["mask"]:
            y = cr.where(x[:, :1] > 0, y, y * 0.5)
        if p["loss"] == "mse":
            loss = F.mse_loss(y, t)
        elif p["loss"] == "half-sum":
            loss = 0.5 * ((y - t) ** 2).sum()
        elif p["loss"] == "ce":
            loss = F.cross_entropy(y, t)
        else:
            loss = F.binary_cross_entropy_with_logits(y, t)
        if p["branch"] == "data" and (loss.data > 1).all():
            loss = loss * 2
        elif p["branch"] == "item" and loss.item() > 1:
            loss = loss * 2
        elif p["branch"] == "bool-loss" and loss > 1:
            loss = loss * 2
        if p["seed"]:
            loss.backward(seed)
        else:
            loss.backward()
        if p["clip"] == "norm":
            cr.nn.utils.clip_grad_norm_(params, 1.0)
        elif p["clip"] == "norm-inf":
            cr.nn.utils.clip_grad_norm_(params, 0.5, norm_type=float("inf"))
        elif p["clip"] == "value":
            cr.nn.utils.clip_grad_value_(params, 0.2)
        if opt is not None:
            opt.step()
            if sched is not None and p["sched_inside"]:
                sched.step()
        else:
            with cr.no_grad():
                for q in params:
                    q.sub_(lr * q.grad)
        if p["retain"]:
            return loss, h.grad
        return loss

    def state():
        snap = snapshot(params, opt)
        if sched is not None:
            snap["epoch"] = sched.last_epoch
        return snap

    return step, state, sched


def _calls(p):
    gen = np.random.default_rng(1)
    out = []
    for rows in p["rows"]:
        x = gen.normal(size=(rows, 4)).astype(p["dtype"])
        if p["loss"] == "ce":
            t = gen.integers(0, 3, rows)
        elif p["loss"] == "bce":
            t = (gen.random((rows, 2)) > 0.5).astype(p["dtype"])
        else:
            t = gen.normal(size=(rows, 2)).astype(p["dtype"])
        noise = (gen.normal(size=(rows, 4)) * 0.1).astype(p["dtype"])
        seed = np.asarray(gen.uniform(0.5, 2.0), dtype=p["dtype"])
        if p["inputs"] == "tensor":
            x, t = cr.tensor(x), cr.tensor(t)
        out.append((x, cr.tensor(t) if p["loss"] == "ce" else t, cr.tensor(noise),
                    cr.tensor(seed)))
    return out


@pytest.fixture(scope="module", autouse=True)
def _summary():
    yield
    print("\ncr.compile differential fuzz: " + ", ".join(f"{k} {v}" for k, v in COUNTS.items()))
    for msg in sorted(set(OTHER_REFUSALS)):
        print("  refused:", msg)


@settings(max_examples=250, deadline=2000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(program)
def test_compiled_step_equals_eager_or_is_refused(p):
    COUNTS["programs"] += 1
    eager, state_e, sched_e = _make(p)
    step, state_c, sched_c = _make(p)
    compiled = cr.compile(step)
    for k, args in enumerate(_calls(p)):
        try:
            out_e = eager(*args)
        except CompileError:  # pragma: no cover (eager never raises it)
            raise
        try:
            out_c = compiled(*args)
        except CompileError as e:
            COUNTS["refused"] += 1
            if p["branch"] is not None:
                COUNTS["of them with a branch on data"] += 1
            else:
                OTHER_REFUSALS.append(str(e)[:300])
            assert k == 0 or p["branch"] is not None, "refused after replaying"
            return
        COUNTS["compiled calls"] += 1
        try:
            same(out_e, out_c, f"call {k}: result")
            same(state_e(), state_c(), f"call {k}: state")
        except AssertionError:
            COUNTS["silent differences"] += 1
            raise
        if sched_e is not None and not p["sched_inside"]:
            sched_e.step()
            sched_c.step()
    COUNTS["of them replayed"] += len(p["rows"]) - compiled.traces
    assert p["branch"] is None, "a branch on data was not refused"
