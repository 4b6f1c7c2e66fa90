"""``save``/``load``: nested dicts/lists of arrays and scalars as one .npz, never pickled.

The archive holds one ``.npy`` member per array (named after its place in the
structure) and a JSON header under ``__corenn__`` that describes the structure,
the plain values (numbers, strings, bools, None) and each array's dtype and shape.

``load`` checks sizes before it reads data: every member's size in the zip directory
and its ``.npy`` header must agree with the JSON table, so a member that would inflate
beyond what the table declares (a decompression bomb) is refused unread; ``check=``
lets a caller inspect the declared shapes (:class:`ArraySpec`) before any array is read.
"""
import errno
import json
import os
import re
import secrets
import time
import zipfile
from typing import NamedTuple

import numpy as np

__all__ = ["save", "load", "CheckpointError", "ArraySpec", "remove_stale_temporary_files"]

HEADER = "__corenn__"
FORMAT = "corenn-checkpoint"
VERSION = 1
MAX_HEADER_BYTES = 64 * 2**20  # the JSON header member (structure, plain values, table)
STALE_TMP_SECONDS = 600  # a temporary file untouched this long belongs to no live save
_ZIP_MAGIC = b"PK\x03\x04"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")
_DTYPE_KINDS = "biufcmMUS"  # no objects, no structured or sub-array dtypes


class ArraySpec(NamedTuple):
    """What the file declares for one array (given to ``load(check=...)`` in place of the data)."""

    dtype: np.dtype
    shape: tuple

    @property
    def nbytes(self) -> int:
        n = self.dtype.itemsize
        for d in self.shape:
            n *= d
        return n


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
    A path is written atomically: a temporary file ``.<name>.<pid>.<random>.tmp`` in the
    same directory is fsynced and then renamed over ``f``, so a failure leaves an old
    file intact. Temporary files of the same target left by killed saves (their process
    is gone, or they are older than ``STALE_TMP_SECONDS``) are removed first.
    """
    enc = _Encoder()
    tree = enc.encode(obj, [])
    header = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree, "arrays": enc.table})
    if hasattr(f, "write"):
        _write(f, enc.arrays, header, compress)
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    remove_stale_temporary_files(path)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
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


def remove_stale_temporary_files(path) -> list:
    """Delete the temporary files that earlier, interrupted saves of ``path`` left behind.

    Only files named like this target's temporary files are candidates (other targets in
    the folder are never touched), and only stale ones go: their writing process is gone,
    or they were not modified for ``STALE_TMP_SECONDS``. Returns the paths removed.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    pattern = re.compile(r"\." + re.escape(os.path.basename(path)) + r"\.(?:(\d+)\.)?[0-9a-f]{12}\.tmp")
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        full = os.path.join(folder, name)
        try:
            age = time.time() - os.stat(full).st_mtime
        except OSError:
            continue
        pid = None if match.group(1) is None else int(match.group(1))
        if age > STALE_TMP_SECONDS or (pid is not None and not _process_alive(pid)):
            try:
                os.unlink(full)
                removed.append(full)
            except OSError:
                pass
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":  # no cheap check: rely on the file's age
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


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


def load(f, *, check=None):
    """Read what :func:`save` wrote. Raises FileNotFoundError for a missing path and
    :class:`CheckpointError` (a ValueError) for a truncated, corrupted or foreign file.

    Before any array data is read, every member's declared size and ``.npy`` header are
    checked against the JSON table, and ``check(skeleton)`` (if given) is called with the
    structure in which every array is an :class:`ArraySpec`; it may raise to refuse the
    file (its exception propagates unchanged).
    """
    if hasattr(f, "read"):
        return _load(f, repr(getattr(f, "name", f)), check)
    path = os.fspath(f)
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        hint = f" (there is a '{path}.npz')" if os.path.exists(path + ".npz") else ""
        raise FileNotFoundError(errno.ENOENT, f"checkpoint file not found{hint}", path) from None
    with fh:
        return _load(fh, repr(path), check)


def _load(fh, label, check):
    magic = fh.read(len(_ZIP_MAGIC))
    fh.seek(-len(magic), os.SEEK_CUR)
    if not magic:
        raise CheckpointError(f"checkpoint {label} is empty")
    if magic != _ZIP_MAGIC:
        raise CheckpointError(f"checkpoint {label} is not an .npz archive written by corenn.save")
    # zipfile and NumPy's .npy header parser raise many exception types on damaged bytes (BadZipFile,
    # ValueError, SyntaxError, tokenize.TokenError, NotImplementedError, ...): all mean a corrupted file.
    try:
        zf = zipfile.ZipFile(fh)
    except MemoryError:
        raise
    except Exception as e:
        raise _corrupted(label, e) from e
    with zf:
        try:
            tree, members, specs = _read_header(zf, label)
            skeleton = _decode(tree, specs, skeleton=True) if check is not None else None
        except (CheckpointError, MemoryError):
            raise
        except Exception as e:
            raise _corrupted(label, e) from e
        if check is not None:
            check(skeleton)
        try:
            arrays = {name: _read_data(zf, members[name], label) for name in specs}
            return _decode(tree, arrays)
        except (CheckpointError, MemoryError):
            raise
        except Exception as e:
            raise _corrupted(label, e) from e


def _corrupted(label, e):
    return CheckpointError(f"checkpoint {label} is corrupted or truncated ({type(e).__name__}: {e})")


def _read_header(zf, label):
    """-> (tree, {name: ZipInfo}, {name: ArraySpec}) after checking every member's declared size."""
    members = {}
    for info in zf.infolist():
        name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        if name in members:
            raise CheckpointError(f"checkpoint {label} is corrupted: the archive lists '{info.filename}' twice")
        members[name] = info
    if HEADER not in members:
        raise CheckpointError(f"checkpoint {label} has no '{HEADER}' header entry; "
                              "it was not written by corenn.save")
    info = members[HEADER]
    if info.file_size > MAX_HEADER_BYTES:
        raise CheckpointError(f"checkpoint {label} has a {info.file_size}-byte header; "
                              f"the limit is {MAX_HEADER_BYTES} bytes")
    dtype, shape = _member_header(zf, info, label, HEADER)
    if dtype.kind != "U" or shape != ():
        raise CheckpointError(f"checkpoint {label} is corrupted: its header entry is not a JSON string")
    header = json.loads(str(_read_data(zf, info, label)[()]))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {label} has a header of an unknown format")
    if header.get("version") != VERSION:
        raise CheckpointError(f"checkpoint {label} has format version "
                              f"{header.get('version')!r}; this corenn reads {VERSION}")
    table = header.get("arrays")
    if not isinstance(table, dict):
        raise CheckpointError(f"checkpoint {label} is corrupted: its header has no array table")
    extra = sorted(set(members) - set(table) - {HEADER})
    if extra:
        raise CheckpointError(f"checkpoint {label} has unexpected entries {extra}")
    specs = {}
    for name, entry in table.items():
        spec = _table_spec(label, name, entry)
        if name not in members:
            raise CheckpointError(f"checkpoint {label} is missing the array '{name}'")
        dtype, shape = _member_header(zf, members[name], label, name)
        if dtype != spec.dtype or shape != spec.shape:
            raise CheckpointError(
                f"checkpoint {label} is corrupted: array '{name}' has dtype {dtype} and shape "
                f"{shape}, but the header says {spec.dtype} and {spec.shape}")
        specs[name] = spec
    return header.get("tree"), members, specs


def _table_spec(label, name, entry) -> ArraySpec:
    ok = isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str) \
        and isinstance(entry[1], list) and len(entry[1]) <= 32 \
        and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in entry[1])
    if not ok:
        raise CheckpointError(f"checkpoint {label} is corrupted: the table entry of '{name}' is "
                              f"{str(entry)[:80]}, not [dtype, shape]")
    try:
        dtype = np.dtype(entry[0])
    except (TypeError, ValueError, SyntaxError) as e:
        raise CheckpointError(f"checkpoint {label}: array '{name}' has an unknown dtype {entry[0]!r}") from e
    if dtype.kind not in _DTYPE_KINDS or dtype.subdtype is not None or dtype.names is not None:
        raise CheckpointError(f"checkpoint {label}: array '{name}' has an unsupported dtype {entry[0]!r} "
                              "(numbers, bools and strings only)")
    return ArraySpec(dtype, tuple(entry[1]))


def _member_header(zf, info, label, name):
    """Read one member's .npy header (not its data) and check its size in the zip directory."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise CheckpointError(f"checkpoint {label}: array '{name}' uses an unsupported compression")
    with zf.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise CheckpointError(f"checkpoint {label}: array '{name}' has .npy format version {version}")
        header_len = member.tell()
    if dtype.hasobject:
        raise CheckpointError(f"checkpoint {label} is corrupted: array '{name}' holds Python objects "
                              "(never unpickled)")
    declared = ArraySpec(dtype, tuple(shape))
    if info.file_size != header_len + declared.nbytes:
        raise CheckpointError(
            f"checkpoint {label} is corrupted: array '{name}' occupies {info.file_size} bytes in the "
            f"archive, but its dtype {dtype} and shape {tuple(shape)} need {header_len + declared.nbytes}")
    return dtype, tuple(shape)


def _read_data(zf, info, label):
    with zf.open(info) as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _decode(node, arrays, skeleton=False):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, dict) and len(node) == 1:
        (tag, value), = node.items()
        if tag in ("a", "s"):
            if not isinstance(value, str) or value not in arrays:
                raise ValueError(f"structure node refers to an unknown array {str(value)[:80]!r}")
            return arrays[value] if tag == "a" or skeleton else arrays[value][()]
        if tag == "d" and isinstance(value, list):
            out = {}
            for item in value:
                if not isinstance(item, list) or len(item) != 2 or isinstance(item[0], (list, dict)):
                    raise ValueError(f"malformed dict entry {str(item)[:80]!r}")
                out[item[0]] = _decode(item[1], arrays, skeleton)
            return out
        if tag in ("l", "t") and isinstance(value, list):
            items = [_decode(v, arrays, skeleton) for v in value]
            return items if tag == "l" else tuple(items)
    raise ValueError(f"malformed structure node {str(node)[:80]!r}")
