"""Devices and the backend seam: mixing refused naming both devices, PyTorch's names
(.to, .cpu, .device), host copies only when asked, and CuPy where a GPU is present."""

import importlib.util

import numpy as np
import pytest

import chainrule as cr

xps = pytest.importorskip("array_api_strict")
DEV1 = xps.Device("device1")


def strict(values, device=DEV1):
    return cr.tensor(xps.asarray(values, device=device), requires_grad=True)


def test_two_fake_devices_never_mix():
    a, b = strict([1.0, 2.0]), strict([3.0, 4.0], device=xps.Device("CPU_DEVICE"))
    with pytest.raises(cr.backend.DeviceError, match="CPU_DEVICE.*device1|device1.*CPU_DEVICE"):
        a * b
    with pytest.raises(cr.backend.DeviceError, match=r"cpu \(numpy\)"):
        a + cr.tensor([1.0, 2.0])
    with pytest.raises(cr.backend.DeviceError, match="device1"):
        a + np.ones(2)  # a NumPy array is on the host: no silent copy


def test_numpy_on_a_device_tensor_asks_for_cpu():
    a = strict([1.0, 2.0])
    with pytest.raises(TypeError, match=r"call \.cpu\(\) first"):
        a.numpy()
    np.testing.assert_array_equal(a.cpu().numpy(), [1.0, 2.0])
    assert a.device == "array_api_strict:device1" and a.cpu().device == "cpu"
    assert a.sum().item() == 3.0
    assert "device='array_api_strict:device1'" in repr(a)


def test_to_records_the_move_and_gradients_come_back():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    y = x.to(DEV1)
    assert y.device == "array_api_strict:device1" and y.grad_fn.op.name == "to_device"
    (y * y).sum().backward()
    assert isinstance(x.grad.data, np.ndarray)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0])
    assert x.to("cpu") is x and x.cpu() is x


def test_what_device_says_is_a_device_to_move_to():
    a = strict([1.0, 2.0])
    for where in (a.device, a, DEV1):  # the string t.device gives, a tensor, the object
        b = cr.tensor([3.0, 4.0]).to(where)
        assert b.device == "array_api_strict:device1" and b.data.device == DEV1
        np.testing.assert_array_equal((a * b).cpu().numpy(), [3.0, 8.0])
    assert cr.tensor([1.0], device=a.device).device == a.device
    for bad, error in (("tpu", ValueError), ("array_api_strict:device9", ValueError),
                       (3, TypeError), (np.float32, TypeError)):
        with pytest.raises(error, match="unknown device"):
            cr.backend.move(np.zeros(1), bad)


def test_strict_results_equal_numpy():
    data = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]])
    w = np.array([[0.5, -0.2, 0.1]])
    out = {}
    for name, conv in (("numpy", lambda a: cr.tensor(a, requires_grad=True)),
                       ("strict", lambda a: strict(a))):
        x, ww = conv(data), conv(w)
        loss = (cr.tanh(x @ ww.T).sum() + cr.log_softmax(x, dim=1)[:, 1].sum()
                + x[np.array([0, 0, 1])].max())
        loss.backward()
        out[name] = [loss.cpu().item(), x.grad.cpu().numpy(), ww.grad.cpu().numpy()]
    assert out["numpy"][0] == pytest.approx(out["strict"][0], rel=1e-14)
    for a, b in zip(out["numpy"][1:], out["strict"][1:]):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_cuda_without_cupy_says_what_to_install():
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed here")
    with pytest.raises(ImportError, match=r'pip install "chainrule\[cuda\]"'):
        cr.tensor([1.0], device="cuda")


def _gpu():
    if importlib.util.find_spec("cupy") is None:
        pytest.skip("CuPy is not installed (pip install \"chainrule[cuda]\")")
    import cupy

    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"no CUDA GPU: {e}")
    return cupy


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cupy_indexing_backward_adds_repeats(dtype):
    cupy = _gpu()
    x = cr.tensor(np.arange(5.0, dtype=dtype), requires_grad=True, device="cuda")
    x[np.array([0, 2, 2, 4, 0])].sum().backward()
    assert isinstance(x.grad.data, cupy.ndarray)
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [2, 0, 2, 0, 1])


def test_cupy_op_table_matches_numpy():
    _gpu()
    data = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]])
    x = cr.tensor(data, requires_grad=True, device="cuda")
    (cr.tanh(x) * x).sum().backward()
    th = np.tanh(data)
    np.testing.assert_allclose(x.grad.cpu().numpy(), th + data * (1 - th**2))
