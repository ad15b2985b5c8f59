"""Optimizers on another device (array_api_strict's device1): the same steps as NumPy's to
the last bit, state made on the parameters' device and following them when Module.to moves
them, state dicts loaded across devices, a gradient on another device refused."""

import numpy as np
import pytest
from test_optim_rules import CASES

import chainrule as cr
from chainrule import nn, optim

xps = pytest.importorskip("array_api_strict")
DEV1 = xps.Device("device1")
X = np.random.default_rng(3).normal(size=(6, 3))
T = np.array([0, 1, 1, 0, 1, 0])


def model(dtype=np.float64):
    rng = np.random.default_rng(0)
    return nn.Sequential(nn.Linear(3, 5, generator=rng, dtype=dtype), nn.Tanh(),
                         nn.Linear(5, 2, generator=rng, dtype=dtype))


def train(m, opt, x, t, steps=3):
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(m(x), t).backward()
        opt.step()


def state_arrays(opt):
    return [v for st in opt.state.values() for v in st.values() if hasattr(v, "shape")]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls, kwargs, _", CASES,
                         ids=[f"{c.__name__}-{sorted(k)}" for c, k, _ in CASES])
def test_three_steps_on_device1_equal_numpy_to_the_last_bit(cls, kwargs, _, dtype):
    host, dev = model(dtype), model(dtype).to(DEV1)
    oh, od = cls(host.parameters(), **kwargs), cls(dev.parameters(), **kwargs)
    train(host, oh, cr.tensor(X.astype(dtype)), T)
    train(dev, od, cr.tensor(X.astype(dtype), device=DEV1), xps.asarray(T, device=DEV1))
    for p, q in zip(host.parameters(), dev.parameters()):
        assert q.device == "array_api_strict:device1" and q.dtype == dtype
        np.testing.assert_array_equal(q.cpu().numpy(), p.numpy())  # to the last bit
    arrays = state_arrays(od)
    assert arrays and all(type(a).__module__.startswith("array_api_strict")
                          and a.device == DEV1 for a in arrays)
    for a, b in zip(state_arrays(oh), arrays):
        np.testing.assert_array_equal(b.to_device(xps.Device("CPU_DEVICE")), a)


@pytest.mark.parametrize("make", [lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
                                  lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: optim.RMSprop(ps, momentum=0.5, centered=True)],
                         ids=["adam", "sgd", "rmsprop"])
def test_state_follows_its_parameters_when_the_model_moves(make):
    ref, m = model(), model()
    oref, opt = make(ref.parameters()), make(m.parameters())
    x, xd, td = cr.tensor(X), cr.tensor(X, device=DEV1), xps.asarray(T, device=DEV1)
    train(ref, oref, x, T, 2)
    train(m, opt, x, T, 2)  # state made on the host
    m.to(DEV1)  # the optimizer still holds the same Parameter objects
    train(ref, oref, x, T, 2)
    train(m, opt, xd, td, 2)
    assert all(a.device == DEV1 for a in state_arrays(opt))
    m.cpu()
    train(ref, oref, x, T, 1)
    train(m, opt, x, T, 1)
    assert all(isinstance(a, np.ndarray) for a in state_arrays(opt))
    for p, q in zip(ref.parameters(), m.parameters()):
        np.testing.assert_array_equal(q.numpy(), p.numpy())


def test_state_dict_saved_on_device_loads_on_host_and_back():
    dev, host = model().to(DEV1), model()
    od = optim.Adam(dev.parameters(), lr=0.05)
    train(dev, od, cr.tensor(X, device=DEV1), xps.asarray(T, device=DEV1))
    sd = od.state_dict()
    assert all(a.device == DEV1 for st in sd["state"].values() for k, a in st.items()
               if k != "step")
    oh = optim.Adam(host.parameters(), lr=0.01)
    host.load_state_dict(dev.state_dict())
    oh.load_state_dict(sd)  # device buffers onto the host parameters
    assert all(isinstance(a, np.ndarray) for a in state_arrays(oh))
    back = model().to(DEV1)
    ob = optim.Adam(back.parameters())
    back.load_state_dict(host.state_dict())
    ob.load_state_dict(oh.state_dict())  # host buffers onto the device parameters
    assert all(a.device == DEV1 for a in state_arrays(ob))
    train(dev, od, cr.tensor(X, device=DEV1), xps.asarray(T, device=DEV1), 2)
    train(host, oh, cr.tensor(X), T, 2)
    train(back, ob, cr.tensor(X, device=DEV1), xps.asarray(T, device=DEV1), 2)
    for p, q, r in zip(dev.parameters(), host.parameters(), back.parameters()):
        np.testing.assert_array_equal(p.cpu().numpy(), q.numpy())
        np.testing.assert_array_equal(r.cpu().numpy(), q.numpy())


def test_a_gradient_on_another_device_is_refused_naming_both():
    p = nn.Parameter(xps.asarray([1.0, 2.0], device=DEV1))
    p.grad = cr.tensor([0.5, 0.5])
    with pytest.raises(cr.backend.DeviceError,
                       match=r"SGD.step.*array_api_strict:device1.*cpu \(numpy\)"):
        optim.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.cpu().numpy(), [1.0, 2.0])
