"""Modules on another device (array_api_strict's device1): Module.to keeps Parameter
identity, moves gradients, bumps versions; init on a device equals NumPy's bit for bit;
mixing a device model with host inputs is refused naming both devices."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel

xps = pytest.importorskip("array_api_strict")
DEV1 = xps.Device("device1")


def net(seed=0, **kw):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(3, 4, generator=rng, **kw), nn.Tanh(),
                         nn.Linear(4, 2, generator=rng, **kw))


def test_to_moves_parameters_and_grads_in_place_and_returns_self():
    m = net()
    m(cr.tensor(np.ones((2, 3)))).sum().backward()
    params = list(m.parameters())
    before = [(p.numpy().copy(), p.grad.numpy().copy(), p._version) for p in params]
    assert m.to(DEV1) is m
    for p, q, (data, grad, version) in zip(m.parameters(), params, before):
        assert p is q and p.requires_grad and p.is_leaf
        assert p.device == "array_api_strict:device1" and p.grad.device == p.device
        assert p._version == version + 1
        np.testing.assert_array_equal(p.cpu().numpy(), data)
        np.testing.assert_array_equal(p.grad.cpu().numpy(), grad)
    assert m.cpu() is m and all(p.device == "cpu" for p in m.parameters())
    assert all(isinstance(p.data, np.ndarray) for p in params)


def test_to_dtype_and_device_together_and_back():
    m = net()
    w = m[0].weight.numpy().copy()
    m.to(DEV1, np.float32)
    assert m[0].weight.dtype == np.float32 and m[0].weight.device.endswith("device1")
    m.double().cpu()
    assert m[0].weight.dtype == np.float64
    np.testing.assert_array_equal(m[0].weight.numpy(), w.astype(np.float32))
    assert m.to(dtype=np.float32).float() is m and m[2].bias.dtype == np.float32
    other = cr.tensor(xps.asarray([1.0], dtype=xps.float32, device=DEV1))
    m.to(other)  # a tensor's device and dtype, as Tensor.to reads it
    assert m[2].bias.device == other.device


def test_a_graph_made_before_the_move_refuses_to_backpropagate():
    m = net()
    out = m(cr.tensor(np.ones((2, 3)))).sum()
    m.to(DEV1)
    with pytest.raises(cr.BackwardError):
        out.backward()


def test_init_and_constructors_on_a_device_equal_numpy_bit_for_bit():
    a, b = net(5), net(5, device=DEV1)
    for p, q in zip(a.parameters(), b.parameters()):
        assert q.device == "array_api_strict:device1"
        np.testing.assert_array_equal(p.numpy(), q.cpu().numpy())
    for fn in (nn.init.xavier_normal_, nn.init.kaiming_uniform_, nn.init.uniform_):
        w = nn.Parameter(xps.zeros((7, 5), dtype=xps.float32, device=DEV1))
        fn(w, seed=3)
        ref = fn(nn.Parameter(np.zeros((7, 5), np.float32)), seed=3)
        assert w.dtype == np.float32 and w.device.endswith("device1")
        np.testing.assert_array_equal(w.cpu().numpy(), ref.numpy())


def test_mixing_a_device_model_and_host_input_names_both_devices():
    m = net(device=DEV1)
    with pytest.raises(cr.backend.DeviceError,
                       match=r"linear: .*cpu \(numpy\).*array_api_strict:device1"):
        m(cr.tensor(np.ones((2, 3))))
    y = m(cr.tensor(xps.ones((2, 3), dtype=xps.float64, device=DEV1)))
    with pytest.raises(cr.backend.DeviceError, match=r"array_api_strict:device1.*cpu \(numpy\)"):
        nn.functional.mse_loss(y, np.zeros((2, 2)))  # a host target: no silent copy
    two = xps.Device("CPU_DEVICE")
    with pytest.raises(cr.backend.DeviceError, match="CPU_DEVICE and array_api_strict:device1"):
        m(cr.tensor(xps.ones((2, 3), dtype=xps.float64, device=two)))


def test_state_dict_stays_on_the_device_and_loads_across_devices():
    a, b = net(0, device=DEV1), net(1)
    sd = a.state_dict()
    assert all(v.device == "array_api_strict:device1" for v in sd.values())
    data = b[0].weight.data
    b.load_state_dict(sd)  # device values copied into the host parameters, in place
    assert b[0].weight.data is data
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.cpu().numpy(), q.numpy())


def test_distributed_data_parallel_refuses_a_device_model_saying_what_to_do():
    with pytest.raises(cr.backend.DeviceError,
                       match=r"parameter '0.weight' is on array_api_strict:device1.*\.cpu\(\)"):
        DistributedDataParallel(net(device=DEV1))
