"""save/load: round trips, no pickle, atomic writes, clear errors on bad files (sizes checked before
reading and temporary files of killed saves: test_serialization_safety.py)."""
import io
import json
import math
import os
import struct
import zipfile

import numpy as np
import pytest

from corenn.nn import Parameter
from corenn.serialization import CheckpointError, load, save


def nested():
    return {
        "weights": {"fc.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
                    "fc.bias": np.zeros(3, dtype=np.float64)},
        "state": {0: {"step": 3, "exp_avg": np.full((2, 2), 0.5, dtype=np.float32)},
                  7: {"flags": np.array([True, False]), "ids": np.arange(4, dtype=np.int64)}},
        "groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 7], "name": None}],
        "scalars": [1, -2.5, True, "text / with.odd:chars", math.inf, np.float32(1.5), np.int64(7)],
        "empty": {"arr": np.zeros((0, 3), dtype=np.float16), "list": [], "dict": {},
                  "zero_d": np.array(2.0)},
        "keys": {1.5: "float key", False: "bool key", None: "none key", "1": "str key"},
    }


def assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert type(k) is type(next(x for x in b if x == k))
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    else:
        assert a == b


def test_round_trip_preserves_structure_types_and_values(tmp_path):
    obj = nested()
    save(obj, tmp_path / "ck.npz")
    assert_same(obj, load(tmp_path / "ck.npz"))
    assert_same(obj, load(str(tmp_path / "ck.npz")))


def test_nan_and_top_level_array(tmp_path):
    save({"x": math.nan}, tmp_path / "a")
    assert math.isnan(load(tmp_path / "a")["x"])
    arr = np.random.default_rng(0).standard_normal((3, 4))
    save(arr, tmp_path / "b")
    assert np.array_equal(load(tmp_path / "b"), arr)


def test_writes_exactly_the_given_path_as_a_plain_npz(tmp_path):
    save({"w": np.ones(3, dtype=np.float32)}, tmp_path / "model.ckpt")
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt"]
    with np.load(tmp_path / "model.ckpt", allow_pickle=False) as npz:
        assert np.array_equal(npz["w"], np.ones(3))
        header = json.loads(str(npz["__corenn__"]))
    assert header["format"] == "corenn-checkpoint"


def test_tensors_are_saved_as_their_data(tmp_path):
    p = Parameter(np.arange(4, dtype=np.float32))
    save({"p": p}, tmp_path / "t.npz")
    out = load(tmp_path / "t.npz")["p"]
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert np.array_equal(out, p.data)


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    save(nested(), buf)
    buf.seek(0)
    assert_same(nested(), load(buf))


def test_unsupported_objects_raise_and_leave_no_file(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(TypeError, match=r"object of type object at a/1"):
        save({"a": [1, object()]}, path)
    with pytest.raises(TypeError, match="object array"):
        save({"a": np.array([None, 1])}, path)
    with pytest.raises(TypeError, match="dict key of type tuple"):
        save({(1, 2): 3}, path)
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        save(loop, path)
    assert os.listdir(tmp_path) == []


def test_failed_save_does_not_clobber_existing_file(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    save({"v": np.ones(3)}, path)
    with pytest.raises(TypeError):
        save({"v": np.zeros(3), "bad": {1, 2}}, path)
    assert np.array_equal(load(path)["v"], np.ones(3))

    # a failure in the middle of writing the archive
    real_write = np.lib.format.write_array
    calls = []

    def failing_write(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full (simulated)")
        return real_write(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError, match="simulated"):
        save({"v": np.zeros(3), "w": np.zeros(5), "u": np.zeros(2)}, path)
    monkeypatch.undo()
    assert np.array_equal(load(path)["v"], np.ones(3))
    assert os.listdir(tmp_path) == ["ck.npz"]  # no temporary file left behind


def test_missing_file(tmp_path):
    path = tmp_path / "nope.npz"
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load(path)
    save({}, tmp_path / "there.npz")
    with pytest.raises(FileNotFoundError, match=r"there is a '.*there\.npz'"):
        load(tmp_path / "there")


def _good_file(tmp_path):
    path = tmp_path / "ck.npz"
    save(nested(), path)
    return path


def test_truncated_file(tmp_path):
    path = _good_file(tmp_path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 10):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="ck.npz.*corrupted or truncated"):
            load(path)


def test_corrupted_array_bytes(tmp_path):
    path = _good_file(tmp_path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("weights.fc.weight.npy")
    # flip a byte of the last stored float (after the zip local header and the .npy header)
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    pos = info.header_offset + 30 + name_len + extra_len + info.file_size - 2
    data[pos] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupted.*CRC"):
        load(path)


@pytest.mark.parametrize("content,match", [
    (b"", "is empty"),
    (b"not a checkpoint at all", "not an .npz archive"),
])
def test_foreign_bytes(tmp_path, content, match):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match):
        load(path)


def test_plain_npz_without_header(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.ones(2))
    with pytest.raises(CheckpointError, match="no '__corenn__' header"):
        load(path)
    np.save(tmp_path / "arr.npy", np.ones(2))
    with pytest.raises(CheckpointError, match="not an .npz archive"):
        load(tmp_path / "arr.npy")


def _rewrite(path, drop=None, replace=None):
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if n != drop}
    members.update(replace or {})
    with zipfile.ZipFile(path, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def test_tampered_archives(tmp_path):
    path = _good_file(tmp_path)
    _rewrite(path, drop="state.0.exp_avg.npy")
    with pytest.raises(CheckpointError, match="missing the array 'state.0.exp_avg'"):
        load(path)

    path = _good_file(tmp_path)
    _rewrite(path, replace={"state.0.exp_avg.npy": _npy(np.zeros(5, np.float32))})
    with pytest.raises(CheckpointError, match="'state.0.exp_avg' has dtype float32 and shape"):
        load(path)

    path = _good_file(tmp_path)
    _rewrite(path, replace={"extra.npy": _npy(np.zeros(1))})
    with pytest.raises(CheckpointError, match="unexpected entries"):
        load(path)

    path = _good_file(tmp_path)
    _rewrite(path, replace={"__corenn__.npy": _npy(np.array("{not json"))})
    with pytest.raises(CheckpointError, match="corrupted"):
        load(path)

    path = _good_file(tmp_path)
    _rewrite(path, replace={"__corenn__.npy": _npy(np.array('{"format": "other"}'))})
    with pytest.raises(CheckpointError, match="unknown format"):
        load(path)

    path = _good_file(tmp_path)
    _rewrite(path, replace={"weights.fc.bias.npy": _npy(np.array([None, 1.0, 2.0]))})
    with pytest.raises(CheckpointError, match="corrupted"):  # an object array is never unpickled
        load(path)


def test_compressed_round_trip(tmp_path):
    obj = {"w": np.zeros((100, 100), dtype=np.float32)}
    save(obj, tmp_path / "c.npz", compress=True)
    assert (tmp_path / "c.npz").stat().st_size < 10_000
    assert_same(obj, load(tmp_path / "c.npz"))

