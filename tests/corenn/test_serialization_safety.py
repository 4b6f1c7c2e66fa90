"""corenn.load on hostile files: every declared size (zip directory, .npy header, JSON table) is checked before
any array is read, so a decompression bomb is refused unread; `check=` sees the declared shapes first; and
the temporary files of killed saves are removed by the next save of the same target, never another's.

`peak_rss_growth_mb` and the bomb builders here are shared with tests/rl/test_checkpoint_*.py.
"""
import io
import json
import os
import re
import struct
import subprocess
import sys
import time
import zipfile
import zlib

import numpy as np
import pytest

from corenn.serialization import STALE_TMP_SECONDS, ArraySpec, CheckpointError, load, save
from tests.corenn.test_serialization import _good_file, _npy, _rewrite, assert_same, nested


def _status_mb(key: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def peak_rss_growth_mb(fn):
    """(fn's result or exception, growth of the peak resident memory in MB while it ran; 0 where unmeasurable)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM (the peak) to the current resident size
        before = _status_mb("VmRSS")
    except OSError:
        before = None
    try:
        result = fn()
    except Exception as e:  # noqa: BLE001 - returned for the caller to check
        result = e
    peak = _status_mb("VmHWM")
    return result, (0.0 if before is None or peak is None else peak - before)

# ----------------------------------------------------------------------------- sizes checked before reading
def deflated_zeros(prefix: bytes, n_zeros: int, chunk: int = 1 << 20):
    """(raw deflate stream, crc32, size) of `prefix` + `n_zeros` zero bytes, built in milliseconds:
    after a full flush the compressor restarts, so one compressed block of zeros is repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)]
    block = c.compress(bytes(chunk)) + c.flush(zlib.Z_FULL_FLUSH)
    assert n_zeros % chunk == 0
    parts += [block] * (n_zeros // chunk) + [c.flush()]
    crc = zlib.crc32(prefix)
    zeros = bytes(chunk)
    for _ in range(n_zeros // chunk):
        crc = zlib.crc32(zeros, crc)
    return b"".join(parts), crc, len(prefix) + n_zeros


def npy_header(dtype, shape) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def write_zip(path, members):
    """A zip written by hand: members = [(name, stored bytes, method, crc, uncompressed size)]."""
    out, central = bytearray(), bytearray()
    for name, data, method, crc, size in members:
        encoded = name.encode()
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(data), size,
                               len(encoded), 0, 0, 0, 0, 0, len(out)) + encoded
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size,
                           len(encoded), 0) + encoded + data
    offset = len(out)
    out += central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), offset, 0)
    with open(path, "wb") as fh:
        fh.write(out)


def bomb(src, dst, name, npy_shape, n_zeros, table_shape=None, tree_fn=None):
    """Copy a corenn file, replacing member `name` by a deflate bomb: an .npy header of `npy_shape` followed by
    `n_zeros` zero bytes; `table_shape` also rewrites the JSON table's entry (a consistent bomb)."""
    with zipfile.ZipFile(src) as zf:
        members = {info.filename[:-4]: zf.read(info) for info in zf.infolist()}
    header = json.loads(str(np.load(io.BytesIO(members["__corenn__"]))[()]))
    if table_shape is not None:
        header["arrays"][name][1] = list(table_shape)
    if tree_fn is not None:
        tree_fn(header)
    members["__corenn__"] = _npy(np.array(json.dumps(header)))
    entries = []
    for member, data in members.items():
        if name is not None and member == name:
            stream, crc, size = deflated_zeros(npy_header(header["arrays"][name][0], npy_shape), n_zeros)
            entries.append((member + ".npy", stream, zipfile.ZIP_DEFLATED, crc, size))
        else:
            entries.append((member + ".npy", data, zipfile.ZIP_STORED, zlib.crc32(data), len(data)))
    write_zip(dst, entries)
    return dst


def test_hand_written_zip_is_a_valid_checkpoint(tmp_path):
    path = _good_file(tmp_path)
    copy = bomb(path, tmp_path / "copy.npz", "weights.fc.weight", (2, 3), 0)  # no zeros: just the header
    with pytest.raises(CheckpointError, match="occupies"):  # the header alone is not the 24 bytes it declares
        load(copy)
    assert_same(nested(), load(bomb(path, tmp_path / "same.npz", None, (), 0)))


GIB = 1 << 30


@pytest.mark.parametrize("npy_shape, table_shape, match", [
    ((2, 3), None, r"occupies 1073741\d+ bytes in the archive, but its dtype float32 and shape \(2, 3\) need"),
    ((16384, 16384), None, r"has dtype float32 and shape \(16384, 16384\), but the header says float32 and \(2, 3\)"),
])
def test_decompression_bomb_is_refused_before_inflating(tmp_path, npy_shape, table_shape, match):
    path = bomb(_good_file(tmp_path), tmp_path / "bomb.npz", "weights.fc.weight", npy_shape, GIB, table_shape)
    assert os.path.getsize(path) < 1.2e6
    result, growth = peak_rss_growth_mb(lambda: load(path))
    assert isinstance(result, CheckpointError) and re.search(match, str(result)), result
    assert growth < 32, f"refusing the bomb took {growth:.0f} MB"


def test_consistent_bomb_reaches_check_before_any_read(tmp_path):
    """A bomb the table declares honestly (1 GiB) is what the file says: `check` sees the size first and refuses."""
    path = bomb(_good_file(tmp_path), tmp_path / "bomb.npz", "weights.fc.weight", (16384, 16384), GIB,
                table_shape=(16384, 16384))
    seen = {}

    def check(skeleton):
        spec = skeleton["weights"]["fc.weight"]
        seen["spec"] = spec
        if spec.nbytes > 2**20:
            raise CheckpointError(f"weights/fc.weight declares {spec.nbytes} bytes")

    result, growth = peak_rss_growth_mb(lambda: load(path, check=check))
    assert isinstance(result, CheckpointError) and "declares 1073741824 bytes" in str(result)
    assert seen["spec"] == ArraySpec(np.dtype(np.float32), (16384, 16384))
    assert growth < 32


def test_check_sees_specs_and_scalars_as_specs(tmp_path):
    path = _good_file(tmp_path)
    seen = {}
    obj = load(path, check=lambda s: seen.update(s))
    assert seen["weights"]["fc.bias"] == ArraySpec(np.dtype(np.float64), (3,))
    assert seen["scalars"][5] == ArraySpec(np.dtype(np.float32), ())  # a NumPy scalar
    assert_same(nested(), obj)


@pytest.mark.parametrize("entry, match", [
    (["(2,)f8", [2, 3]], "unsupported dtype"),
    (["(1000000000,)f8", [2, 3]], "dtype"),
    (["object", [2, 3]], "unsupported dtype"),
    (["not-a-dtype", [2, 3]], "unknown dtype"),
    (["float32", [2, -3]], r"not \[dtype, shape\]"),
    (["float32", "2,3"], r"not \[dtype, shape\]"),
])
def test_table_entries_are_validated(tmp_path, entry, match):
    path = _good_file(tmp_path)
    with zipfile.ZipFile(path) as zf:
        header = json.loads(str(np.load(io.BytesIO(zf.read("__corenn__.npy")))[()]))
    header["arrays"]["weights.fc.weight"] = entry
    _rewrite(path, replace={"__corenn__.npy": _npy(np.array(json.dumps(header)))})
    with pytest.raises(CheckpointError, match=match):
        load(path)


@pytest.mark.parametrize("header, match", [
    ("[" * 100_000 + "]" * 100_000, "corrupted"),  # nesting deeper than the JSON parser's recursion
    (json.dumps({"format": "corenn-checkpoint", "version": 1, "arrays": {},
                 "tree": {"l": [{"l": []}] * 3 + [{"x": 1}]}}), "malformed structure"),
    (json.dumps({"format": "corenn-checkpoint", "version": 1, "arrays": {}, "tree": {"a": "missing"}}),
     "unknown array"),
    (json.dumps({"format": "corenn-checkpoint", "version": 1, "arrays": []}), "no array table"),
])
def test_malformed_headers(tmp_path, header, match):
    path = tmp_path / "h.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("__corenn__.npy", _npy(np.array(header)))
    with pytest.raises(CheckpointError, match=match):
        load(path)


def test_oversized_header_and_duplicate_members(tmp_path, monkeypatch):
    import corenn.serialization as ser

    path = _good_file(tmp_path)
    monkeypatch.setattr(ser, "MAX_HEADER_BYTES", 100)
    with pytest.raises(CheckpointError, match="-byte header; the limit is 100 bytes"):
        load(path)
    monkeypatch.undo()
    with zipfile.ZipFile(path, "a") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("weights.fc.bias.npy", _npy(np.zeros(3)))
    with pytest.raises(CheckpointError, match="lists 'weights.fc.bias.npy' twice"):
        load(path)


# ----------------------------------------------------------------------------- temporary files of killed saves
def _temp(folder, target, pid, age_s=0.0):
    name = folder / f".{target}.{pid}.{os.urandom(6).hex()}.tmp"
    name.write_bytes(b"partial")
    if age_s:
        t = time.time() - age_s
        os.utime(name, (t, t))
    return name


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_next_save_removes_stale_temporary_files_of_its_target_only(tmp_path):
    dead = _dead_pid()
    stale_dead = _temp(tmp_path, "ck.npz", dead)
    stale_old = _temp(tmp_path, "ck.npz", os.getppid(), age_s=STALE_TMP_SECONDS + 60)
    legacy = tmp_path / f".ck.npz.{os.urandom(6).hex()}.tmp"  # named by corenn before pids were added
    legacy.write_bytes(b"x")
    os.utime(legacy, (time.time() - STALE_TMP_SECONDS - 60,) * 2)
    live_same = _temp(tmp_path, "ck.npz", os.getppid())  # another process saving the same target right now
    other_target = _temp(tmp_path, "other.npz", dead)  # another target: never touched
    lookalike = _temp(tmp_path, "ck.npz.bak", dead)
    save({"v": np.ones(2)}, tmp_path / "ck.npz")
    left = set(os.listdir(tmp_path))
    assert not {stale_dead.name, stale_old.name, legacy.name} & left
    assert {live_same.name, other_target.name, lookalike.name, "ck.npz"} <= left


_KILLED_SAVE = """
import os, signal, sys
import numpy as np
from corenn.serialization import save
real = np.lib.format.write_array
calls = []
def write(fp, array, *a, **k):
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # killed in the middle of the archive
    return real(fp, array, *a, **k)
np.lib.format.write_array = write
save({"a": np.zeros(1 << 20), "b": np.zeros(1 << 20), "c": np.zeros(4)}, sys.argv[1])
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_killed_saves_leave_no_garbage_after_the_next_save(tmp_path):
    target = tmp_path / "agent.npz"
    for _ in range(3):
        proc = subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(target)], cwd=os.getcwd())
        assert proc.returncode == -9
    temps = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert len(temps) == 1 and not target.exists()  # each save removed the temporary file of the one before
    save({"a": np.ones(3)}, target)
    assert os.listdir(tmp_path) == ["agent.npz"]
    assert np.array_equal(load(target)["a"], np.ones(3))
