"""cr.save / cr.load of tensors on another device: host copies, the same file as from NumPy,
and ``map_location`` like ``torch.load``'s (array_api_strict's fake ``device1`` stands in
for a GPU: any hidden conversion of its arrays to NumPy raises)."""

import importlib.util
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import Backend

xps = pytest.importorskip("array_api_strict")
DEV1 = xps.Device("device1")
HAS_SAFETENSORS = importlib.util.find_spec("safetensors") is not None
FORMATS = [
    "npz",
    pytest.param("safetensors",
                 marks=pytest.mark.skipif(not HAS_SAFETENSORS, reason="needs the files extra")),
]


def host_state():
    """A checkpoint's values, as NumPy arrays: float32/float64/int64/bool, 0-d, empty."""
    rng = np.random.default_rng(3)
    return {
        "model": {"0.weight": rng.standard_normal((3, 2)).astype(np.float32),
                  "0.bias": rng.standard_normal(3),
                  "mask": np.array([True, False, True])},
        "optimizer": {"state": {0: {"step": 4, "exp_avg": rng.standard_normal((3, 2)),
                                    "count": np.arange(6, dtype=np.int64).reshape(2, 3)},
                                1: {"m": np.array(0.25)}},
                      "param_groups": [{"lr": 0.01, "params": [0, 1]}]},
        "empty": np.zeros((0, 2), dtype=np.float32),
        "epoch": np.int64(7),
    }


def on_device(obj, tensors=True):
    """``obj`` with every array made anew on device1 (Tensors, or raw arrays for the
    optimizer's state), from the NumPy values (not through chainrule's own move)."""
    if isinstance(obj, np.ndarray):
        a = xps.asarray(obj, device=DEV1)
        return cr.tensor(a) if tensors else a
    if isinstance(obj, dict):
        return {k: on_device(v, tensors and k != "optimizer") for k, v in obj.items()}
    if isinstance(obj, list):
        return [on_device(v, tensors) for v in obj]
    return obj


def assert_loaded(loaded, saved, device=None):
    """Loaded arrays are Tensors on ``device`` (None: NumPy) with the saved values and
    dtype, without gradient; NumPy scalars and plain values come back as saved."""
    if isinstance(saved, np.ndarray):
        assert isinstance(loaded, cr.Tensor)
        assert not loaded.requires_grad and loaded.grad is None
        if device is None:
            assert type(loaded.data) is np.ndarray and loaded.device == "cpu"
            host = loaded.numpy()
        else:
            assert type(loaded.data) is type(xps.asarray(0.0))
            assert loaded.data.device == DEV1 and loaded.device == device
            host = loaded.cpu().numpy()
        assert loaded.dtype == saved.dtype and host.dtype == saved.dtype
        assert host.shape == saved.shape
        np.testing.assert_array_equal(host, saved)
    elif isinstance(saved, dict):
        assert list(loaded) == list(saved)
        for k in saved:
            assert_loaded(loaded[k], saved[k], device)
    elif isinstance(saved, list):
        assert type(loaded) is list and len(loaded) == len(saved)
        for a, b in zip(loaded, saved):
            assert_loaded(a, b, device)
    else:
        assert type(loaded) is type(saved) and loaded == saved


@pytest.mark.parametrize("fmt", FORMATS)
def test_device_tensors_save_the_file_numpy_values_give(tmp_path, fmt):
    values = host_state()
    cr.save(values, tmp_path / f"host.{fmt}")
    cr.save(on_device(values), tmp_path / f"device.{fmt}")
    assert (tmp_path / f"device.{fmt}").read_bytes() == (tmp_path / f"host.{fmt}").read_bytes()
    assert sorted(os.listdir(tmp_path)) == [f"device.{fmt}", f"host.{fmt}"]  # no temp file


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_loads_to_the_cpu_by_default(tmp_path, fmt):
    values = host_state()
    path = tmp_path / f"ckpt.{fmt}"
    cr.save(on_device(values), path)
    assert_loaded(cr.load(path), values)
    assert_loaded(cr.load(path, map_location="cpu"), values)


@pytest.mark.parametrize("where", [DEV1, "array_api_strict:device1"], ids=["object", "str"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_map_location_puts_every_tensor_on_the_device(tmp_path, fmt, where):
    values = host_state()
    path = tmp_path / f"ckpt.{fmt}"
    cr.save(values, path)  # a CPU checkpoint, loaded to the device
    assert_loaded(cr.load(path, map_location=where), values, device="array_api_strict:device1")
    cr.save(on_device(values), path)  # and a device one, back to the device
    assert_loaded(cr.load(path, map_location=where), values, device="array_api_strict:device1")


def test_gradients_are_not_saved(tmp_path):
    w = cr.tensor(xps.asarray([[1.0, -2.0]], device=DEV1), requires_grad=True)
    (w * w).sum().backward()
    assert w.grad is not None
    cr.save({"w": w}, tmp_path / "with_grad.npz")
    cr.save({"w": np.array([[1.0, -2.0]])}, tmp_path / "plain.npz")
    assert (tmp_path / "with_grad.npz").read_bytes() == (tmp_path / "plain.npz").read_bytes()
    loaded = cr.load(tmp_path / "with_grad.npz", map_location=DEV1)["w"]
    assert loaded.grad is None and not loaded.requires_grad and loaded.grad_fn is None


def test_a_device_checkpoint_loads_into_a_cpu_model(tmp_path):
    net = cr.nn.Linear(2, 3, generator=np.random.default_rng(0))
    sd = {k: cr.tensor(xps.asarray(v.numpy(), device=DEV1)) for k, v in net.state_dict().items()}
    cr.save(sd, tmp_path / "net.npz")
    other = cr.nn.Linear(2, 3, generator=np.random.default_rng(1))
    assert other.load_state_dict(cr.load(tmp_path / "net.npz")) == ([], [])
    for name, p in other.state_dict().items():
        np.testing.assert_array_equal(p.numpy(), net.state_dict()[name].numpy())


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_failure_while_copying_to_the_host_leaves_the_old_file(tmp_path, monkeypatch, fmt):
    path = tmp_path / f"ckpt.{fmt}"
    cr.save({"w": np.arange(3.0)}, path)
    old = path.read_bytes()
    real, calls = Backend.to_host, []

    def failing(self, x):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("simulated device failure")
        return real(self, x)

    monkeypatch.setattr(Backend, "to_host", failing)
    with pytest.raises(RuntimeError, match="simulated device failure"):
        cr.save(on_device(host_state()), path)
    assert len(calls) == 2 and path.read_bytes() == old
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize("where,error,names", [
    ("tpu", ValueError, "unknown device 'tpu'"),
    ("array_api_strict:device9", ValueError, "device9"),
    ("cuda:one", (ValueError, ImportError), "cuda"),
    (3, TypeError, "of type int"),
    (np.float32, TypeError, "of type type"),
])
def test_a_bad_map_location_says_what_and_what_to_do(tmp_path, where, error, names):
    path = tmp_path / "ckpt.npz"
    cr.save({"w": np.ones(2)}, path)
    with pytest.raises(error, match="map_location") as info:
        cr.load(path, map_location=where)
    assert names in str(info.value) and "pass 'cpu'" in str(info.value)
    with pytest.raises(error, match="map_location"):  # checked before the file is read
        cr.load(tmp_path / "missing.npz", map_location=where)


def test_cuda_without_cupy_says_what_to_install(tmp_path):
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed here")
    cr.save({"w": np.ones(2)}, tmp_path / "ckpt.npz")
    with pytest.raises(ImportError, match=r'map_location=.cuda.*pip install "chainrule\[cuda\]"'):
        cr.load(tmp_path / "ckpt.npz", map_location="cuda")


@pytest.mark.parametrize("where", ["cpu", "device1"])
def test_a_checkpoint_of_training_on_a_device_resumes_anywhere_to_the_last_bit(tmp_path, where):
    """Adam trained on device1, saved with its optimizer, resumed on the host or on device1:
    the next step equals the one the uninterrupted run takes, bit for bit."""
    from chainrule import nn

    def net():
        nn.init.manual_seed(0)
        return nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))

    def step(model, opt, x, t):
        opt.zero_grad()
        ((model(x) - t) ** 2).mean().backward()
        opt.step()

    rng = np.random.default_rng(1)
    xh, th = rng.standard_normal((4, 2)), rng.standard_normal((4, 1))
    x, t = (cr.tensor(xps.asarray(a, device=DEV1)) for a in (xh, th))
    model = net().to(DEV1)
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):
        step(model, opt, x, t)
    path = tmp_path / "ck.npz"
    cr.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
    step(model, opt, x, t)  # the uninterrupted run's fourth step

    ck = cr.load(path, map_location=None if where == "cpu" else "array_api_strict:device1")
    resumed = net()
    resumed.load_state_dict(ck["model"])
    if where == "device1":
        resumed.to(DEV1)
    opt2 = cr.optim.Adam(resumed.parameters(), lr=0.01)
    opt2.load_state_dict(ck["opt"])
    if where == "cpu":
        step(resumed, opt2, cr.tensor(xh), cr.tensor(th))
    else:
        step(resumed, opt2, x, t)
    for a, b in zip(model.parameters(), resumed.parameters()):
        assert b.device == ("cpu" if where == "cpu" else "array_api_strict:device1")
        np.testing.assert_array_equal(b.cpu().numpy(), a.cpu().numpy())
