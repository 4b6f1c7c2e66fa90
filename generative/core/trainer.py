"""The training loop every generative model shares: data order, logging, sample grids, checkpoints, resume.

Randomness, so that a run resumed from its checkpoint continues exactly as an uninterrupted one:

    parameters   corenn.manual_seed(seed) before the model is built
    batch order  np.random.default_rng([seed, 0, epoch]).permutation(N)      (the last incomplete batch is dropped)
    step noise   rng = np.random.default_rng([seed, 1, step]), handed to train_step (binarisation and the model's
                 own noise), and corenn.manual_seed([seed, 2, step]) for anything drawn from corenn's generator
    grids        np.random.default_rng([seed, 3]) at every grid, so grids over time show the same noise and labels

Output in ``out``: checkpoint.npz (generative.core.checkpoint), TensorBoard event files (scalars train/<loss>, the
image "samples"), samples/step_XXXXXXX.png.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field

import numpy as np

import corenn

from .checkpoint import build_model, read_checkpoint, save_checkpoint
from .data import ImageDataset, load_image_dataset, to_data_range
from .images import make_grid, save_png

__all__ = ["TrainConfig", "TrainResult", "RunConfigError", "train", "grid_labels", "checked_losses", "CHECKPOINT_NAME"]

CHECKPOINT_NAME = "checkpoint.npz"
_EPOCH, _STEP, _CORENN, _GRID = 0, 1, 2, 3  # stream tags of np.random.default_rng([seed, tag, ...])


class RunConfigError(ValueError):
    """A run setting that cannot be used, or that contradicts the checkpoint being resumed."""


@dataclass
class TrainConfig:
    """One training run. ``max_steps`` caps the total number of steps (smoke runs); ``*_every`` count steps."""

    model: str
    data: str
    out: str
    epochs: int = 10
    batch_size: int = 128
    seed: int = 0
    hparams: dict = field(default_factory=dict)
    max_steps: int | None = None
    save_every: int = 1000
    log_every: int = 50
    sample_every: int = 500
    num_samples: int = 64
    sample_options: dict = field(default_factory=dict)
    progress: bool = True

    def validate(self) -> None:
        for name in ("epochs", "batch_size", "save_every", "log_every", "sample_every", "num_samples"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise RunConfigError(f"{name} must be an int >= 1, got {value!r}")
        if self.max_steps is not None and (not isinstance(self.max_steps, int) or self.max_steps < 1):
            raise RunConfigError(f"max_steps must be an int >= 1 or None, got {self.max_steps!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise RunConfigError(f"seed must be an int >= 0, got {self.seed!r}")
        for name in ("hparams", "sample_options"):
            if not isinstance(getattr(self, name), dict):
                raise RunConfigError(f"{name} must be a dict, got {type(getattr(self, name)).__name__}")


@dataclass
class TrainResult:
    model: object            # the GenerativeModel, in train mode
    history: list            # [{"step": s, "<loss>": mean, ...}] every log_every steps
    step: int                # steps done in all
    checkpoint: str          # path of the checkpoint written last


def grid_labels(model, n: int) -> tuple[int, np.ndarray | None]:
    """(images per grid row, labels): a conditional model gets one column per class, labels 0..K-1 repeated."""
    if not model.conditional:
        return max(1, int(math.ceil(math.sqrt(n)))), None
    k = model.num_classes
    return k, np.arange(max(n // k, 1) * k, dtype=np.int64) % k


def checked_losses(losses, step: int) -> dict[str, float]:
    """train_step's dict as Python floats; FloatingPointError naming a NaN/inf loss and the step."""
    if not isinstance(losses, dict) or not losses:
        raise TypeError(f"train_step must return a non-empty dict of floats, got {type(losses).__name__} "
                        f"at step {step}")
    out = {}
    for key, value in losses.items():
        value = float(value)
        if not math.isfinite(value):
            raise FloatingPointError(f"non-finite loss {key}={value} at step {step}")
        out[str(key)] = value
    return out


class _Run:
    """State of one run: the model, its position and the logging window (what the checkpoint holds)."""

    def __init__(self, config: TrainConfig, dataset: ImageDataset, resume: bool):
        self.config, self.dataset = config, dataset
        self.path = os.path.join(config.out, CHECKPOINT_NAME)
        self.n_train = len(dataset.x_train)
        if config.batch_size > self.n_train:
            raise RunConfigError(f"batch_size {config.batch_size} is larger than the training set "
                                 f"({self.n_train} images)")
        self.batches_per_epoch = self.n_train // config.batch_size
        self.data_info = {"path": dataset.path, "fingerprint": dataset.fingerprint(), "n_train": self.n_train}
        exists = os.path.exists(self.path)
        if exists and not resume:
            raise FileExistsError(f"{self.path} exists: pass --resume to continue that run, or choose another --out")
        corenn.manual_seed(config.seed)
        self.model = build_model(config.model, dataset.image_shape, dataset.num_classes, config.hparams)
        self.epoch = self.batch = self.step = 0
        self.history: list[dict] = []
        self.window: dict = {"count": 0, "sums": {}}
        self.saved_step = None
        if exists:
            self._restore(read_checkpoint(self.path))

    def _restore(self, ckpt: dict) -> None:
        config, path = self.config, self.path
        saved = ckpt["args"]
        for name in ("model", "seed", "batch_size"):
            if saved.get(name) != getattr(config, name):
                raise RunConfigError(f"--resume: {path} was trained with {name}={saved.get(name)!r}, this run asks "
                                     f"for {getattr(config, name)!r}; use the same value or another --out")
        if ckpt["hparams"] != self.model.hparams:
            raise RunConfigError(f"--resume: {path} has hparams {ckpt['hparams']}, this run builds "
                                 f"{self.model.hparams}")
        if ckpt["data"].get("fingerprint") != self.data_info["fingerprint"] or \
                ckpt["data"].get("n_train") != self.n_train:
            raise RunConfigError(f"--resume: {path} was trained on other data ({ckpt['data'].get('path')}, "
                                 f"{ckpt['data'].get('n_train')} images) than {self.dataset.path} "
                                 f"({self.n_train} images)")
        if ckpt["position"]["batches_per_epoch"] != self.batches_per_epoch:
            raise RunConfigError(f"--resume: {path} has {ckpt['position']['batches_per_epoch']} batches per "
                                 f"epoch, this run {self.batches_per_epoch}")
        self.model.load_state_dict(ckpt["state"])
        self.epoch, self.batch, self.step = (ckpt["position"][k] for k in ("epoch", "batch", "step"))
        self.history, self.window = ckpt["history"], ckpt["window"]
        self.saved_step = self.step

    def save(self) -> None:
        position = {"epoch": self.epoch, "batch": self.batch, "step": self.step,
                    "batches_per_epoch": self.batches_per_epoch}
        save_checkpoint(self.path, self.config.model, self.model, position, self.history, self.window,
                        self.data_info, dataclasses.asdict(self.config))
        self.saved_step = self.step

    def accumulate(self, losses: dict) -> dict | None:
        """Add a step's losses to the window; at a log step return the window's means (and reset it)."""
        sums = self.window["sums"]
        for key, value in losses.items():
            sums[key] = sums.get(key, 0.0) + value
        self.window["count"] += 1
        if self.step % self.config.log_every:
            return None
        count = self.window["count"]
        means = {key: total / count for key, total in sums.items()}
        self.history.append({"step": self.step, **means})
        self.window = {"count": 0, "sums": {}}
        return means

    def sample_grid(self) -> np.ndarray:
        """The grid of fixed-noise samples, (C, H, W) in [0, 1]."""
        config, model = self.config, self.model
        nrow, labels = grid_labels(model, config.num_samples)
        n = config.num_samples if labels is None else len(labels)
        corenn.manual_seed([config.seed, _GRID])
        model.eval()
        try:
            with corenn.no_grad():
                images = model.sample(n, labels=labels, rng=np.random.default_rng([config.seed, _GRID]),
                                      **config.sample_options)
        finally:
            model.train()
        return make_grid(images, nrow=nrow)


def _log_grid(run: _Run, writer) -> None:
    from rl.core.logger_media import Image

    grid = run.sample_grid()
    save_png(grid, os.path.join(run.config.out, "samples", f"step_{run.step:07d}.png"), scale=2)
    if writer is not None:
        writer.write({"samples": Image(grid, "CHW")}, {}, run.step)


def train(config: TrainConfig, resume: bool = False, dataset: ImageDataset | None = None,
          tensorboard: bool = True) -> TrainResult:
    """Train ``config.model`` (returns a TrainResult). With ``resume`` an existing checkpoint in
    ``config.out`` is continued (it must come from the same model, seed, batch size, hparams and data); without it
    an existing checkpoint is an error. ``dataset`` skips reading ``config.data`` (tests)."""
    from tqdm import tqdm

    from rl.core.logger_formats import TensorBoardOutputFormat

    config.validate()
    dataset = load_image_dataset(config.data) if dataset is None else dataset
    run = _Run(config, dataset, resume)  # builds the model (checks hparams) before anything is written
    os.makedirs(config.out, exist_ok=True)
    model, x_train, y_train = run.model, dataset.x_train, dataset.y_train
    writer = TensorBoardOutputFormat(config.out) if tensorboard else None
    last_step = config.epochs * run.batches_per_epoch
    if config.max_steps is not None:
        last_step = min(last_step, config.max_steps)
    try:
        model.train()
        if run.step == 0:
            _log_grid(run, writer)
        while run.step < last_step:
            epoch = run.epoch
            order = np.random.default_rng([config.seed, _EPOCH, epoch]).permutation(run.n_train)
            bar = tqdm(total=run.batches_per_epoch, initial=run.batch, desc=f"epoch {run.epoch + 1}/{config.epochs}",
                       disable=not config.progress, dynamic_ncols=True)
            with bar:
                while run.epoch == epoch and run.step < last_step:
                    idx = order[run.batch * config.batch_size:(run.batch + 1) * config.batch_size]
                    rng = np.random.default_rng([config.seed, _STEP, run.step])
                    corenn.manual_seed([config.seed, _CORENN, run.step])
                    x = to_data_range(x_train[idx], model.data_range, rng)
                    try:
                        losses = checked_losses(model.train_step(x, y_train[idx], rng), run.step)
                    except FloatingPointError as exc:
                        where = "" if f"at step {run.step}" in str(exc) else f" at step {run.step}"
                        saved = "none yet" if run.saved_step is None else f"step {run.saved_step}"
                        raise FloatingPointError(f"{exc}{where} (epoch {run.epoch}); training stopped, the "
                                                 f"checkpoint in {config.out} is untouched (saved: {saved})") from None
                    run.step, run.batch = run.step + 1, run.batch + 1
                    bar.update(1)
                    means = run.accumulate(losses)
                    if means is not None:
                        bar.set_postfix({k: f"{v:.4g}" for k, v in list(means.items())[:4]})
                        if writer is not None:
                            writer.write({f"train/{k}": v for k, v in means.items()}, {}, run.step)
                    if run.batch == run.batches_per_epoch:
                        run.epoch, run.batch = run.epoch + 1, 0
                    if run.step % config.sample_every == 0:
                        _log_grid(run, writer)
                    if run.step % config.save_every == 0:
                        run.save()
        if run.saved_step != run.step:
            run.save()
            if run.step % config.sample_every:
                _log_grid(run, writer)
    finally:
        if writer is not None:
            writer.close()
    return TrainResult(model, run.history, run.step, run.path)
