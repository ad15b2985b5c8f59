"""Optional: the same steps in PyTorch give the same parameters (skipped without torch)."""

import numpy as np
import pytest
from optim_problem import B0, W0, X, Y, backward, params

from chainrule import nn, optim

torch = pytest.importorskip("torch")

CASES = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
]


def torch_backward(W, b):
    R = torch.from_numpy(X) @ W + b - torch.from_numpy(Y)
    E = 0.5 * (R * R).sum() + 0.25 * (W**4).sum()
    E.backward()


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{sorted(k)}" for n, k in CASES])
def test_matches_torch_step_for_step(name, kwargs, on):
    ps = params(on)
    opt = getattr(optim, name)(ps, **kwargs)
    tw = [torch.tensor(W0.copy(), requires_grad=True), torch.tensor(B0.copy(), requires_grad=True)]
    topt = getattr(torch.optim, name)(tw, **kwargs)
    for step in range(30):
        opt.zero_grad()
        backward(ps, on)
        opt.step()
        topt.zero_grad()
        torch_backward(*tw)
        topt.step()
        for p, t in zip(ps, tw):
            np.testing.assert_allclose(on.host(p), t.detach().numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name} step {step}")


def test_schedulers_match_torch():
    from chainrule.optim import lr_scheduler

    def ours(cls, **k):
        opt = optim.SGD(params(), lr=0.5)
        s = getattr(lr_scheduler, cls)(opt, **k)
        out = []
        for _ in range(12):
            out.append(s.get_last_lr()[0])
            opt.step()
            s.step()
        return out

    def theirs(cls, **k):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
        s = getattr(torch.optim.lr_scheduler, cls)(opt, **k)
        out = []
        for _ in range(12):
            out.append(s.get_last_lr()[0])
            opt.step()
            s.step()
        return out

    for cls, k in [("StepLR", dict(step_size=4, gamma=0.3)), ("ExponentialLR", dict(gamma=0.8)),
                   ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01))]:
        np.testing.assert_allclose(ours(cls, **k), theirs(cls, **k), rtol=1e-12, err_msg=cls)


def test_linear_layer_layout_and_default_init_range_match_torch(on):
    lin = nn.Linear(5, 3, generator=np.random.default_rng(0), device=on.device)
    tl = torch.nn.Linear(5, 3).double()
    with torch.no_grad():
        tl.weight.copy_(torch.from_numpy(on.host(lin.weight)))
        tl.bias.copy_(torch.from_numpy(on.host(lin.bias)))
    x = np.random.default_rng(1).normal(size=(4, 5))
    np.testing.assert_allclose(on.host(lin(on.tensor(x))),
                               tl(torch.from_numpy(x)).detach().numpy(), rtol=1e-14)
    assert tuple(tl.weight.shape) == lin.weight.shape
