"""CIFAR-10 binary-version loader, on small fake .bin files written here."""
import numpy as np
import pytest

from corenn.datasets import CIFAR10_CLASSES, load_cifar10, read_cifar10_batch
from corenn.datasets.cifar10 import CIFAR10_ENV, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES


def records(labels, images):
    """The binary format by hand: per image 1 label byte, then the R, G and B planes row by row."""
    out = bytearray()
    for label, img in zip(labels, images):
        out.append(int(label))
        for c in range(3):
            for row in range(32):
                out += bytes(int(v) for v in img[c, row])
    return bytes(out)


def write_fake(folder, n_per_file=3, seed=0):
    """Six small batch files (+ batches.meta.txt); returns (x_train, y_train, x_test, y_test)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    xs, ys = [], []
    for name in CIFAR10_TRAIN_FILES + (CIFAR10_TEST_FILE,):
        x = rng.integers(0, 256, size=(n_per_file, 3, 32, 32), dtype=np.uint8)
        y = rng.integers(0, 10, size=n_per_file)
        (folder / name).write_bytes(records(y, x))
        xs.append(x)
        ys.append(y)
    (folder / "batches.meta.txt").write_text("\n".join(CIFAR10_CLASSES) + "\n")
    return np.concatenate(xs[:5]), np.concatenate(ys[:5]), xs[5], ys[5]


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv(CIFAR10_ENV, raising=False)


def test_record_layout_is_label_then_rgb_planes(tmp_path):
    img = np.zeros((3, 32, 32), dtype=np.uint8)
    img[0, 0, 1] = 11   # red, row 0, column 1
    img[1, 2, 0] = 22   # green, row 2, column 0
    img[2, 31, 31] = 33  # blue, last pixel
    raw = records([7], [img])
    assert len(raw) == 3073 and raw[0] == 7 and raw[1 + 1] == 11 and raw[1 + 1024 + 2 * 32] == 22
    path = tmp_path / "one.bin"
    path.write_bytes(raw)
    x, y = read_cifar10_batch(path)
    assert x.shape == (1, 3, 32, 32) and x.dtype == np.uint8 and y.dtype == np.int64
    assert y.tolist() == [7] and x[0, 0, 0, 1] == 11 and x[0, 1, 2, 0] == 22 and x[0, 2, 31, 31] == 33
    assert x.sum() == 66


@pytest.mark.parametrize("parent", [False, True])
def test_load_from_the_folder_or_its_parent(tmp_path, parent):
    expected = write_fake(tmp_path / "cifar-10-batches-bin")
    root = tmp_path if parent else tmp_path / "cifar-10-batches-bin"
    out = load_cifar10(root)
    assert [a.shape for a in out] == [(15, 3, 32, 32), (15,), (3, 3, 32, 32), (3,)]
    assert out[0].dtype == np.uint8 and out[1].dtype == np.int64
    for got, want in zip(out, expected):
        np.testing.assert_array_equal(got, want)


def test_env_var_and_normalize(tmp_path, monkeypatch):
    expected = write_fake(tmp_path / "cifar-10-batches-bin", seed=1)
    monkeypatch.setenv(CIFAR10_ENV, str(tmp_path))
    x_train, y_train, x_test, _ = load_cifar10(normalize=True)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    np.testing.assert_allclose(x_train, expected[0] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_train, expected[1])


def test_missing_file_is_named(tmp_path):
    write_fake(tmp_path)
    (tmp_path / "data_batch_3.bin").unlink()
    with pytest.raises(FileNotFoundError, match="missing data_batch_3.bin"):
        load_cifar10(tmp_path)


def test_nothing_found_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-bin"):
        load_cifar10(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=CIFAR10_ENV):
        load_cifar10()


def test_wrong_file_size_is_named(tmp_path):
    write_fake(tmp_path)
    path = tmp_path / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match=r"test_batch.bin: 9214 bytes is not a whole number"):
        load_cifar10(tmp_path)
    (tmp_path / "test_batch.bin").write_bytes(b"")
    with pytest.raises(ValueError, match="0 bytes"):
        load_cifar10(tmp_path)


def test_label_above_nine_is_named(tmp_path):
    write_fake(tmp_path)
    path = tmp_path / "data_batch_2.bin"
    raw = bytearray(path.read_bytes())
    raw[3073] = 12  # the second record's label byte
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"data_batch_2.bin: record 1 has label byte 12"):
        load_cifar10(tmp_path)


def test_never_unpickles(tmp_path):
    # a folder with only the Python version's pickles is not read
    (tmp_path / "data_batch_1").write_bytes(b"\x80\x04N.")
    with pytest.raises(FileNotFoundError):
        load_cifar10(tmp_path)
