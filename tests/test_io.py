"""cr.save / cr.load: round trips, atomic writes, and refusing damaged or foreign files."""

import importlib.util
import json
import os
import pickle
import signal
import stat
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import chainrule as cr
import chainrule.io as crio
from chainrule.errors import ChainruleError

HAS_SAFETENSORS = importlib.util.find_spec("safetensors") is not None
FORMATS = [
    "npz",
    pytest.param(
        "safetensors",
        marks=pytest.mark.skipif(not HAS_SAFETENSORS, reason="needs the files extra"),
    ),
]


def state():
    """A model and optimizer state like the ones nn and optim produce."""
    rng = np.random.default_rng(0)
    return {
        "model": {
            "0.weight": cr.tensor(rng.standard_normal((3, 1)).astype(np.float32)),
            "0.bias": cr.tensor(rng.standard_normal(3)),
            "2.weight": rng.standard_normal((1, 3)),
            "counts": np.arange(4, dtype=np.int64).reshape(2, 2),
            "mask": np.array([True, False]),
            "scale": np.array(2.5),  # 0-d array
        },
        "optimizer": {
            "state": {0: {"step": 3, "exp_avg": np.ones(3)}, 1: {}, 7: {"m": np.array(0.5)}},
            "param_groups": [
                {
                    "lr": 0.01,
                    "betas": (0.9, 0.999),
                    "params": [0, 1, 7],
                    "nesterov": False,
                    "name": None,
                    "eps": 1e-8,
                    "schedule": "cosine",
                }
            ],
        },
        "epoch": np.int64(12),
        "best": np.float32(0.125),
        "inf": float("inf"),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "swapped": np.arange(3, dtype=">i4"),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }


def assert_same(loaded, saved):
    """Arrays and Tensors come back as Tensors, NumPy scalars as NumPy scalars, the rest as is."""
    if isinstance(saved, (cr.Tensor, np.ndarray)):
        assert isinstance(loaded, cr.Tensor)
        want = np.asarray(saved.data if isinstance(saved, cr.Tensor) else saved)
        assert loaded.dtype == want.dtype.newbyteorder("=")
        assert loaded.shape == want.shape
        assert not loaded.requires_grad
        np.testing.assert_array_equal(loaded.numpy(), want)
    elif isinstance(saved, np.generic):
        assert type(loaded) is type(saved) and loaded == saved
    elif isinstance(saved, dict):
        assert isinstance(loaded, dict)
        assert list(loaded) == list(saved)  # keys, their types (int stays int) and order
        for k in saved:
            assert_same(loaded[k], saved[k])
    elif isinstance(saved, (list, tuple)):
        assert type(loaded) is type(saved) and len(loaded) == len(saved)
        for a, b in zip(loaded, saved):
            assert_same(a, b)
    else:
        assert type(loaded) is type(saved) and loaded == saved


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(tmp_path, fmt):
    path = tmp_path / f"ckpt.{fmt}"
    saved = state()
    cr.save(saved, path)
    assert_same(cr.load(path), saved)
    assert_same(cr.load(str(path)), saved)
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_of_awkward_keys(tmp_path, fmt):
    path = tmp_path / f"keys.{fmt}"
    saved = {
        "a/b": np.ones(1),
        "back\\slash": np.ones(2),
        "a": {"b": np.zeros(1)},  # would collide with "a/b" as an entry name
        "__array_0__": np.full(2, 3.0),
        "": np.arange(2.0),
        "ü nicode": [np.ones(2), (1, "x")],
        "lone \ud800 surrogate": np.ones(3),  # not UTF-8: a fallback entry name
        -1: "negative int key",
    }
    cr.save(saved, path)
    assert_same(cr.load(path), saved)


def test_top_level_values_other_than_dicts(tmp_path):
    for saved in [np.arange(3.0), [np.ones(2), 3], 4.5]:
        cr.save(saved, tmp_path / "x.npz")
        assert_same(cr.load(tmp_path / "x.npz"), saved)


def test_npz_is_readable_by_numpy_without_pickle(tmp_path):
    path = tmp_path / "m.npz"
    cr.save({"0.weight": np.eye(2), "opt": {"state": {0: {"m": np.ones(3)}}}}, path)
    with np.load(path, allow_pickle=False) as f:
        assert set(f.files) == {"__chainrule__", "0.weight", "opt/state/0/m"}
        np.testing.assert_array_equal(f["0.weight"], np.eye(2))


def test_save_overwrites_and_load_is_in_package(tmp_path):
    path = tmp_path / "m.npz"
    cr.save({"w": np.zeros(2)}, path)
    cr.save({"w": np.ones(3)}, path)
    np.testing.assert_array_equal(cr.load(path)["w"].numpy(), np.ones(3))
    assert cr.save is crio.save and cr.load is crio.load


def test_save_refuses_what_it_cannot_store(tmp_path):
    path = tmp_path / "x.npz"
    cases = [
        ({"a": {1, 2}}, r"obj\['a'\].*type set"),
        ({"a": [np.array([{}], dtype=object)]}, r"obj\['a'\]\[0\].*dtype object"),
        ({"a": np.ones(2, dtype=complex)}, "dtype complex128"),
        ({True: 1}, "keys must be str or int"),
        ({(1, 2): 1}, "keys must be str or int"),
    ]
    for obj, message in cases:
        with pytest.raises(TypeError, match=message):
            cr.save(obj, path)
    assert not path.exists()
    with pytest.raises(crio.CheckpointError, match="does not exist"):
        cr.save({}, tmp_path / "no_such_folder" / "x.npz")


def test_safetensors_without_the_extra_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[files\]"'):
        cr.save({"w": np.ones(2)}, tmp_path / "x.safetensors")


# ---------------------------------------------------------------- atomic writes


class CrashingFile:
    """A file that writes its first ``limit`` bytes, then raises, as a crash would stop it."""

    def __init__(self, f, limit):
        self._f, self._left = f, limit

    def write(self, data):
        if len(data) > self._left:
            self._f.write(bytes(data)[: self._left])
            self._f.flush()
            self._left = 0
            raise RuntimeError("simulated crash mid-write")
        self._left -= len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_save_interrupted_midway_leaves_the_old_file(tmp_path, monkeypatch, fmt):
    path = tmp_path / f"model.{fmt}"
    old = {"w": np.arange(4.0), "b": np.zeros(2)}
    cr.save(old, path)
    old_bytes = path.read_bytes()
    real_fdopen = os.fdopen
    written = []

    def crashing_fdopen(fd, *args, **kwargs):
        f = CrashingFile(real_fdopen(fd, *args, **kwargs), limit=4000)
        written.append(f)
        return f

    monkeypatch.setattr(os, "fdopen", crashing_fdopen)
    with pytest.raises(RuntimeError, match="simulated crash"):
        cr.save({"w": np.ones(1000), "b": np.ones(2)}, path)  # 8000 bytes of data
    assert written and written[0]._left == 0  # the crash came after a partial write
    assert path.read_bytes() == old_bytes
    assert_same(cr.load(path), old)
    assert os.listdir(tmp_path) == [path.name]


def test_save_failing_at_fsync_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    old = {"w": np.arange(4.0)}
    cr.save(old, path)

    def no_space(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(crio.CheckpointError, match="model.npz: cannot save: No space left"):
        cr.save({"w": np.ones(1000)}, path)
    monkeypatch.undo()
    assert_same(cr.load(path), old)
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.skipif(os.name != "posix", reason="folders are fsynced on POSIX only")
def test_save_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    real_fsync = os.fsync
    calls = []

    def recording_fsync(fd):
        calls.append((stat.S_ISDIR(os.fstat(fd).st_mode), path.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    cr.save({"w": np.ones(3)}, path)
    assert calls == [(False, False), (True, True)]


def test_failed_first_save_leaves_no_file(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np.lib.format, "write_array", boom)
    with pytest.raises(KeyboardInterrupt):
        cr.save({"w": np.ones(3)}, tmp_path / "new.npz")
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_process_killed_mid_save_leaves_the_old_file(tmp_path):
    """A real crash: the saving process is SIGKILLed halfway through writing an array."""
    path = tmp_path / "model.npz"
    old = {"w": np.arange(5.0)}
    cr.save(old, path)
    script = textwrap.dedent(
        f"""
        import os, signal
        import numpy as np
        import chainrule as cr

        real_write = np.lib.format.write_array

        def write_then_die(f, array, *args, **kwargs):
            if array.size > 1000:
                f.write(b"x" * 4096)
                f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            return real_write(f, array, *args, **kwargs)

        np.lib.format.write_array = write_then_die
        cr.save({{"w": np.ones(100_000)}}, {str(path)!r})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert_same(cr.load(path), old)
    leftovers = [n for n in os.listdir(tmp_path) if n != path.name]
    assert all(n.startswith(".model.npz.") and n.endswith(".tmp") for n in leftovers)


# ---------------------------------------------------------------- refusing bad files


def refused(path, *words):
    with pytest.raises(crio.CheckpointError) as info:
        cr.load(path)
    message = str(info.value)
    assert isinstance(info.value, ChainruleError)
    assert message.startswith(f"{path}: ")
    for w in words:
        assert w in message, message
    return message


def test_refuses_garbage_empty_missing_and_folders(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(np.random.default_rng(0).bytes(300))
    refused(garbage, "not a chainrule checkpoint")
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    refused(empty, "empty")
    refused(tmp_path / "missing.npz", "no such file")
    refused(tmp_path, "folder")
    npy = tmp_path / "a.npy"
    np.save(npy, np.ones(2))
    refused(npy, ".npy")


def test_refuses_pickles(tmp_path):
    path = tmp_path / "model.pt"
    with open(path, "wb") as f:
        pickle.dump({"w": np.ones(2)}, f)
    refused(path, "pickle")


def test_refuses_foreign_npz(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, w=np.ones(2))
    refused(path, "no '__chainrule__' header", "not written by chainrule")
    other = tmp_path / "other.npz"
    np.savez(other, __chainrule__=np.frombuffer(b'{"format": "other"}', dtype=np.uint8))
    refused(other, "not written by chainrule")


@pytest.mark.skipif(not HAS_SAFETENSORS, reason="needs the files extra")
def test_refuses_foreign_safetensors(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "hub.safetensors"
    save_file({"w": np.ones(2)}, str(path))
    refused(path, "not written by chainrule")


def fake_header(tree, version=1):
    text = json.dumps({"format": "chainrule", "version": version, "tree": tree})
    return np.frombuffer(text.encode(), dtype=np.uint8)


def test_refuses_object_dtype_entries(tmp_path):
    path = tmp_path / "objects.npz"
    node = {"type": "array", "name": "x", "shape": [1], "dtype": "object", "scalar": False}
    np.savez(path, __chainrule__=fake_header(node), x=np.array([{"a": 1}], dtype=object))
    refused(path, "entry 'x'", "Python objects")


def test_refuses_newer_format_versions(tmp_path):
    path = tmp_path / "future.npz"
    np.savez(path, __chainrule__=fake_header({"type": "value", "value": 1}, version=99))
    refused(path, "version 99")


def test_refuses_header_that_does_not_match_its_entries(tmp_path):
    path = tmp_path / "m.npz"
    node = {"type": "array", "name": "x", "shape": [3], "dtype": "float64", "scalar": False}
    np.savez(path, __chainrule__=fake_header(node), x=np.ones(2))
    refused(path, "entry 'x'", "shape (2,)")
    np.savez(path, __chainrule__=fake_header({**node, "name": "y"}), x=np.ones(3))
    refused(path, "entry 'y' is missing")


@pytest.mark.parametrize("fmt", FORMATS)
def test_refuses_every_truncation(tmp_path, fmt):
    good = tmp_path / f"good.{fmt}"
    cr.save({"w": np.arange(6.0).reshape(2, 3), "opt": {"step": 1}}, good)
    data = good.read_bytes()
    bad = tmp_path / f"bad.{fmt}"
    for cut in range(1, len(data), 3):
        bad.write_bytes(data[:cut])
        with pytest.raises(crio.CheckpointError, match="bad"):
            cr.load(bad)
    bad.write_bytes(data[: len(data) // 2])
    refused(bad, "truncated or corrupt")


@pytest.mark.parametrize("fmt", FORMATS)
def test_flipped_bytes_are_refused_or_harmless(tmp_path, fmt):
    """Damage anywhere gives a CheckpointError or, in unchecked zip metadata, the same data."""
    saved = {"w": np.arange(6.0).reshape(2, 3), "n": np.arange(3), "opt": {"step": 1}}
    good = tmp_path / f"good.{fmt}"
    cr.save(saved, good)
    data = good.read_bytes()
    bad = tmp_path / f"bad.{fmt}"
    n_refused = 0
    for i in range(0, len(data), 2):
        damaged = bytearray(data)
        damaged[i] ^= 0xFF
        bad.write_bytes(bytes(damaged))
        try:
            loaded = cr.load(bad)
        except crio.CheckpointError:
            n_refused += 1
            continue
        assert_same(loaded, saved)
    assert n_refused > len(data) // 4


def test_refuses_flipped_array_bytes_in_zip_with_fixed_crc(tmp_path):
    """Even with a zip whose own CRC is fixed up, chainrule's checksum spots changed numbers."""
    good = tmp_path / "good.npz"
    cr.save({"w": np.arange(4.0)}, good)
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "w.npy":
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.writestr(name, data)
    refused(bad, "entry 'w' fails its checksum")
