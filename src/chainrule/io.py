"""Saving and loading state dicts in a safe format: NumPy's ``.npz`` or safetensors, never pickle.

A file holds the arrays as named entries plus one JSON header, ``__chainrule__``, that
records the structure (nested dicts with str or int keys, lists, tuples) and the plain
Python values. Loading never unpickles anything, so a file from a stranger cannot run code.
Writes are atomic: the data go to a temporary file in the same folder, are flushed to
disk, then renamed over the target, so a crash mid-save leaves the previous file intact.

Tensors on another device or array library (a GPU's, ``array_api_strict``'s) are written
as host copies, so the file is the one the same values give from NumPy and records no
device; ``load`` puts the tensors on the CPU unless ``map_location`` names a device.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import zipfile
import zlib
from collections.abc import Mapping

import numpy as np

from . import backend as _backend
from ._extras import require
from .errors import UserError
from .tensor import Tensor

__all__ = ["CheckpointError", "save", "load"]

FORMAT = "chainrule"
VERSION = 1
_HEADER = "__chainrule__"
_KINDS = "biuf"  # bool, integer, unsigned, floating: the dtypes a Tensor holds


class CheckpointError(UserError):
    """A file that cannot be saved or loaded as a chainrule checkpoint; names the path and why.

    Examples
    --------
    >>> cr.load("missing.npz")
    Traceback (most recent call last):
        ...
    chainrule.io.CheckpointError: missing.npz: no such file
    """

    def __init__(self, path, reason):
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


# ---------------------------------------------------------------------------- saving


def save(obj, path):
    """Save a state dict (or any nest of dicts, lists and arrays) to ``path``, atomically.

    Parameters
    ----------
    obj : dict
        Values may be Tensors, NumPy arrays (bool, integer or floating), NumPy scalars,
        Python ``int``/``float``/``bool``/``str``/``None``, and nested dicts (str or int
        keys), lists and tuples — e.g. ``model.state_dict()`` or ``optimizer.state_dict()``.
    path : str or os.PathLike
        Written exactly as given. A name ending in ``.safetensors`` is written in the
        safetensors format (needs the ``files`` extra); any other name as NumPy ``.npz``.

    Notes
    -----
    The file is written to a temporary file next to ``path``, flushed and fsynced, then
    renamed over ``path``; an exception mid-save removes the temporary file and leaves
    any previous ``path`` untouched. After a hard kill a hidden ``.NAME.*.tmp`` file may
    remain; it is safe to delete.

    Examples
    --------
    >>> net = cr.nn.Linear(2, 1)
    >>> opt = cr.optim.Adam(net.parameters(), lr=0.01)
    >>> cr.save({"model": net.state_dict(), "opt": opt.state_dict(), "epoch": 3}, "ckpt.npz")
    >>> cr.load("ckpt.npz")["epoch"]
    3
    """
    path = os.fspath(path)
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, arrays, [], "obj")
    header = json.dumps(
        {"format": FORMAT, "version": VERSION, "tree": tree, "tree_crc32": _tree_crc32(tree)}
    )
    if path.endswith(".safetensors"):
        st = require("safetensors.numpy", "files", "saving .safetensors files")
        contiguous = {n: np.ascontiguousarray(a) for n, a in arrays.items()}
        data = st.save(contiguous, metadata={_HEADER: header})
        _atomic_write(path, lambda f: f.write(data))
    else:
        _atomic_write(path, lambda f: _write_npz(f, arrays, header))


def _array_name(path_keys, arrays):
    name = "/".join(str(k) for k in path_keys)
    # zip entry names must survive every platform's zipfile, which rewrites backslashes,
    # and be UTF-8 (a str key may hold a lone surrogate; the JSON header escapes it)
    if (not name or name.startswith("__") or "\x00" in name or "\\" in name or name in arrays
            or not _utf8(name)):
        name = f"__array_{len(arrays)}__"
    while name in arrays:  # a user's key that happens to look like a fallback name
        name = f"__array_{len(arrays)}_{secrets.token_hex(2)}__"
    return name


def _utf8(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _encode(obj, arrays, keys, where):
    if isinstance(obj, Tensor):
        obj = _host(obj.data)
    elif not isinstance(obj, (np.ndarray, np.generic)) and _backend._is_array(obj):
        obj = _host(obj)
    if isinstance(obj, (np.ndarray, np.generic)):
        a = np.asarray(obj)
        if a.dtype.kind not in _KINDS:
            raise TypeError(
                f"cannot save {where}: arrays of dtype {a.dtype} are not supported "
                "(bool, integer and floating only)"
            )
        if not a.dtype.isnative:
            a = a.astype(a.dtype.newbyteorder("="))
        name = _array_name(keys, arrays)
        arrays[name] = a
        return {
            "type": "array",
            "name": name,
            "shape": list(a.shape),
            "dtype": a.dtype.name,
            "scalar": isinstance(obj, np.generic),
            "crc32": _crc32(a),
        }
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"type": "value", "value": obj}
    if isinstance(obj, Mapping):
        items = []
        for k, v in obj.items():
            if isinstance(k, np.integer):
                k = int(k)
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(
                    f"cannot save {where}: keys must be str or int, got {type(k).__name__} {k!r}"
                )
            items.append([k, _encode(v, arrays, keys + [k], f"{where}[{k!r}]")])
        return {"type": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        items = [_encode(v, arrays, keys + [i], f"{where}[{i}]") for i, v in enumerate(obj)]
        return {"type": kind, "items": items}
    raise TypeError(
        f"cannot save {where}: values of type {type(obj).__name__} are not supported "
        "(Tensors, NumPy arrays, int, float, bool, str, None, dicts, lists, tuples)"
    )


def _host(a):
    """``a`` as a NumPy array; an array of another library (a GPU's, say) is copied to the
    host, so the file is the one the same values give from NumPy."""
    if isinstance(a, np.ndarray):
        return a
    try:
        b = _backend.of(a)
    except TypeError:  # no array library here knows it: _encode names its type
        return a
    return np.asarray(a) if b is None else b.to_host(a)


def _tree_crc32(tree):
    # the header's own checksum: safetensors checks nothing in its metadata (zip would)
    return zlib.crc32(json.dumps(tree).encode("ascii"))


def _crc32(a):
    # safetensors has no checksum of its own; this catches silently flipped bits in both formats
    return zlib.crc32(np.ascontiguousarray(a).reshape(-1).view(np.uint8))


def _write_npz(f, arrays, header):
    header_array = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, a in [(_HEADER, header_array), *arrays.items()]:
            with zf.open(name + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, a, allow_pickle=False)


def _atomic_write(path, write):
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CheckpointError(path, f"cannot save: the folder {directory} does not exist")
    if os.path.isdir(path):
        raise CheckpointError(path, "cannot save: it is a folder")
    base = os.path.basename(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # like open(): the umask decides the mode
            break
        except FileExistsError:
            continue
        except OSError as e:
            raise CheckpointError(path, f"cannot save: {e.strerror or e}") from e
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise CheckpointError(path, f"cannot save: {e.strerror or e}") from e
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX; Windows cannot open a folder for fsync)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # the file is saved; only the extra durability step is lost
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems do not support fsync on folders
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- loading

# A deflated stream expands at most about 1032 times (RFC 1951's longest match per
# code); a zip entry claiming more is a lie, told to make the reader allocate.
_DEFLATE_RATIO = 1032
_READ_CHUNK = 1 << 20
_MAX_NDIM = 64
_ST_DTYPES = {  # safetensors names of the dtypes a Tensor holds
    "BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "F16", "F32", "F64",
}


def load(path, map_location=None):
    """Load what :func:`save` wrote, without ever unpickling.

    The format (``.npz`` or safetensors) is recognised from the file's content.

    Parameters
    ----------
    path : str or os.PathLike
    map_location : optional
        Where the tensors go: None or ``"cpu"`` (the default) loads them as NumPy
        arrays; any device ``cr.tensor(device=...)`` takes moves them there, e.g.
        ``"cuda"``, ``"cuda:1"``, ``"array_api_strict:device1"`` or a library's device
        object. NumPy scalars (step counts) stay NumPy scalars.

    Returns
    -------
    object
        The saved structure: dicts (str and int keys as saved), lists, tuples and plain
        values as saved; every array comes back as a ``cr.Tensor`` (without gradient),
        and NumPy scalars as NumPy scalars.

    Raises
    ------
    CheckpointError
        Naming the path and the reason: no such file, empty, truncated or corrupt,
        a pickle, an entry holding Python objects or of a dtype a Tensor cannot hold,
        entries whose sizes do not add up, a header that does not match the entries,
        or a file without chainrule's header (not written by ``cr.save``). Nothing
        else: any damage to a file gives this error or, where it is harmless, the
        saved content.
    ValueError, TypeError, ImportError or RuntimeError
        For a ``map_location`` that names no device, or one this machine cannot use
        (``"cuda"`` without CuPy says what to install); raised before the file is read.

    Notes
    -----
    Unlike ``torch.load``, which puts each tensor back on the device it was saved from,
    ``load`` puts everything on the CPU unless ``map_location`` says otherwise: a file
    records no device (:func:`save` writes host copies, byte for byte the file the same
    values give from NumPy), so a checkpoint written on a GPU loads on a machine without
    one. Pass ``map_location`` (or call ``model.to(device)`` after
    ``load_state_dict``) to train on a device again.

    Memory is bounded by the file: an array is allocated only once its entry is known
    to hold that many bytes (a compressed ``.npz`` entry may expand at most as far as
    deflate can, about 1032 times). With ``map_location``, the arrays are read to the
    host first, then moved.

    Examples
    --------
    >>> net = cr.nn.Linear(2, 1)
    >>> cr.save(net.state_dict(), "net.npz")
    >>> sd = cr.load("net.npz")
    >>> sorted(sd), type(sd["weight"]).__name__
    (['bias', 'weight'], 'Tensor')
    >>> cr.nn.Linear(2, 1).load_state_dict(sd)           # (missing, unexpected) keys
    ([], [])
    >>> cr.load("net.npz", map_location="array_api_strict:device1")["weight"].device
    'array_api_strict:device1'
    """
    path = os.fspath(path)
    place = _placement(map_location)
    try:
        with open(path, "rb") as f:
            head = f.read(16)
            size = os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        raise CheckpointError(path, "no such file") from None
    except IsADirectoryError:
        raise CheckpointError(path, "is a folder, not a checkpoint file") from None
    except OSError as e:
        raise CheckpointError(path, f"cannot read: {e.strerror or e}") from None
    if not head:
        raise CheckpointError(path, "the file is empty")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        reader = _load_npz
    elif len(head) >= 9 and head[8:9] == b"{":
        reader = _load_safetensors
    elif head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        raise CheckpointError(
            path, "is a Python pickle; chainrule never loads pickles, which can run any code"
        )
    elif head.startswith(b"\x93NUMPY"):
        raise CheckpointError(path, "is a single NumPy .npy array, not a chainrule checkpoint")
    else:
        raise CheckpointError(
            path, "not a chainrule checkpoint (neither .npz nor safetensors content)"
        )
    try:
        out = reader(path, size)
    except CheckpointError:
        raise
    except RecursionError:
        raise CheckpointError(path, f"corrupt {_HEADER!r} header (nested too deeply)") from None
    except Exception as e:  # zipfile, NumPy and safetensors report damage in many ways
        raise CheckpointError(path, f"truncated or corrupt file ({_first_line(e)})") from None
    return out if place is None else _placed(out, place)


def _placement(map_location):
    """The device ``load`` moves tensors to (None: stay NumPy), checked before reading."""
    if map_location is None or isinstance(map_location, str) and map_location == "cpu":
        return None
    try:
        _backend.move(np.zeros(0), map_location)
    except Exception as e:  # an unknown name, a missing library, no GPU
        kind = next((c for c in (ImportError, TypeError, ValueError) if isinstance(e, c)),
                    RuntimeError)
        raise kind(f"cr.load: map_location={map_location!r} is not a device this machine can "
                   f"use ({str(e).rstrip('.')}); leave it out (or pass 'cpu') to load to "
                   "NumPy") from None
    return map_location


def _placed(obj, device):
    """The loaded structure with every Tensor moved to ``device``."""
    if isinstance(obj, Tensor):
        return Tensor(_backend.move(obj.data, device))
    if isinstance(obj, dict):
        return {k: _placed(v, device) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_placed(v, device) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_placed(v, device) for v in obj)
    return obj


def _first_line(e):
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _no_header(path):
    return CheckpointError(
        path, f"no {_HEADER!r} header: this file was not written by chainrule's save()"
    )


class _Entries:
    """The arrays of one file by name, each read when the header first refers to it."""

    def __init__(self, path, names, read):
        self.path, self.left, self.taken, self.read = path, set(names), set(), read

    def take(self, name):
        if name not in self.left:
            raise CheckpointError(
                self.path, f"corrupt {_HEADER!r} header: entry {name!r} is "
                + ("referred to twice" if name in self.taken else "missing")
            )
        self.left.remove(name)
        self.taken.add(name)
        return self.read(name)

    def check_all_taken(self):
        if self.left:
            raise CheckpointError(
                self.path, f"corrupt {_HEADER!r} header: it does not mention entry "
                f"{sorted(self.left)[0]!r}"
            )


def _load_npz(path, size):
    with zipfile.ZipFile(path) as zf:
        members = _npz_members(path, zf, size)
        if _HEADER not in members:
            raise _no_header(path)
        header_array = _read_npz_entry(path, zf, members.pop(_HEADER), _HEADER)
        if header_array.dtype != np.uint8 or header_array.ndim != 1:
            raise CheckpointError(path, f"corrupt {_HEADER!r} header entry")
        tree = _parse_header(path, header_array.tobytes().decode("utf-8", errors="replace"))
        entries = _Entries(path, members, lambda n: _read_npz_entry(path, zf, members[n], n))
        return _decode(path, tree, entries)


def _npz_members(path, zf, size):
    """``{array name: ZipInfo}``, after checking that the entries' sizes add up."""
    members, spans = {}, []
    for info in zf.infolist():
        name = info.filename
        if not name.endswith(".npy"):
            raise CheckpointError(path, f"corrupt: unexpected zip member {name!r}")
        if name[:-4] in members:
            raise CheckpointError(path, f"corrupt: entry {name[:-4]!r} appears twice")
        if info.compress_type == zipfile.ZIP_STORED:
            plausible = info.file_size == info.compress_size
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            plausible = info.file_size <= _DEFLATE_RATIO * info.compress_size + 1024
        else:
            raise CheckpointError(
                path, f"entry {name[:-4]!r} uses zip compression method {info.compress_type}; "
                "chainrule reads stored or deflated entries"
            )
        if not plausible or info.header_offset + info.compress_size > size:
            raise CheckpointError(
                path, f"truncated or corrupt: entry {name[:-4]!r} claims {info.file_size} "
                f"bytes from {info.compress_size} in a file of {size}"
            )
        members[name[:-4]] = info
        spans.append((info.header_offset, info.header_offset + info.compress_size, name))
    spans.sort()
    for (_, end, a), (start, _, b) in zip(spans, spans[1:]):
        if start < end:
            raise CheckpointError(path, f"corrupt: zip entries {a!r} and {b!r} overlap")
    return members


def _read_npz_entry(path, zf, info, name):
    """One ``.npy`` entry, allocated only once its header's size matches the entry's."""
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }
    with zf.open(info) as fp:
        try:
            version = np.lib.format.read_magic(fp)
            if version not in readers:
                raise CheckpointError(
                    path, f"entry {name!r} uses unsupported .npy version {version}"
                )
            shape, fortran, dtype = readers[version](fp)
        except ValueError as e:  # NumPy's word for a garbled .npy header
            raise CheckpointError(
                path, f"truncated or corrupt: entry {name!r} has a bad .npy header "
                f"({_first_line(e)})"
            ) from None
        if dtype.hasobject:
            raise CheckpointError(
                path, f"entry {name!r} holds Python objects (pickled data), which chainrule "
                "refuses"
            )
        if dtype.kind not in _KINDS or dtype.shape:
            raise CheckpointError(path, f"entry {name!r} has unsupported dtype {dtype}")
        if len(shape) > _MAX_NDIM or any(d < 0 for d in shape):
            raise CheckpointError(path, f"corrupt: entry {name!r} has shape {shape}")
        count = math.prod(shape)
        if fp.tell() + count * dtype.itemsize != info.file_size:
            raise CheckpointError(
                path, f"truncated or corrupt: entry {name!r} of shape {shape} and dtype "
                f"{dtype} needs {count * dtype.itemsize} bytes of data, the entry holds "
                f"{info.file_size - fp.tell()}"
            )
        out = np.empty(count, dtype=dtype)
        buf = out.view(np.uint8)
        done = 0
        while done < buf.size:
            chunk = fp.read(min(_READ_CHUNK, buf.size - done))
            if not chunk:
                raise CheckpointError(path, f"truncated or corrupt: entry {name!r} is too short")
            buf[done:done + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
            done += len(chunk)
        if fp.read(1):  # also makes zipfile check the entry's CRC at its end
            raise CheckpointError(path, f"truncated or corrupt: entry {name!r} is too long")
    if fortran:
        return out.reshape(shape[::-1]).transpose()
    return out.reshape(shape)


def _load_safetensors(path, size):
    st = require("safetensors", "files", "loading .safetensors files")
    with st.safe_open(path, framework="np") as f:
        header = (f.metadata() or {}).get(_HEADER)
        if header is None:
            raise _no_header(path)
        tree = _parse_header(path, header)

        def read(name):
            dtype = f.get_slice(name).get_dtype()
            if dtype not in _ST_DTYPES:
                raise CheckpointError(path, f"entry {name!r} has unsupported dtype {dtype}")
            return f.get_tensor(name)

        return _decode(path, tree, _Entries(path, f.keys(), read))


def _parse_header(path, header):
    try:
        meta = json.loads(header)
    except (ValueError, RecursionError):
        raise CheckpointError(path, f"corrupt {_HEADER!r} header (not JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "tree" not in meta:
        raise _no_header(path)
    version = meta.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version > VERSION:
        raise CheckpointError(
            path, f"format version {version!r} is newer than this chainrule reads ({VERSION})"
        )
    if "tree_crc32" in meta or set(meta) != {"format", "version", "tree"}:  # else: older file
        if meta.get("tree_crc32") != _tree_crc32(meta["tree"]):
            raise CheckpointError(path, f"corrupt {_HEADER!r} header (fails its checksum)")
    return meta["tree"]


def _decode(path, tree, entries):
    """The saved object from its header ``tree``, reading each entry the tree refers to."""

    def corrupt(why):
        return CheckpointError(path, f"corrupt {_HEADER!r} header ({why})")

    def decode(node):
        kind = node.get("type") if isinstance(node, dict) else None
        if kind == "array":
            return _array(path, node, entries, corrupt)
        if kind == "value":
            value = node.get("value")
            if value is not None and not isinstance(value, (bool, int, float, str)):
                raise corrupt(f"a value of type {type(value).__name__}")
            return value
        items = node.get("items") if kind in ("dict", "list", "tuple") else None
        if not isinstance(items, list):
            raise corrupt(f"a node {str(node)[:60]}")
        if kind == "dict":
            out = {}
            for item in items:
                if not (isinstance(item, list) and len(item) == 2):
                    raise corrupt("a dict item that is not a [key, value] pair")
                key = item[0]
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise corrupt(f"a dict key {key!r}")
                if key in out:
                    raise corrupt(f"the dict key {key!r} twice")
                out[key] = decode(item[1])
            return out
        items = [decode(child) for child in items]
        return items if kind == "list" else tuple(items)

    out = decode(tree)
    entries.check_all_taken()
    return out


def _array(path, node, entries, corrupt):
    """The entry an array node refers to, with the shape, dtype and checksum it records
    (safetensors stores 0-d arrays as 1-d)."""
    name, shape, dtype = node.get("name"), node.get("shape"), node.get("dtype")
    crc, scalar = node.get("crc32"), node.get("scalar", False)
    if (
        not isinstance(name, str)
        or not isinstance(shape, list)
        or len(shape) > _MAX_NDIM
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        or not isinstance(scalar, bool)
        or (scalar and shape)
    ):
        raise corrupt(f"an array node {str(node)[:80]}")
    a = entries.take(name)
    if a.size != math.prod(shape) or dtype != a.dtype.name:
        raise CheckpointError(
            path,
            f"corrupt: entry {name!r} has shape {a.shape} and dtype {a.dtype}, "
            f"but the header says {shape} and {dtype}",
        )
    if crc != _crc32(a):
        raise CheckpointError(path, f"corrupt: entry {name!r} fails its checksum")
    a = a.reshape(shape)
    return a[()] if scalar else Tensor(a)
