"""The training checkpoint of a generative model: one ``.npz`` written by ``corenn.save`` (atomic, no pickle).

Layout (plain values in the JSON header, arrays as ``.npy`` members)::

    format "corenn-generative", format_version 1, corenn_version
    model          registered name ("vae", "dcgan", ...; generative.registry)
    hparams        the model's hyperparameters (JSON values)
    image_shape    [C, H, W];  num_classes;  data_range ("unit" | "symmetric" | "binary");  conditional
    state          model.state_dict(): {"modules": ..., "optimizers": ..., "extra": ...}
    position       {"epoch", "batch", "step", "batches_per_epoch"}: the next batch to run
    history        [{"step": s, "<loss>": mean over the last log_every steps, ...}, ...]
    window         {"count": n, "sums": {...}}: the partly filled logging window, so a resume logs the same means
    data           {"path", "fingerprint", "n_train"}
    args           the run's TrainConfig as a dict

``load_checkpoint`` validates every field, rebuilds the model and loads its state; any problem is one
``corenn.CheckpointError`` naming the file and the field.
"""
from __future__ import annotations

import math
import os

import numpy as np

import corenn
from corenn import CheckpointError

from .base import DATA_RANGES, GenerativeModel

__all__ = ["FORMAT", "FORMAT_VERSION", "save_checkpoint", "read_checkpoint", "load_checkpoint", "build_model",
           "nonfinite_paths"]

FORMAT = "corenn-generative"
FORMAT_VERSION = 1
_REQUIRED = {"format": str, "format_version": int, "model": str, "hparams": dict, "image_shape": (list, tuple),
             "num_classes": int, "data_range": str, "state": dict, "position": dict, "history": list,
             "window": dict, "data": dict, "args": dict}


def nonfinite_paths(tree, prefix: str = "") -> list[str]:
    """Where a nested dict/list of arrays and numbers holds NaN or inf (dotted paths)."""
    if isinstance(tree, dict):
        return [p for k, v in tree.items() for p in nonfinite_paths(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(tree, (list, tuple)):
        return [p for i, v in enumerate(tree) for p in nonfinite_paths(v, f"{prefix}[{i}]")]
    if isinstance(tree, np.ndarray) and tree.dtype.kind in "fc":
        return [] if np.isfinite(tree).all() else [prefix]
    if isinstance(tree, float) and not math.isfinite(tree):
        return [prefix]
    return []


def build_model(name: str, image_shape, num_classes: int, hparams: dict) -> GenerativeModel:
    """The registered model ``name`` built with these settings (parameters initialised from corenn's generator)."""
    from generative.registry import get_model_class

    return get_model_class(name)(image_shape=tuple(image_shape), num_classes=int(num_classes), **hparams)


def save_checkpoint(path, model_name: str, model: GenerativeModel, position: dict, history: list, window: dict,
                    data: dict, args: dict) -> None:
    """Write the checkpoint atomically; refuses (FloatingPointError, nothing written) a state with NaN/inf."""
    state = model.state_dict()
    bad = nonfinite_paths(state)
    if bad:
        raise FloatingPointError(f"not saving {path}: the model state holds NaN/inf at {', '.join(bad[:5])}")
    corenn.save({
        "format": FORMAT, "format_version": FORMAT_VERSION, "corenn_version": corenn.__version__,
        "model": model_name, "hparams": dict(model.hparams), "image_shape": list(model.image_shape),
        "num_classes": model.num_classes, "data_range": model.data_range, "conditional": bool(model.conditional),
        "state": state, "position": dict(position), "history": list(history), "window": window,
        "data": dict(data), "args": dict(args),
    }, path)


def read_checkpoint(path) -> dict:
    """The checkpoint's contents with every top-level field checked (not yet loaded into a model)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "checkpoint.npz")
    ckpt = corenn.load(path)  # FileNotFoundError / CheckpointError name the file
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        found = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(f"{path}: not a generative-model checkpoint (format {found!r}, expected {FORMAT!r})")
    for key, kind in _REQUIRED.items():
        if key not in ckpt:
            raise CheckpointError(f"{path}: missing field {key!r}")
        if not isinstance(ckpt[key], kind) or isinstance(ckpt[key], bool):
            raise CheckpointError(f"{path}: field {key!r} has type {type(ckpt[key]).__name__}")
    if ckpt["format_version"] > FORMAT_VERSION:
        raise CheckpointError(f"{path}: format_version {ckpt['format_version']} is newer than this code "
                              f"({FORMAT_VERSION})")
    shape = ckpt["image_shape"]
    if len(shape) != 3 or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape):
        raise CheckpointError(f"{path}: image_shape must be three positive ints, got {shape}")
    if ckpt["num_classes"] < 1:
        raise CheckpointError(f"{path}: num_classes must be >= 1, got {ckpt['num_classes']}")
    if ckpt["data_range"] not in DATA_RANGES:
        raise CheckpointError(f"{path}: data_range {ckpt['data_range']!r} is not one of {DATA_RANGES}")
    for key in ("epoch", "batch", "step", "batches_per_epoch"):
        value = ckpt["position"].get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise CheckpointError(f"{path}: position.{key} must be an int >= 0, got {value!r}")
    bad = nonfinite_paths(ckpt["state"])
    if bad:
        raise CheckpointError(f"{path}: the model state holds NaN/inf at {', '.join(bad[:5])}")
    ckpt["path"] = path
    return ckpt


def load_checkpoint(path) -> tuple[GenerativeModel, dict]:
    """(model with the saved weights and optimizer state, the checkpoint dict). The model is in eval mode."""
    from generative.registry import ModelNotAvailableError, UnknownModelError

    ckpt = read_checkpoint(path)
    path = ckpt["path"]
    try:
        model = build_model(ckpt["model"], ckpt["image_shape"], ckpt["num_classes"], ckpt["hparams"])
    except (UnknownModelError, ModelNotAvailableError) as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: cannot build model {ckpt['model']!r} from its hparams: {exc}") from None
    if model.data_range != ckpt["data_range"]:
        raise CheckpointError(f"{path}: data_range {ckpt['data_range']!r} differs from the model's "
                              f"{model.data_range!r} for these hparams")
    try:
        model.load_state_dict(ckpt["state"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: the saved state does not fit model {ckpt['model']!r}: "
                              f"{exc.args[0] if exc.args else exc}") from None
    return model.eval(), ckpt
