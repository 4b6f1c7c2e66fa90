"""The generative trainer: exact resume, checkpoints and their validation, data loading, image grids, NaN stops.

A tiny GenerativeModel defined here (a noisy linear autoencoder on 8x8 images) stands in for the real models, so
these tests do not depend on them; it draws noise both from the step's rng and from corenn's generator, so an
exact resume needs both seeded as the trainer promises.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import corenn
from corenn import CheckpointError, nn, optim
from corenn.datasets import write_idx
from generative.core import checkpoint as ckpt_mod
from generative.core.base import GenerativeModel
from generative.core.data import DataError, load_image_dataset, to_data_range
from generative.core.images import make_grid, save_grid, save_png
from generative.core.trainer import RunConfigError, TrainConfig, checked_losses, grid_labels, train
from generative.registry import MODELS


class TinyModel(GenerativeModel):
    """x (B, C, H, W) -> Linear -> tanh -> Linear, MSE to x; samples are sigmoid(net(uniform noise))."""

    name = "tiny"
    data_range = "binary"

    @classmethod
    def default_hparams(cls) -> dict:
        return {"lr": 0.01, "hidden": 6, "nan_at_step": -1, "raise_on_nan": False, "conditional": False}

    def __init__(self, image_shape=(1, 28, 28), num_classes=10, **hparams):
        super().__init__(image_shape, num_classes, **hparams)
        self.conditional = bool(self.hparams["conditional"])
        self.dim = int(np.prod(self.image_shape))
        self.net = nn.Sequential(nn.Linear(self.dim + num_classes, self.hparams["hidden"]), nn.Tanh(),
                                 nn.Linear(self.hparams["hidden"], self.dim))
        self.opt = optim.Adam(self.net.parameters(), lr=self.hparams["lr"])
        self.steps = 0

    def modules(self):
        return {"net": self.net}

    def optimizers(self):
        return {"opt": self.opt}

    def extra_state(self):
        return {"steps": self.steps}

    def load_extra_state(self, state):
        self.steps = int(state["steps"])

    def _inputs(self, flat, y):
        onehot = np.zeros((len(flat), self.num_classes), np.float32)
        if y is not None:
            onehot[np.arange(len(flat)), y] = 1.0
        return corenn.tensor(np.concatenate([flat, onehot], axis=1))

    def train_step(self, x, y, rng):
        flat = x.reshape(len(x), -1)
        noisy = flat + 0.1 * rng.standard_normal(flat.shape).astype(np.float32) + 0.1 * corenn.randn(*flat.shape).data
        loss = ((self.net(self._inputs(noisy, y if self.conditional else None)) - corenn.tensor(flat)) ** 2).mean()
        if self.steps == self.hparams["nan_at_step"]:
            loss = loss * float("nan")
            if self.hparams["raise_on_nan"]:  # what real models do: name the loss themselves
                raise FloatingPointError("TinyModel: loss=nan")
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.steps += 1
        return {"loss": loss.item(), "mean_x": float(x.mean())}

    def sample(self, n, labels=None, rng=None):
        labels = self.check_labels(labels, n)
        rng = np.random.default_rng() if rng is None else rng
        z = rng.random((n, self.dim), dtype=np.float32)
        out = self.net(self._inputs(z, labels)).sigmoid().data
        return out.reshape(n, *self.image_shape)


def write_fake_idx(folder, n_train=40, n_test=20, size=8, seed=0, gz=False):
    """Four IDX files of random uint8 images (N, size, size) whose brightness depends on the label."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    suffix = ".gz" if gz else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        y = rng.integers(0, 10, n).astype(np.uint8)
        x = np.clip(rng.normal(20.0 * y[:, None, None], 30.0, (n, size, size)), 0, 255).astype(np.uint8)
        write_idx(os.path.join(folder, f"{split}-images-idx3-ubyte{suffix}"), x)
        write_idx(os.path.join(folder, f"{split}-labels-idx1-ubyte{suffix}"), y)
    return str(folder)


@pytest.fixture
def tiny_registered(monkeypatch):
    monkeypatch.setitem(MODELS, "tiny", "tests.generative.test_trainer:TinyModel")
    return "tiny"


@pytest.fixture
def data_dir(tmp_path):
    return write_fake_idx(tmp_path / "data")


def config(out, data, **kw):
    base = dict(model="tiny", data=data, out=str(out), epochs=2, batch_size=8, seed=3, save_every=3, log_every=2,
                sample_every=4, num_samples=12, progress=False)
    return TrainConfig(**{**base, **kw})


def test_resume_equals_uninterrupted(tiny_registered, data_dir, tmp_path):
    run_a = train(config(tmp_path / "a", data_dir))
    model_a, history_a = run_a.model, run_a.history
    # interrupted after 7 of 10 steps (mid-epoch, mid logging window), then resumed to the end
    train(config(tmp_path / "b", data_dir, max_steps=7))
    with pytest.raises(FileExistsError, match="--resume"):
        train(config(tmp_path / "b", data_dir))
    run_b = train(config(tmp_path / "b", data_dir), resume=True)
    model_b, history_b = run_b.model, run_b.history
    assert run_a.step == run_b.step == 10
    assert model_a.steps == model_b.steps == 10
    for (ka, va), (kb, vb) in zip(model_a.net.state_dict().items(), model_b.net.state_dict().items()):
        assert ka == kb and np.array_equal(va, vb), ka
    assert history_a == history_b and [h["step"] for h in history_a] == [2, 4, 6, 8, 10]
    saved_a = corenn.load(tmp_path / "a" / "checkpoint.npz")
    saved_b = corenn.load(tmp_path / "b" / "checkpoint.npz")
    assert saved_a["position"] == saved_b["position"] == {"epoch": 2, "batch": 0, "step": 10, "batches_per_epoch": 5}
    for k, v in saved_a["state"]["optimizers"]["opt"]["state"].items():
        for name, arr in v.items():
            assert np.array_equal(arr, saved_b["state"]["optimizers"]["opt"]["state"][k][name])
    # a different seed is a different run
    model_c = train(config(tmp_path / "c", data_dir, seed=4)).model
    assert not np.array_equal(model_c.net.state_dict()["0.weight"], model_a.net.state_dict()["0.weight"])


def test_outputs_tensorboard_and_grids(tiny_registered, data_dir, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train(config(tmp_path / "run", data_dir, epochs=1))
    pngs = sorted(os.listdir(tmp_path / "run" / "samples"))
    assert pngs == ["step_0000000.png", "step_0000004.png", "step_0000005.png"]
    acc = EventAccumulator(str(tmp_path / "run"))
    acc.Reload()
    assert {"train/loss", "train/mean_x"} <= set(acc.Tags()["scalars"])
    assert [e.step for e in acc.Scalars("train/loss")] == [2, 4]
    assert "samples" in acc.Tags()["images"]


def test_resume_refuses_other_settings(tiny_registered, data_dir, tmp_path):
    train(config(tmp_path / "r", data_dir, max_steps=2))
    with pytest.raises(RunConfigError, match="seed=3"):
        train(config(tmp_path / "r", data_dir, seed=5), resume=True)
    with pytest.raises(RunConfigError, match="hparams"):
        train(config(tmp_path / "r", data_dir, hparams={"lr": 0.5}), resume=True)
    other = write_fake_idx(tmp_path / "other", seed=9)
    with pytest.raises(RunConfigError, match="other data"):
        train(config(tmp_path / "r", other), resume=True)


@pytest.mark.parametrize("raise_on_nan", [False, True])
def test_nonfinite_loss_stops_and_keeps_checkpoint(tiny_registered, data_dir, tmp_path, raise_on_nan):
    cfg = config(tmp_path / "n", data_dir, hparams={"nan_at_step": 4, "raise_on_nan": raise_on_nan})
    with pytest.raises(FloatingPointError, match=r"loss=nan at step 4.*saved: step 3"):
        train(cfg)
    model, saved = ckpt_mod.load_checkpoint(tmp_path / "n")
    assert saved["position"]["step"] == 3 and model.steps == 3
    assert not ckpt_mod.nonfinite_paths(model.state_dict())
    # and a NaN state is never written
    next(iter(model.net.parameters())).data[0, 0] = np.nan
    with pytest.raises(FloatingPointError, match="modules.net.0.weight"):
        ckpt_mod.save_checkpoint(tmp_path / "n" / "bad.npz", "tiny", model, saved["position"], [], {}, {}, {})
    assert not os.path.exists(tmp_path / "n" / "bad.npz")


def test_checked_losses():
    assert checked_losses({"a": np.float32(1.5)}, 0) == {"a": 1.5}
    with pytest.raises(FloatingPointError, match="non-finite loss d_loss=inf at step 7"):
        checked_losses({"g_loss": 1.0, "d_loss": float("inf")}, 7)
    with pytest.raises(TypeError, match="dict"):
        checked_losses(1.0, 0)


def test_checkpoint_round_trip(tiny_registered, data_dir, tmp_path):
    model = train(config(tmp_path / "rt", data_dir, max_steps=3, hparams={"hidden": 5})).model
    loaded, info = ckpt_mod.load_checkpoint(tmp_path / "rt" / "checkpoint.npz")
    assert info["model"] == "tiny" and info["hparams"]["hidden"] == 5 and info["image_shape"] == [1, 8, 8]
    assert loaded.steps == 3 and loaded.data_range == "binary"
    a = model.sample(4, rng=np.random.default_rng(0))
    b = loaded.sample(4, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(a, b)


def _rewrite(path, **changes):
    data = corenn.load(path)
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    corenn.save(data, path)


@pytest.mark.parametrize("change, message", [
    ({"format": "corenn-agent"}, "not a generative-model checkpoint"),
    ({"model": "no_such_model"}, "unknown model 'no_such_model'"),
    ({"hparams": {"depth": 3}}, "unknown hyperparameters"),
    ({"image_shape": [1, 8]}, "image_shape must be three positive ints"),
    ({"data_range": "gray"}, "data_range 'gray'"),
    ({"position": {"epoch": 0, "batch": -1, "step": 0, "batches_per_epoch": 5}}, "position.batch"),
    ({"history": None}, "missing field 'history'"),
    ({"num_classes": "ten"}, "field 'num_classes' has type str"),
])
def test_checkpoint_validation_errors(tiny_registered, data_dir, tmp_path, change, message):
    train(config(tmp_path / "v", data_dir, max_steps=1))
    path = tmp_path / "v" / "checkpoint.npz"
    _rewrite(path, **change)
    with pytest.raises(CheckpointError, match=message):
        ckpt_mod.load_checkpoint(path)


def test_checkpoint_state_errors(tiny_registered, data_dir, tmp_path):
    train(config(tmp_path / "s", data_dir, max_steps=1))
    path = tmp_path / "s" / "checkpoint.npz"
    data = corenn.load(path)
    data["state"]["modules"]["net"]["0.weight"] = np.zeros((2, 2), np.float32)
    corenn.save(data, path)
    with pytest.raises(CheckpointError, match="size mismatch for 0.weight"):
        ckpt_mod.load_checkpoint(path)
    data["state"]["modules"]["net"]["0.weight"] = np.full((6, 74), np.nan, np.float32)
    corenn.save(data, path)
    with pytest.raises(CheckpointError, match=r"NaN/inf at modules.net.0.weight"):
        ckpt_mod.load_checkpoint(path)
    with open(path, "wb") as f:
        f.write(b"PK\x03\x04 truncated")
    with pytest.raises(CheckpointError):
        ckpt_mod.load_checkpoint(path)
    with pytest.raises(FileNotFoundError):
        ckpt_mod.load_checkpoint(tmp_path / "none.npz")


def test_load_image_dataset(tmp_path):
    folder = write_fake_idx(tmp_path / "gz", n_train=12, n_test=6, size=8, gz=True)
    ds = load_image_dataset(folder)
    assert ds.x_train.shape == (12, 1, 8, 8) and ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0 and ds.kind == "idx" and ds.image_shape == (1, 8, 8)
    with pytest.raises(DataError, match=r"nowhere.*does not exist.*apt-get install"):
        load_image_dataset(tmp_path / "nowhere")
    os.remove(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"))
    with pytest.raises(DataError, match=r"has no t10k-labels-idx1-ubyte"):
        load_image_dataset(folder)
    with open(os.path.join(folder, "t10k-labels-idx1-ubyte"), "wb") as f:
        f.write(b"\x00\x00\x08\x01\x00\x00\x00\x09abc")  # declares 9 labels, holds 3
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte: IDX data truncated"):
        load_image_dataset(folder)


def test_load_cifar10_binary(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        records = rng.integers(0, 256, (3, 3073), dtype=np.uint8)
        records[:, 0] %= 10
        records.tofile(folder / name)
    ds = load_image_dataset(tmp_path)
    assert ds.kind == "cifar10" and ds.x_train.shape == (15, 3, 32, 32) and ds.x_test.shape == (3, 3, 32, 32)


def test_to_data_range():
    x = np.array([[[[0.0, 0.25, 1.0]]]], np.float32)
    np.testing.assert_array_equal(to_data_range(x, "unit"), x)
    np.testing.assert_allclose(to_data_range(x, "symmetric"), [[[[-1.0, -0.5, 1.0]]]])
    grey = np.full((2000,), 0.3, np.float32)
    b = to_data_range(grey, "binary", np.random.default_rng(0))
    assert set(np.unique(b)) == {0.0, 1.0} and abs(b.mean() - 0.3) < 0.04
    assert not np.array_equal(b, to_data_range(grey, "binary", np.random.default_rng(1)))  # a fresh draw
    with pytest.raises(ValueError, match="needs an rng"):
        to_data_range(grey, "binary")
    with pytest.raises(ValueError, match="unknown data_range 'pm1'"):
        to_data_range(grey, "pm1")


def test_make_grid_layout_and_values():
    images = np.stack([np.full((1, 3, 2), v, np.float32) for v in (0.1, 0.2, 0.3, 0.4, 0.5)])
    grid = make_grid(images, nrow=2, padding=1, pad_value=1.0)
    assert grid.shape == (1, 3 * 4 + 1, 2 * 3 + 1)
    assert grid[0, 1, 1] == np.float32(0.1) and grid[0, 1, 4] == np.float32(0.2)   # row 0: images 0, 1
    assert grid[0, 5, 1] == np.float32(0.3) and grid[0, 9, 1] == np.float32(0.5)   # rows 1, 2
    assert grid[0, 9, 4] == 1.0 and grid[0, 0, :].tolist() == [1.0] * 7               # empty cell, frame
    assert make_grid(np.full((4, 3, 2, 2), 2.0)).max() == 1.0                        # clipped to [0, 1]
    assert make_grid(np.zeros((9, 1, 2, 2)), padding=0).shape == (1, 6, 6)           # default nrow ceil(sqrt(N))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        make_grid(np.zeros((2, 2, 5, 5)))
    with pytest.raises(ValueError, match="NaN/inf"):
        make_grid(np.full((1, 1, 2, 2), np.nan))


def test_png_written(tmp_path):
    from PIL import Image

    images = np.random.default_rng(0).random((6, 3, 4, 5)).astype(np.float32)
    path = save_grid(images, tmp_path / "sub" / "grid.png", nrow=3, padding=0, scale=2)
    with Image.open(path) as im:
        assert im.size == (3 * 5 * 2, 2 * 4 * 2) and im.mode == "RGB"
        pixels = np.asarray(im)
    np.testing.assert_array_equal(pixels[0, 0], np.round(images[0, :, 0, 0] * 255).astype(np.uint8))
    save_png(np.zeros((1, 2, 2)), tmp_path / "grey.png")
    with Image.open(tmp_path / "grey.png") as im:
        assert im.mode == "L" and np.asarray(im).max() == 0
    assert not [f for f in os.listdir(tmp_path / "sub") if f.endswith(".tmp")]


def test_grid_labels_one_column_per_class():
    model = TinyModel((1, 8, 8), 10, conditional=True)
    nrow, labels = grid_labels(model, 64)
    assert nrow == 10 and labels.tolist() == list(range(10)) * 6
    assert grid_labels(TinyModel((1, 8, 8), 10), 64) == (8, None)
