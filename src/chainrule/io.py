"""Saving and loading state dicts in a safe format: NumPy's ``.npz`` or safetensors, never pickle.

A file holds the arrays as named entries plus one JSON header, ``__chainrule__``, that
records the structure (nested dicts with str or int keys, lists, tuples) and the plain
Python values. Loading never unpickles anything, so a file from a stranger cannot run code.
Writes are atomic: the data go to a temporary file in the same folder, are flushed to
disk, then renamed over the target, so a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import zipfile
import zlib
from collections.abc import Mapping

import numpy as np

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
    header = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree}, ensure_ascii=False)
    if path.endswith(".safetensors"):
        st = require("safetensors.numpy", "files", "saving .safetensors files")
        contiguous = {n: np.ascontiguousarray(a) for n, a in arrays.items()}
        data = st.save(contiguous, metadata={_HEADER: header})
        _atomic_write(path, lambda f: f.write(data))
    else:
        _atomic_write(path, lambda f: _write_npz(f, arrays, header))


def _array_name(path_keys, arrays):
    name = "/".join(str(k) for k in path_keys)
    # zip entry names must survive every platform's zipfile, which rewrites backslashes
    if not name or name.startswith("__") or "\x00" in name or "\\" in name or name in arrays:
        name = f"__array_{len(arrays)}__"
    while name in arrays:  # a user's key that happens to look like a fallback name
        name = f"__array_{len(arrays)}_{secrets.token_hex(2)}__"
    return name


def _encode(obj, arrays, keys, where):
    if isinstance(obj, Tensor):
        obj = np.asarray(obj.data)
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


def load(path):
    """Load what :func:`save` wrote, without ever unpickling.

    The format (``.npz`` or safetensors) is recognised from the file's content.

    Parameters
    ----------
    path : str or os.PathLike

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
        a pickle, an entry holding Python objects, or a file without chainrule's header
        (not written by ``cr.save``).

    Examples
    --------
    >>> net = cr.nn.Linear(2, 1)
    >>> cr.save(net.state_dict(), "net.npz")
    >>> sd = cr.load("net.npz")
    >>> sorted(sd), type(sd["weight"]).__name__
    (['bias', 'weight'], 'Tensor')
    >>> cr.nn.Linear(2, 1).load_state_dict(sd)           # (missing, unexpected) keys
    ([], [])
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        raise CheckpointError(path, "no such file") from None
    except IsADirectoryError:
        raise CheckpointError(path, "is a folder, not a checkpoint file") from None
    except OSError as e:
        raise CheckpointError(path, f"cannot read: {e.strerror or e}") from None
    if not head:
        raise CheckpointError(path, "the file is empty")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        tree, arrays = _read_npz(path)
    elif len(head) >= 9 and head[8:9] == b"{":
        tree, arrays = _read_safetensors(path)
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
        return _decode(path, tree, arrays)
    except RecursionError:
        raise CheckpointError(path, f"corrupt {_HEADER!r} header (nested too deeply)") from None


def _no_header(path):
    return CheckpointError(
        path, f"no {_HEADER!r} header: this file was not written by chainrule's save()"
    )


def _read_npz(path):
    try:
        with zipfile.ZipFile(path) as zf:
            entries = {n[:-4]: n for n in zf.namelist() if n.endswith(".npy")}
            if _HEADER not in entries:
                raise _no_header(path)
            header_array = _read_npz_entry(path, zf, entries[_HEADER])
            if header_array.dtype != np.uint8 or header_array.ndim != 1:
                raise CheckpointError(path, f"corrupt {_HEADER!r} header entry")
            tree = _parse_header(path, header_array.tobytes().decode("utf-8", errors="replace"))
            arrays = {}
            for name in _array_names(path, tree):
                if name not in entries:
                    raise CheckpointError(path, f"truncated or corrupt: entry {name!r} is missing")
                arrays[name] = _read_npz_entry(path, zf, entries[name])
    except CheckpointError:
        raise
    except Exception as e:  # zipfile and NumPy report damage in many ways
        raise CheckpointError(path, f"truncated or corrupt file ({e})") from None
    return tree, arrays


def _read_npz_entry(path, zf, entry):
    name = entry[:-4]
    readers = {
        (1, 0): np.lib.format.read_array_header_1_0,
        (2, 0): np.lib.format.read_array_header_2_0,
    }
    with zf.open(entry) as fp:
        version = np.lib.format.read_magic(fp)
        if version not in readers:
            raise CheckpointError(path, f"entry {name!r} uses unsupported .npy version {version}")
        shape, _, dtype = readers[version](fp)
        header_size = fp.tell()
    if dtype.hasobject:
        raise CheckpointError(
            path, f"entry {name!r} holds Python objects (pickled data), which chainrule refuses"
        )
    if dtype.kind not in _KINDS:
        raise CheckpointError(path, f"entry {name!r} has unsupported dtype {dtype}")
    needed = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if needed + header_size > zf.getinfo(entry).file_size:
        raise CheckpointError(path, f"truncated or corrupt: entry {name!r} is too short")
    with zf.open(entry) as fp:
        return np.lib.format.read_array(fp, allow_pickle=False)


def _read_safetensors(path):
    st = require("safetensors", "files", "loading .safetensors files")
    try:
        with st.safe_open(path, framework="np") as f:
            header = (f.metadata() or {}).get(_HEADER)
            if header is None:
                raise _no_header(path)
            tree = _parse_header(path, header)
            keys = set(f.keys())
            arrays = {}
            for name in _array_names(path, tree):
                if name not in keys:
                    raise CheckpointError(path, f"corrupt: entry {name!r} is missing")
                arrays[name] = np.array(f.get_tensor(name))
    except CheckpointError:
        raise
    except Exception as e:  # safetensors reports all damage as its own SafetensorError
        raise CheckpointError(path, f"truncated or corrupt file ({e})") from None
    return tree, arrays


def _parse_header(path, header):
    try:
        meta = json.loads(header)
    except (ValueError, RecursionError):
        raise CheckpointError(path, f"corrupt {_HEADER!r} header (not JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "tree" not in meta:
        raise _no_header(path)
    version = meta.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(
            path, f"format version {version!r} is newer than this chainrule reads ({VERSION})"
        )
    return meta["tree"]


def _array_names(path, tree):
    """Names of the array entries the structure refers to; checks the structure's shape."""
    names, stack = [], [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            raise CheckpointError(path, f"corrupt {_HEADER!r} header")
        if node.get("type") == "array":
            names.append(node.get("name"))
        elif node.get("type") in ("dict", "list", "tuple"):
            items = node.get("items")
            if not isinstance(items, list):
                raise CheckpointError(path, f"corrupt {_HEADER!r} header")
            is_dict = node["type"] == "dict"
            for item in items:
                if is_dict and not (isinstance(item, list) and len(item) == 2):
                    raise CheckpointError(path, f"corrupt {_HEADER!r} header")
                stack.append(item[1] if is_dict else item)
    if not all(isinstance(n, str) for n in names):
        raise CheckpointError(path, f"corrupt {_HEADER!r} header")
    return names


def _check_array(path, node, a):
    """The entry with the shape and dtype the header records (safetensors stores 0-d as 1-d)."""
    shape, dtype, crc = node.get("shape"), node.get("dtype"), node.get("crc32")
    if (
        not isinstance(shape, list)
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        or a.size != int(np.prod(shape, dtype=np.int64))
        or dtype != a.dtype.name
    ):
        raise CheckpointError(
            path,
            f"corrupt: entry {node['name']!r} has shape {a.shape} and dtype {a.dtype}, "
            f"but the header says {shape} and {dtype}",
        )
    if crc != _crc32(a):
        raise CheckpointError(path, f"corrupt: entry {node['name']!r} fails its checksum")
    return a.reshape(shape)


def _decode(path, tree, arrays):
    def decode(node):
        kind = node.get("type")
        if kind == "array":
            a = _check_array(path, node, arrays[node["name"]])
            return a[()] if node.get("scalar") else Tensor(a)
        if kind == "value":
            value = node.get("value")
            if value is not None and not isinstance(value, (bool, int, float, str)):
                raise CheckpointError(path, f"corrupt {_HEADER!r} header")
            return value
        if kind == "dict":
            out = {}
            for key, child in node["items"]:
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise CheckpointError(path, f"corrupt {_HEADER!r} header")
                out[key] = decode(child)
            return out
        if kind in ("list", "tuple"):
            items = [decode(child) for child in node["items"]]
            return items if kind == "list" else tuple(items)
        raise CheckpointError(path, f"corrupt {_HEADER!r} header (unknown node {kind!r})")

    return decode(tree)
