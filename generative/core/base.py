"""The contract every generative model keeps, so that one CLI trains, checkpoints, resumes and samples them all.

A model owns its networks and optimizers and knows its own loss; the trainer (``generative.core.trainer``) owns
the loop: data order, epochs, logging, checkpoints and resume. Shapes: images are NCHW float32, ``C, H, W =
image_shape``; labels are int64 of shape (N,).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from corenn import nn
from corenn.optim.optimizer import Optimizer

__all__ = ["GenerativeModel", "DATA_RANGES"]

# How the trainer hands pixels (stored as [0, 1] floats) to train_step.
DATA_RANGES = ("unit", "symmetric", "binary")  # [0, 1]; [-1, 1]; {0, 1} drawn afresh each time (dynamic binarisation)


class GenerativeModel(ABC):
    """Base class. Subclasses set ``name`` and the class flags, build their networks and optimizers in
    ``__init__`` and implement ``train_step`` and ``sample``.

    ``hparams`` are plain JSON values (numbers, strings, lists), stored in every checkpoint so that ``sample`` and
    ``--resume`` rebuild the same model; ``default_hparams()`` lists every one a model reads, and the CLI refuses
    names not in it.
    """

    name: ClassVar[str] = ""
    conditional: ClassVar[bool] = False   # sample() takes labels; train_step uses y
    data_range: ClassVar[str] = "unit"    # one of DATA_RANGES

    def __init__(self, image_shape: tuple = (1, 28, 28), num_classes: int = 10, **hparams):
        unknown = set(hparams) - set(self.default_hparams())
        if unknown:
            raise ValueError(f"{self.name or type(self).__name__}: unknown hyperparameters {sorted(unknown)}; "
                             f"known: {sorted(self.default_hparams())}")
        if len(image_shape) != 3 or any(int(d) <= 0 for d in image_shape):
            raise ValueError(f"image_shape must be (C, H, W) with positive sizes, got {image_shape}")
        self.image_shape = tuple(int(d) for d in image_shape)
        self.num_classes = int(num_classes)
        self.hparams = {**self.default_hparams(), **hparams}

    @classmethod
    def default_hparams(cls) -> dict:
        """Every hyperparameter the model reads, with its default (plain JSON values)."""
        return {}

    # ---- what subclasses provide ------------------------------------------------------------------------------
    @abstractmethod
    def modules(self) -> dict[str, nn.Module]:
        """The networks by name (their parameters are checkpointed; train()/eval() switch all of them)."""

    @abstractmethod
    def optimizers(self) -> dict[str, Optimizer]:
        """The optimizers by name (their state is checkpointed)."""

    @abstractmethod
    def train_step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        """One optimisation step on a batch. x: (B, C, H, W) float32 in ``data_range``; y: (B,) int64.
        Returns the step's losses and statistics as Python floats (logged to TensorBoard under ``train/``);
        a non-finite loss raises FloatingPointError naming it."""

    @abstractmethod
    def sample(self, n: int, labels: np.ndarray | None = None, rng: np.random.Generator | None = None,
               **options) -> np.ndarray:
        """``n`` new images, (n, C, H, W) float32 in [0, 1]. Conditional models take ``labels`` (n,) int64;
        ``options`` are the model's own sampling settings (a sampler, its steps, a guidance scale), each with a
        default, and an unknown option raises TypeError."""

    def extra_state(self) -> dict:
        """Anything else a resume needs (buffers outside modules, step counters), as plain values and arrays."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        """Restore what ``extra_state`` returned; models without extra state accept only an empty dict."""
        if state:
            raise ValueError(f"{self.name}: checkpoint has extra state {sorted(state)} this model does not use")

    # ---- shared ------------------------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> GenerativeModel:
        for module in self.modules().values():
            module.train(mode)
        return self

    def eval(self) -> GenerativeModel:
        return self.train(False)

    def state_dict(self) -> dict:
        return {"modules": {k: m.state_dict() for k, m in self.modules().items()},
                "optimizers": {k: o.state_dict() for k, o in self.optimizers().items()},
                "extra": self.extra_state()}

    def load_state_dict(self, state: dict) -> None:
        for group in ("modules", "optimizers"):
            have, want = set(state.get(group, {})), set(getattr(self, group)())
            if have != want:
                raise ValueError(f"checkpoint {group} {sorted(have)} do not match model {self.name!r} {sorted(want)}")
        for k, m in self.modules().items():
            m.load_state_dict(state["modules"][k])
        for k, o in self.optimizers().items():
            o.load_state_dict(state["optimizers"][k])
        self.load_extra_state(state.get("extra", {}))

    def check_labels(self, labels: np.ndarray | None, n: int) -> np.ndarray | None:
        """Validated labels for ``sample``: (n,) ints in [0, num_classes) for a conditional model, else None."""
        if not self.conditional:
            if labels is not None:
                raise ValueError(f"{self.name} is unconditional: sample() takes no labels")
            return None
        if labels is None:
            raise ValueError(f"{self.name} is conditional: sample() needs labels of shape ({n},)")
        labels = np.asarray(labels)
        if labels.shape != (n,) or labels.dtype.kind not in "iu":
            raise ValueError(f"labels must be ({n},) integers, got {labels.shape} {labels.dtype}")
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f"labels must lie in [0, {self.num_classes}), got {labels.min()}..{labels.max()}")
        return labels.astype(np.int64)
