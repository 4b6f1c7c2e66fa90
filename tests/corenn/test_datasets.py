import gzip
import os

import numpy as np
import pytest

from corenn.datasets import IDXFormatError, load_fashion_mnist, load_mnist, read_idx, write_idx
from corenn.datasets import fashion_mnist as fm

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_bytes(arr, code=0x08):
    header = bytes([0, 0, code, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def make_fake_dataset(directory, n_train=12, n_test=5, gz=True, seed=0):
    """Write four small IDX files (hand-built bytes) and return the arrays."""
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, size=n_train, dtype=np.uint8),
              rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, size=n_test, dtype=np.uint8)]
    os.makedirs(directory, exist_ok=True)
    for name, arr in zip(FILES, arrays):
        data = idx_bytes(arr)
        path = os.path.join(directory, name + (".gz" if gz else ""))
        with open(path, "wb") as f:
            f.write(gzip.compress(data) if gz else data)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_raw_and_gz(tmp_path, gz):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    path.write_bytes(gzip.compress(idx_bytes(arr)) if gz else idx_bytes(arr))
    out = read_idx(path)
    np.testing.assert_array_equal(out, arr)
    assert out.dtype == np.uint8 and out.flags.writeable


@pytest.mark.parametrize("dtype,code", [(np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C),
                                        (np.float32, 0x0D), (np.float64, 0x0E)])
def test_read_idx_big_endian_types(tmp_path, dtype, code):
    arr = (np.arange(6).reshape(3, 2) * 3 - 7).astype(dtype)
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(arr, code))
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


@pytest.mark.parametrize("name", ["w.idx", "w.idx.gz"])
def test_write_idx_round_trip(tmp_path, name):
    arr = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32)
    write_idx(tmp_path / name, arr)
    np.testing.assert_array_equal(read_idx(tmp_path / name), arr)
    assert (tmp_path / name).read_bytes()[:2] == (b"\x1f\x8b" if name.endswith(".gz") else b"\x00\x00")
    with pytest.raises(TypeError, match="no IDX type code"):
        write_idx(tmp_path / "bad", np.zeros(3, dtype=np.complex64))


def test_read_idx_errors_name_the_file(tmp_path):
    good = idx_bytes(np.zeros((4, 3), dtype=np.uint8))
    cases = {
        "magic": (b"\x12\x34" + good[2:], "bad IDX magic number 0x1234"),
        "typecode": (good[:2] + b"\x07" + good[3:], "bad IDX magic number"),
        "short": (good[:3], "too short for an IDX header"),
        "header": (good[:9], "truncated IDX header"),
        "trunc": (good[:-1], r"IDX data truncated: shape \(4, 3\) of uint8 needs 12 bytes, found 11"),
        "trailing": (good + b"\x00", "trailing bytes"),
        "zerodim": (b"\x00\x00\x08\x00", "0 dimensions"),
    }
    for name, (data, msg) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(IDXFormatError, match=msg) as info:
            read_idx(path)
        assert str(path) in str(info.value)
        assert isinstance(info.value, ValueError)
    # a gzip stream cut short, and a truncated (but valid-gzip) payload
    gz = gzip.compress(good)
    (tmp_path / "cut.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(IDXFormatError, match="corrupted or truncated gzip") as info:
        read_idx(tmp_path / "cut.gz")
    assert "cut.gz" in str(info.value)
    (tmp_path / "short.gz").write_bytes(gzip.compress(good[:-2]))
    with pytest.raises(IDXFormatError, match="truncated"):
        read_idx(tmp_path / "short.gz")
    with pytest.raises(FileNotFoundError, match="nope"):
        read_idx(tmp_path / "nope")


@pytest.mark.parametrize("gz", [True, False])
def test_load_fashion_mnist_from_fake_root(tmp_path, gz):
    arrays = make_fake_dataset(tmp_path / "fm", gz=gz)
    x_train, y_train, x_test, y_test = load_fashion_mnist(tmp_path / "fm")
    assert x_train.shape == (12, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (12,) and y_train.dtype == np.int64
    assert x_test.shape == (5, 28, 28) and y_test.shape == (5,)
    for got, want in zip((x_train, y_train, x_test, y_test), arrays):
        np.testing.assert_array_equal(got, want)
    xn, _, xt, _ = load_fashion_mnist(tmp_path / "fm", normalize=True, flatten=True)
    assert xn.shape == (12, 784) and xn.dtype == np.float32
    assert 0.0 <= xn.min() and xn.max() <= 1.0
    np.testing.assert_allclose(xn, arrays[0].reshape(12, -1) / 255.0, rtol=1e-6)


def test_load_from_env_var_and_mnist(tmp_path, monkeypatch):
    arrays = make_fake_dataset(tmp_path / "env", seed=1)
    monkeypatch.setenv("CORENN_FASHION_MNIST", str(tmp_path / "env"))
    np.testing.assert_array_equal(load_fashion_mnist()[1], arrays[1])
    # root takes precedence over the environment variable
    other = make_fake_dataset(tmp_path / "root", seed=2)
    np.testing.assert_array_equal(load_fashion_mnist(tmp_path / "root")[1], other[1])
    monkeypatch.setenv("CORENN_MNIST", str(tmp_path / "env"))
    np.testing.assert_array_equal(load_mnist()[3], arrays[3])
    np.testing.assert_array_equal(load_mnist(tmp_path / "root")[3], other[3])


def test_missing_data_error_says_where_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("CORENN_FASHION_MNIST", str(tmp_path / "from_env"))
    monkeypatch.setattr(fm, "FASHION_MNIST_DEFAULT_DIR", str(tmp_path / "system"))
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist(tmp_path / "given")
    msg = str(info.value)
    for where in ("given", "from_env", "system", "train-images-idx3-ubyte"):
        assert where in msg
    assert "apt-get install -y dataset-fashion-mnist" in msg and "CORENN_FASHION_MNIST" in msg
    monkeypatch.delenv("CORENN_MNIST", raising=False)
    with pytest.raises(FileNotFoundError, match="CORENN_MNIST"):
        load_mnist(tmp_path / "given")


def test_inconsistent_files_raise(tmp_path):
    make_fake_dataset(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(IDXFormatError, match="has 5 images but .* has 4 labels"):
        load_fashion_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(5, 12, dtype=np.uint8)))
    with pytest.raises(IDXFormatError, match="labels must be in 0..9"):
        load_fashion_mnist(tmp_path)


def test_real_fashion_mnist_if_installed():
    try:
        x_train, y_train, x_test, y_test = load_fashion_mnist()
    except FileNotFoundError:
        pytest.skip("Fashion-MNIST not installed (apt-get install -y dataset-fashion-mnist)")
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y_train), [6000] * 10)
    np.testing.assert_array_equal(np.bincount(y_test), [1000] * 10)
