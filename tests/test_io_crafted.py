"""cr.load on crafted and damaged files: a CheckpointError with a reason or the saved
content, nothing else, and never much more memory than the file holds.

Deterministic cases first (each kind of lie a file can tell), then property-based fuzzing
(Hypothesis) that damages valid checkpoints and builds arbitrary headers and entries.
"""

import importlib.util
import io
import json
import os
import struct
import tempfile
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.io as crio
from test_io import assert_same

HAS_SAFETENSORS = importlib.util.find_spec("safetensors") is not None
needs_safetensors = pytest.mark.skipif(not HAS_SAFETENSORS, reason="needs the files extra")
FORMATS = ["npz", pytest.param("safetensors", marks=needs_safetensors)]


# ------------------------------------------------------------------ building files


def header_text(tree, **extra):
    """A ``__chainrule__`` header as cr.save writes it (with a correct checksum)."""
    crc = zlib.crc32(json.dumps(tree).encode())
    return json.dumps({"format": "chainrule", "version": 1, "tree": tree, "tree_crc32": crc,
                       **extra})


def npy(descr, shape, data=b"", fortran=False, version=1):
    """A .npy entry with any header, consistent with its data or not."""
    text = repr({"descr": descr, "fortran_order": fortran, "shape": tuple(shape)})
    head_len = 10 if version == 1 else 12
    pad = -(len(text) + 1 + head_len) % 64
    text = (text + " " * pad + "\n").encode("latin1")
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text + data


def array_npy(a):
    f = io.BytesIO()
    np.lib.format.write_array(f, a, allow_pickle=False)
    return f.getvalue()


def zip_bytes(members, method=zipfile.ZIP_STORED):
    """A zip of ``[(name, bytes)]`` (names may repeat)."""
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w", compression=method) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return f.getvalue()


def npz_file(tree, entries, method=zipfile.ZIP_STORED):
    """A checkpoint-shaped .npz: the header entry plus ``{name: .npy bytes}``."""
    header = np.frombuffer(header_text(tree).encode(), dtype=np.uint8)
    members = [("__chainrule__.npy", array_npy(header))]
    members += [(f"{n}.npy", b) for n, b in entries]
    return zip_bytes(members, method)


def safetensors_file(tensors, metadata, raw_header=None):
    """Safetensors bytes from ``{name: (dtype, shape, data)}``, offsets packed in order."""
    header, data, offset = {}, b"", 0
    for name, (dtype, shape, blob) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(blob)]}
        data += blob
        offset += len(blob)
    header["__metadata__"] = metadata
    text = raw_header if raw_header is not None else json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def node(entry, a, **changes):
    return {"type": "array", "name": entry, "shape": list(a.shape), "dtype": a.dtype.name,
            "scalar": False, "crc32": zlib.crc32(a.tobytes()), **changes}


def refused(tmp_path, data, *words, suffix=".npz"):
    path = tmp_path / f"crafted{suffix}"
    path.write_bytes(data)
    with pytest.raises(crio.CheckpointError) as info:
        cr.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for w in words:
        assert w in message, message
    return message


def load_traced(path):
    """What cr.load gives (None for a CheckpointError, which must be one line) and the peak
    memory traced meanwhile (NumPy reports its arrays to tracemalloc)."""
    tracemalloc.start()
    try:
        loaded = cr.load(path)
    except crio.CheckpointError as e:
        assert "\n" not in str(e)
        loaded = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return loaded, peak


def peak_bytes(path):
    return load_traced(path)[1]


def refused_or_well_formed(path, data):
    """The fuzz tests' property: a CheckpointError or content of the promised kinds, and
    memory never more than a few times the file."""
    path.write_bytes(data)
    loaded, peak = load_traced(path)
    assert loaded is None or well_formed(loaded)
    assert peak < 64 * len(data) + (2 << 20), (peak, len(data))


X = np.arange(6.0)


# ---------------------------------------------------------------- .npz: the entries


@pytest.mark.parametrize("shape", [(2**62, 2**62), (2**32, 2**32, 2**32), (2**61,), (10**30,)])
def test_shape_whose_size_overflows_is_refused_without_allocating(tmp_path, shape):
    data = npz_file(node("x", X), [("x", npy("<f8", shape, X.tobytes()))])
    refused(tmp_path, data, "entry 'x'", f"shape {shape}", "needs", "holds 48")
    assert peak_bytes(tmp_path / "crafted.npz") < 1 << 20


def test_header_shape_beyond_int64_is_refused(tmp_path):
    data = npz_file(node("x", X, shape=[2**70]), [("x", array_npy(X))])
    refused(tmp_path, data, "entry 'x' has shape (6,)", "[1180591620717411303424]")


@pytest.mark.parametrize("descr, words", [
    ("<c16", "unsupported dtype complex128"),
    ("|O", "Python objects"),
    ("|V8", "unsupported dtype"),
    ("<U2", "unsupported dtype <U2"),
    ("<M8[s]", "unsupported dtype datetime64"),
    (("<f8", (10**7,)), "unsupported dtype"),  # a sub-array: 80 MB per element
    (("<f8", (10**9,)), "truncated or corrupt"),  # 8 GB: NumPy itself refuses it
    ([("a", "<f8")], "unsupported dtype"),
])
def test_entries_of_dtypes_a_tensor_cannot_hold_are_refused(tmp_path, descr, words):
    data = npz_file(node("x", X), [("x", npy(descr, (6,), X.tobytes()))])
    refused(tmp_path, data, "entry 'x'", words)


@pytest.mark.parametrize("entry, words", [
    (npy("<f8", (7,), X.tobytes()), "needs 56 bytes of data, the entry holds 48"),
    (npy("<f8", (5,), X.tobytes()), "needs 40 bytes"),
    (npy("<f8", (-6,), X.tobytes()), "shape (-6,)"),
    (npy("<f8", (1,) * 65, X.tobytes()[:8]), "shape (1, 1,"),
    (array_npy(X)[:20], "truncated or corrupt"),
    (b"\x93NUMPY\x09\x00" + array_npy(X)[8:], "unsupported .npy version (9, 0)"),
    (array_npy(X).replace(b"'descr'", b"'descx'"), "truncated or corrupt"),
    (array_npy(X).replace(b"(6,)", b"(6,,"), "truncated or corrupt"),
    (b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 70000, "truncated or corrupt"),
    (b"\x93NUMPY\x03\x00" + array_npy(X)[8:], "unsupported .npy version (3, 0)"),
])
def test_garbled_or_inconsistent_entry_headers_are_refused(tmp_path, entry, words):
    refused(tmp_path, npz_file(node("x", X), [("x", entry)]), words)


def test_fortran_order_entries_load_as_saved(tmp_path):
    a = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    path = tmp_path / "f.npz"
    path.write_bytes(npz_file(node("x", a), [("x", array_npy(a))]))
    np.testing.assert_array_equal(cr.load(path).numpy(), a)


# ------------------------------------------------------------- .npz: the zip itself


def test_duplicate_and_unexpected_members_are_refused(tmp_path):
    header = np.frombuffer(header_text(node("x", X)).encode(), dtype=np.uint8)
    twice = [("__chainrule__.npy", array_npy(header)), ("x.npy", array_npy(X)),
             ("x.npy", array_npy(X + 1))]
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = zip_bytes(twice)
    refused(tmp_path, data, "entry 'x' appears twice")
    other = [("__chainrule__.npy", array_npy(header)), ("x.npy", array_npy(X)),
             ("run.py", b"print(1)")]
    refused(tmp_path, zip_bytes(other), "unexpected zip member 'run.py'")


def central_entry(data, name):
    """Offset of the central-directory record of member ``name``."""
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        (length,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46:at + 46 + length] == name.encode():
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise KeyError(name)


def patch_central(data, name, field, value):
    """Overwrite a 4-byte field of a member's central-directory record."""
    offsets = {"crc": 16, "compress_size": 20, "file_size": 24, "header_offset": 42}
    at = central_entry(data, name) + offsets[field]
    return data[:at] + struct.pack("<I", value) + data[at + 4:]


def test_a_deflated_entry_claiming_more_than_deflate_can_give_is_refused(tmp_path):
    big = np.zeros(1000)
    data = npz_file(node("x", big), [("x", array_npy(big))], method=zipfile.ZIP_DEFLATED)
    path = tmp_path / "ok.npz"
    path.write_bytes(data)
    np.testing.assert_array_equal(cr.load(path).numpy(), big)  # deflated entries load
    # a header claiming 2 GB of zeros, a central directory claiming as much: not deflate
    entry = npy("<f8", (2**28,), bytes(8000))
    data = npz_file(node("x", big), [("x", entry)], method=zipfile.ZIP_DEFLATED)
    lying = patch_central(data, "x.npy", "file_size", 2**31 + len(entry) - 8000)
    refused(tmp_path, lying, "entry 'x' claims 2147483776 bytes from")
    assert peak_bytes(tmp_path / "crafted.npz") < 1 << 20


def test_an_honest_deflated_entry_is_read_within_its_size(tmp_path):
    """A 10 MB array of zeros deflates to ~10 kB; its header then claims more than it holds."""
    zeros = np.zeros(10**6 + 1)
    entry = npy("<f8", (10**6 + 1,), zeros.tobytes()[:-8])  # one element short
    data = npz_file(node("x", zeros), [("x", entry)], method=zipfile.ZIP_DEFLATED)
    refused(tmp_path, data, "needs 8000008 bytes of data, the entry holds 8000000")
    assert len(data) < 20_000
    assert peak_bytes(tmp_path / "crafted.npz") < 1 << 20


def test_a_stored_entry_whose_sizes_disagree_is_refused(tmp_path):
    data = npz_file(node("x", X), [("x", array_npy(X))])
    refused(tmp_path, patch_central(data, "x.npy", "file_size", 10**8), "claims 100000000")
    refused(tmp_path, patch_central(data, "x.npy", "compress_size", 10**8), "in a file of")


def test_overlapping_and_misplaced_entries_are_refused(tmp_path):
    data = npz_file(node("x", X), [("x", array_npy(X)), ("y", array_npy(X))])
    start = data.index(b"x.npy") - 30  # x's local header
    refused(tmp_path, patch_central(data, "y.npy", "header_offset", start), "overlap")
    refused(tmp_path, patch_central(data, "x.npy", "header_offset", 10**6), "in a file of")
    refused(tmp_path, patch_central(data, "x.npy", "header_offset", 3), "corrupt")


def test_other_compression_methods_are_refused(tmp_path):
    data = npz_file(node("x", X), [("x", array_npy(X))], method=zipfile.ZIP_BZIP2)
    refused(tmp_path, data, "compression method 12")


# ---------------------------------------------------------- the __chainrule__ header


@pytest.mark.parametrize("tree, words", [
    ({"type": "dict", "items": [[1]]}, "not a [key, value] pair"),
    ({"type": "dict", "items": [[[1], {"type": "value", "value": 1}]]}, "a dict key [1]"),
    ({"type": "dict", "items": [["a", {"type": "value", "value": 1}]] * 2}, "key 'a' twice"),
    ({"type": "list", "items": {}}, "a node"),
    ({"type": "tuple"}, "a node"),
    ({"type": "set", "items": []}, "a node"),
    ([{"type": "value", "value": 1}], "a node"),
    ({"type": "value", "value": [1, 2]}, "a value of type list"),
    ({"type": "value", "value": {"a": 1}}, "a value of type dict"),
    (node("x", X, scalar=True), "an array node"),
    (node("x", X, scalar="yes"), "an array node"),
    (node("x", X, shape=[6.0]), "an array node"),
    (node("x", X, shape=[True] * 6), "an array node"),
    (node("x", X, shape=[1] * 65), "an array node"),
    (node("x", X, name=7), "an array node"),
    (node("x", X, dtype="float32"), "header says [6] and float32"),
    (node("x", X, shape=[2, 2]), "header says [2, 2]"),
    (node("x", X, crc32="0"), "fails its checksum"),
    (node("y", X), "entry 'y' is missing"),
    ({"type": "list", "items": [node("x", X)] * 2}, "entry 'x' is referred to twice"),
    ({"type": "list", "items": []}, "does not mention entry 'x'"),
])
def test_header_markers_that_do_not_match_are_refused(tmp_path, tree, words):
    refused(tmp_path, npz_file(tree, [("x", array_npy(X))]), words)


def test_the_header_checksum_catches_edits_and_old_files_still_load(tmp_path):
    tree = {"type": "dict", "items": [["step", {"type": "value", "value": 3}]]}
    text = header_text(tree).replace('"value": 3', '"value": 4')
    header = np.frombuffer(text.encode(), dtype=np.uint8)
    refused(tmp_path, zip_bytes([("__chainrule__.npy", array_npy(header))]),
            "fails its checksum")
    old = json.dumps({"format": "chainrule", "version": 1, "tree": tree}).encode()  # no crc
    path = tmp_path / "old.npz"
    path.write_bytes(zip_bytes([("__chainrule__.npy", array_npy(np.frombuffer(old, np.uint8)))]))
    assert cr.load(path) == {"step": 3}
    unknown = json.dumps({"format": "chainrule", "version": 1, "tree": tree, "tree_crc": 1})
    refused(tmp_path, zip_bytes([("__chainrule__.npy",
                                  array_npy(np.frombuffer(unknown.encode(), np.uint8)))]),
            "fails its checksum")


def test_deeply_nested_headers_are_refused(tmp_path):
    text = ('{"type": "list", "items": [' * 5000) + '{"type": "value", "value": 1}' + "]}" * 5000
    meta = '{"format": "chainrule", "version": 1, "tree": ' + text + "}"
    header = np.frombuffer(meta.encode(), dtype=np.uint8)
    refused(tmp_path, zip_bytes([("__chainrule__.npy", array_npy(header))]), "__chainrule__")


# ---------------------------------------------------------------------- safetensors


def st_file(tensors, tree, **kw):
    return safetensors_file(tensors, {"__chainrule__": header_text(tree)}, **kw)


@needs_safetensors
def test_safetensors_complex_and_other_dtypes_are_refused(tmp_path):
    c = np.arange(3, dtype=np.complex64)
    tree = {"type": "array", "name": "x", "shape": [3], "dtype": "complex64", "scalar": False,
            "crc32": zlib.crc32(c.tobytes())}
    refused(tmp_path, st_file({"x": ("C64", (3,), c.tobytes())}, tree),
            "entry 'x' has unsupported dtype C64", suffix=".safetensors")
    for dtype in ["BF16", "F8_E4M3"]:
        refused(tmp_path, st_file({"x": (dtype, (2,), b"\0" * (4 if dtype == "BF16" else 2))},
                                  tree), f"unsupported dtype {dtype}", suffix=".safetensors")


@needs_safetensors
@pytest.mark.parametrize("edit, words", [
    (lambda h: h.replace(b'"data_offsets": [0, 48]', b'"data_offsets": [8, 56]'), "offset"),
    (lambda h: h.replace(b'"data_offsets": [0, 48]', b'"data_offsets": [0, 40]'), "corrupt"),
    (lambda h: h.replace(b'"shape": [6]', b'"shape": [4611686018427387904, 4]'), "overflow"),
    (lambda h: h.replace(b'"shape": [6]', b'"shape": [-6]'), "corrupt"),
    (lambda h: h.replace(b'"F64"', b'"C128"'), "unknown variant `C128`"),
    (lambda h: h[: len(h) // 2], "truncated or corrupt"),
])
def test_safetensors_wrong_offsets_shapes_and_garbled_headers(tmp_path, edit, words):
    tensors = {"x": ("F64", (6,), X.tobytes())}
    good = json.dumps({"x": {"dtype": "F64", "shape": [6], "data_offsets": [0, 48]},
                       "__metadata__": {"__chainrule__": header_text(node("x", X))}}).encode()
    path = tmp_path / "good.safetensors"
    path.write_bytes(safetensors_file(tensors, {}, raw_header=good))
    np.testing.assert_array_equal(cr.load(path).numpy(), X)
    refused(tmp_path, safetensors_file(tensors, {}, raw_header=edit(good)), words,
            suffix=".safetensors")


@needs_safetensors
def test_safetensors_entry_claiming_gigabytes_is_refused_without_allocating(tmp_path):
    big = {"x": {"dtype": "F64", "shape": [2**28], "data_offsets": [0, 2**31]},
           "__metadata__": {"__chainrule__": header_text(node("x", X))}}
    data = safetensors_file({}, {}, raw_header=json.dumps(big).encode()) + X.tobytes()
    refused(tmp_path, data, "truncated or corrupt", suffix=".safetensors")
    assert peak_bytes(tmp_path / "crafted.safetensors") < 1 << 20


@needs_safetensors
def test_safetensors_duplicate_names_and_unmentioned_entries(tmp_path):
    tree = node("x", X)
    dup = (b'{"x": {"dtype": "F64", "shape": [6], "data_offsets": [0, 48]}, '
           b'"x": {"dtype": "F64", "shape": [6], "data_offsets": [48, 96]}, "__metadata__": '
           + json.dumps({"__chainrule__": header_text(tree)}).encode() + b"}")
    refused(tmp_path, safetensors_file({"a": ("F64", (12,), X.tobytes() * 2)}, {},
                                       raw_header=dup), "corrupt", suffix=".safetensors")
    extra = {"x": ("F64", (6,), X.tobytes()), "y": ("F64", (6,), X.tobytes())}
    refused(tmp_path, st_file(extra, tree), "does not mention entry 'y'", suffix=".safetensors")


# ------------------------------------------------------------------------- fuzzing

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def saved_bytes(fmt):
    """A valid checkpoint of each kind of content cr.save stores."""
    rng = np.random.default_rng(0)
    saved = {
        "model": {"0.weight": rng.standard_normal((3, 2)).astype(np.float32),
                  "0.bias": rng.standard_normal(3), "mask": np.array([True, False]),
                  "ids": np.arange(4, dtype=np.int64).reshape(2, 2), "s": np.array(1.5)},
        "opt": {"state": {0: {"step": 3}}, "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999),
                                                            "name": "ü", "none": None}]},
        "epoch": np.int64(12),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, f"saved.{fmt}")
        cr.save(saved, path)
        with open(path, "rb") as f:
            return saved, f.read()


def header_digits(data):
    """Where the digits of the __chainrule__ header are: a number edited there is the damage
    hardest to notice (in .npz the zip's CRC sees it, in safetensors only chainrule's)."""
    start = data.index(b"format")
    end = data.index(b"tree_crc32", start) + 24
    return [i for i in range(start, end) if 48 <= data[i] <= 57]


def mutations(data):
    """Lists of one to four edits of ``data``: bit flips, bytes set, truncation, deletion,
    insertion, and digits of the header changed."""
    n, digits = len(data), header_digits(data)
    at = st.integers(0, n - 1)
    return st.lists(
        st.one_of(
            st.tuples(st.just("flip"), at, st.integers(0, 7)),
            st.tuples(st.just("set"), at, st.integers(0, 255)),
            st.tuples(st.just("truncate"), at, st.just(0)),
            st.tuples(st.just("delete"), at, st.integers(1, 64)),
            st.tuples(st.just("insert"), at, st.binary(min_size=1, max_size=16)),
            st.tuples(st.just("digit"), st.sampled_from(digits), st.integers(0, 9)),
        ),
        min_size=1, max_size=4,
    )


def mutate(data, ops):
    data = bytearray(data)
    for op, at, arg in ops:
        if at >= len(data):  # an earlier edit made it shorter
            continue
        if op == "flip":
            data[at] ^= 1 << arg
        elif op in ("set", "digit"):
            data[at] = arg if op == "set" else 48 + arg
        elif op == "truncate":
            del data[at:]
        elif op == "delete":
            del data[at:at + arg]
        elif op == "insert":
            data[at:at] = arg
    return bytes(data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_fuzz_damaged_checkpoints_load_right_or_are_refused(tmp_path, fmt):
    saved, data = saved_bytes(fmt)
    path = tmp_path / f"fuzz.{fmt}"
    outcomes = {"refused": 0, "same": 0}

    @FUZZ
    @given(ops=mutations(data))
    def check(ops):
        path.write_bytes(mutate(data, ops))
        try:
            loaded = cr.load(path)
        except crio.CheckpointError as e:
            assert "\n" not in str(e)
            outcomes["refused"] += 1
            return
        assert_same(loaded, saved)
        outcomes["same"] += 1

    check()
    assert outcomes["refused"] > outcomes["same"] > 0, outcomes


def well_formed(obj):
    """What cr.load promises to return: Tensors of numbers, NumPy scalars, plain values,
    dicts with str or int keys, lists and tuples."""
    if isinstance(obj, cr.Tensor):
        return obj.dtype.kind in "biuf" and not obj.requires_grad
    if isinstance(obj, np.generic):
        return obj.dtype.kind in "biuf"
    if isinstance(obj, dict):
        return all(isinstance(k, (str, int)) and not isinstance(k, bool) and well_formed(v)
                   for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return all(well_formed(v) for v in obj)
    return obj is None or isinstance(obj, (bool, int, float, str))


NAMES = st.sampled_from(["x", "y", "z", "__array_0__", "a/b"])
DESCRS = st.sampled_from(["<f8", "<f4", "<f2", "<i8", "|u1", "|b1", ">f8", "<c16", "|O", "|V4",
                          "<U1", "<M8[s]"])
SHAPES = st.lists(st.one_of(st.integers(0, 4), st.integers(0, 2**64)), max_size=3)
LEAVES = st.one_of(
    st.builds(lambda v: {"type": "value", "value": v},
              st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=3),
                        st.lists(st.integers(), max_size=2))),
    st.builds(lambda n, shape, dtype, scalar, crc: {"type": "array", "name": n, "shape": shape,
                                                    "dtype": dtype, "scalar": scalar,
                                                    "crc32": crc},
              NAMES, SHAPES, st.sampled_from(["float64", "float32", "int64", "bool", "complex128"]),
              st.one_of(st.booleans(), st.just(1)), st.integers(0, 2**32)),
    st.dictionaries(st.sampled_from(["type", "items", "name", "value"]),
                    st.one_of(st.text(max_size=5), st.integers(), st.none()), max_size=3),
)
TREES = st.recursive(
    LEAVES,
    lambda kids: st.one_of(
        st.builds(lambda t, items: {"type": t, "items": items},
                  st.sampled_from(["list", "tuple"]), st.lists(kids, max_size=3)),
        st.builds(lambda items: {"type": "dict", "items": items},
                  st.lists(st.one_of(st.tuples(st.one_of(st.text(max_size=2), st.integers(),
                                                         st.booleans(), st.none()),
                                               kids).map(list),
                                     kids), max_size=3)),
    ),
    max_leaves=8,
)
ENTRIES = st.lists(
    st.tuples(NAMES, DESCRS, SHAPES, st.booleans(), st.integers(0, 64)),
    max_size=3, unique_by=lambda e: e[0],
)


@FUZZ
@given(tree=TREES, entries=ENTRIES, deflate=st.booleans())
def test_fuzz_crafted_npz_files_load_well_formed_or_are_refused(tmp_path, tree, entries,
                                                               deflate):
    """Arbitrary headers over arbitrary entries (shapes up to 2⁶⁴, dtypes a Tensor cannot
    hold, data too short or too long): a CheckpointError, or content of the promised kinds;
    and memory never more than a few times the file."""
    members = []
    for name, descr, shape, fortran, n_bytes in entries:
        members.append((name, npy(descr, shape, bytes(range(n_bytes)), fortran)))
    data = npz_file(tree, members, zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED)
    refused_or_well_formed(tmp_path / "crafted.npz", data)


ST_NUMPY = {"F64": "float64", "F32": "float32", "F16": "float16", "I64": "int64",
            "U8": "uint8", "BOOL": "bool", "C64": "complex64", "BF16": "bfloat16"}


@needs_safetensors
@FUZZ
@given(draw=st.data(), tensors=st.lists(
    st.tuples(NAMES, st.sampled_from(sorted(ST_NUMPY)), st.lists(st.integers(0, 3), max_size=3),
              st.integers(0, 2)),
    max_size=3, unique_by=lambda t: t[0]))
def test_fuzz_crafted_safetensors_files_load_well_formed_or_are_refused(tmp_path, draw,
                                                                       tensors):
    """Tensors of any safetensors dtype (complex and bfloat16 too), a header that describes
    them, then edited: a CheckpointError, or content of the promised kinds."""
    blobs, items = {}, []
    for name, dtype, shape, extra in tensors:
        size = int(np.prod(shape)) * {"F64": 8, "F32": 4, "I64": 8, "C64": 8}.get(
            dtype, 2 if dtype in ("F16", "BF16") else 1)
        blob = bytes(range(size % 256)) * (size // 256) + bytes(range(size % 256))
        blob = (blob + bytes(size))[:size] + bytes(extra)  # extra: too many bytes
        blobs[name] = (dtype, shape, blob)
        items.append({"type": "array", "name": name, "shape": shape, "dtype": ST_NUMPY[dtype],
                      "scalar": False, "crc32": zlib.crc32(blob)})
    tree = {"type": "list", "items": items}
    for _ in range(draw.draw(st.integers(0, 2), label="edits")):
        nodes = nodes_of(tree)
        nodes[draw.draw(st.integers(0, len(nodes) - 1))][draw.draw(FIELDS)] = draw.draw(
            JSON_VALUES)
    refused_or_well_formed(tmp_path / "crafted.safetensors", st_file(blobs, tree))


def test_fuzz_helpers_build_loadable_files(tmp_path):
    """The builders above make files cr.load accepts when they are consistent."""
    a = np.arange(4, dtype=np.int64)
    path = tmp_path / "ok.npz"
    path.write_bytes(npz_file({"type": "list", "items": [node("x", a)]}, [("x", array_npy(a))]))
    assert_same(cr.load(path), [a])


JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 8), st.integers(2**31, 2**70), st.floats(),
    st.text(max_size=4), st.sampled_from(["array", "value", "dict", "list", "tuple",
                                          "float64", "int64", "bool", "complex128"]),
    st.lists(st.one_of(st.integers(-1, 2**64), st.booleans(), st.text(max_size=1)), max_size=3),
    st.just({}), st.just([[]]),
)
FIELDS = st.sampled_from(["type", "name", "shape", "dtype", "scalar", "crc32", "items", "value"])


def nodes_of(tree):
    """Every dict in the header tree (the nodes, reachable through "items")."""
    out, stack = [], [tree]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            out.append(n)
            stack.extend(n.get("items", []) if isinstance(n.get("items"), list) else [])
        elif isinstance(n, list):
            stack.extend(n)
    return out


@FUZZ
@given(draw=st.data(), deflate=st.booleans())
def test_fuzz_edited_headers_and_entries_of_a_real_checkpoint(tmp_path, draw, deflate):
    """A file cr.save wrote, then its header tree and its .npy entries edited consistently
    enough to pass the zip's and the header's checksums: markers changed, nodes copied or
    dropped, entries renamed, dropped, given other shapes, dtypes or lengths. cr.load gives
    a CheckpointError or content of the promised kinds, within bounded memory."""
    saved, data = saved_bytes("npz")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        raw = {n[:-4]: zf.read(n) for n in zf.namelist()}
    tree = json.loads(np.load(io.BytesIO(raw.pop("__chainrule__"))).tobytes())["tree"]
    entries = dict(raw)
    for _ in range(draw.draw(st.integers(1, 3), label="edits")):
        kind = draw.draw(st.sampled_from(["field", "copy", "drop", "entry", "rename", "bytes"]))
        nodes = nodes_of(tree)
        target = nodes[draw.draw(st.integers(0, len(nodes) - 1))]
        if kind == "field":
            target[draw.draw(FIELDS)] = draw.draw(JSON_VALUES)
        elif kind in ("copy", "drop") and isinstance(target.get("items"), list) \
                and target["items"]:
            i = draw.draw(st.integers(0, len(target["items"]) - 1))
            if kind == "copy":
                target["items"].append(json.loads(json.dumps(target["items"][i])))
            else:
                del target["items"][i]
        elif kind == "entry" and entries:
            name = draw.draw(st.sampled_from(sorted(entries)))
            descr = draw.draw(DESCRS)
            shape = draw.draw(SHAPES)
            body = entries[name][128:] if len(entries[name]) >= 128 else b""
            entries[name] = npy(descr, shape, body, draw.draw(st.booleans()))
        elif kind == "rename" and entries:
            name = draw.draw(st.sampled_from(sorted(entries)))
            entries[draw.draw(NAMES)] = entries.pop(name)
        elif kind == "bytes" and entries:
            name = draw.draw(st.sampled_from(sorted(entries)))
            cut = draw.draw(st.integers(-16, 16))
            entries[name] = entries[name][:cut] if cut < 0 else entries[name] + bytes(cut)
    data = npz_file(tree, list(entries.items()),
                    zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED)
    refused_or_well_formed(tmp_path / "edited.npz", data)
