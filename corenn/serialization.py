"""``save``/``load``: nested dicts/lists of arrays and scalars as one .npz, never pickled.

The archive holds one ``.npy`` member per array (named after its place in the
structure) and a JSON header under ``__corenn__`` that describes the structure,
the plain values (numbers, strings, bools, None) and each array's dtype and shape.
"""
import errno
import json
import os
import re
import secrets
import zipfile
import zlib

import numpy as np

__all__ = ["save", "load", "CheckpointError"]

HEADER = "__corenn__"
FORMAT = "corenn-checkpoint"
VERSION = 1
_ZIP_MAGIC = b"PK\x03\x04"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


class CheckpointError(ValueError):
    """A file that is not a valid checkpoint written by :func:`save`."""


class _Encoder:
    def __init__(self):
        self.arrays = {}
        self.table = {}
        self._active = set()

    def name(self, path):
        base = _UNSAFE.sub("_", ".".join(path)) or "_"
        name, n = base, 1
        while name in self.arrays or name == HEADER:
            n += 1
            name = f"{base}__{n}"
        return name

    def array(self, arr, path):
        if arr.dtype.hasobject:
            raise TypeError(f"cannot save an object array at {_where(path)} (no pickling)")
        name = self.name(path)
        self.arrays[name] = arr
        self.table[name] = [str(arr.dtype), list(arr.shape)]
        return name

    def encode(self, obj, path):
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, np.ndarray):
            return {"a": self.array(obj, path)}
        if isinstance(obj, np.generic):
            return {"s": self.array(np.asarray(obj), path)}
        if isinstance(getattr(obj, "data", None), np.ndarray):  # a Tensor / Parameter
            return {"a": self.array(obj.data, path)}
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self._active:
                raise ValueError(f"cannot save a structure that contains itself (at {_where(path)})")
            self._active.add(id(obj))
            try:
                if isinstance(obj, dict):
                    return {"d": [[_key(k, path), self.encode(v, path + [str(k)])]
                                  for k, v in obj.items()]}
                items = [self.encode(v, path + [str(i)]) for i, v in enumerate(obj)]
                return {"t" if isinstance(obj, tuple) else "l": items}
            finally:
                self._active.discard(id(obj))
        raise TypeError(f"cannot save an object of type {type(obj).__name__} at {_where(path)}; "
                        "expected dict, list, tuple, ndarray, number, str, bool or None")


def _where(path):
    return "/".join(path) or "the top level"


def _key(k, path):
    if k is None or isinstance(k, (bool, int, float, str)):
        return k
    if isinstance(k, (np.integer, np.floating, np.bool_)):
        return k.item()
    raise TypeError(f"cannot save a dict key of type {type(k).__name__} at {_where(path)}")


def _write(fh, arrays, header, compress):
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(fh, mode="w", compression=mode, allowZip64=True) as zf:
        for name, arr in list(arrays.items()) + [(HEADER, np.array(header))]:
            with zf.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(arr), allow_pickle=False)


def save(obj, f, *, compress=False):
    """Write ``obj`` to ``f`` (a path, written exactly as given, or a binary file).

    ``obj`` is a nested dict/list/tuple of ndarrays, NumPy scalars, Tensors (their
    ``.data`` is stored; they load back as ndarrays), numbers, strings, bools and None.
    A path is written atomically: a temporary file in the same directory is
    fsynced and then renamed over ``f``, so a failure leaves an old file intact.
    """
    enc = _Encoder()
    tree = enc.encode(obj, [])
    header = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree, "arrays": enc.table})
    if hasattr(f, "write"):
        _write(f, enc.arrays, header, compress)
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write(fh, enc.arrays, header, compress)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(folder)


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(f):
    """Read what :func:`save` wrote. Raises FileNotFoundError for a missing path and
    :class:`CheckpointError` (a ValueError) for a truncated, corrupted or foreign file."""
    if hasattr(f, "read"):
        return _load(f, repr(getattr(f, "name", f)))
    path = os.fspath(f)
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        hint = f" (there is a '{path}.npz')" if os.path.exists(path + ".npz") else ""
        raise FileNotFoundError(errno.ENOENT, f"checkpoint file not found{hint}", path) from None
    with fh:
        return _load(fh, repr(path))


def _load(fh, label):
    magic = fh.read(len(_ZIP_MAGIC))
    fh.seek(-len(magic), os.SEEK_CUR)
    if not magic:
        raise CheckpointError(f"checkpoint {label} is empty")
    if magic != _ZIP_MAGIC:
        raise CheckpointError(f"checkpoint {label} is not an .npz archive written by corenn.save")
    try:
        with np.load(fh, allow_pickle=False) as npz:
            if HEADER not in npz.files:
                raise CheckpointError(f"checkpoint {label} has no '{HEADER}' header entry; "
                                      "it was not written by corenn.save")
            header = json.loads(str(npz[HEADER][()]))
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise CheckpointError(f"checkpoint {label} has a header of an unknown format")
            if header.get("version") != VERSION:
                raise CheckpointError(f"checkpoint {label} has format version "
                                      f"{header.get('version')!r}; this corenn reads {VERSION}")
            table = header["arrays"]
            extra = sorted(set(npz.files) - set(table) - {HEADER})
            if extra:
                raise CheckpointError(f"checkpoint {label} has unexpected entries {extra}")
            arrays = {}
            for name, (dtype, shape) in table.items():
                if name not in npz.files:
                    raise CheckpointError(f"checkpoint {label} is missing the array '{name}'")
                arr = npz[name]
                if str(arr.dtype) != dtype or list(arr.shape) != shape:
                    raise CheckpointError(
                        f"checkpoint {label}: array '{name}' has dtype {arr.dtype} and shape "
                        f"{arr.shape}, but the header says {dtype} and {tuple(shape)}")
                arrays[name] = arr
            return _decode(header["tree"], arrays)
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, TypeError, KeyError, IndexError, EOFError,
            OSError, UnicodeDecodeError, RuntimeError, AttributeError, zlib.error) as e:
        raise CheckpointError(f"checkpoint {label} is corrupted or truncated "
                              f"({type(e).__name__}: {e})") from e


def _decode(node, arrays):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict) and len(node) == 1:
        (tag, value), = node.items()
        if tag == "a":
            return arrays[value]
        if tag == "s":
            return arrays[value][()]
        if tag == "d":
            return {k: _decode(v, arrays) for k, v in value}
        if tag == "l":
            return [_decode(v, arrays) for v in value]
        if tag == "t":
            return tuple(_decode(v, arrays) for v in value)
    raise ValueError(f"malformed structure node {str(node)[:80]!r}")
