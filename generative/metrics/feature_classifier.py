"""The small CNN whose penultimate features stand in for Inception's in our FID and KID, and which labels samples.

No pretrained Inception network can be had here, so the scores are "FID (corenn classifier)": comparable between
our models on one dataset and with the real-train-vs-real-test floor, never with published Inception FIDs.

    x (N, C, H, W) in [0, 1]
      -> Conv2d(C, w, 4, stride 2, pad 1) -> ReLU            (N, w, H/2, W/2)
      -> Conv2d(w, 2w, 4, stride 2, pad 1) -> ReLU           (N, 2w, H/4, W/4)
      -> Flatten -> Linear -> ReLU = features(x)             (N, feature_dim)
      -> Linear = logits                                     (N, num_classes)

Trained with Adam on cross-entropy by ``python -m generative classifier``; saved with ``corenn.save`` as
{"format", "image_shape", "num_classes", "width", "feature_dim", "state", "test_accuracy", "data_fingerprint", ...}.
"""
from __future__ import annotations

import os

import numpy as np

import corenn
import corenn.nn.functional as F
from corenn import CheckpointError, nn, optim

__all__ = ["FeatureClassifier", "DEFAULT_CLASSIFIER_PATH", "CLASSIFIER_COMMAND", "train_classifier",
           "save_classifier", "load_classifier", "extract_features", "predict_labels"]

DEFAULT_CLASSIFIER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion_mnist_classifier.npz")
CLASSIFIER_COMMAND = "python -m generative classifier --data {data} --out {path}"
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FORMAT = "corenn-feature-classifier"


class FeatureClassifier(nn.Module):
    """(N, C, H, W) in [0, 1] -> (N, num_classes) logits; ``features(x)`` is the (N, feature_dim) ReLU layer."""

    def __init__(self, image_shape=(1, 28, 28), num_classes: int = 10, width: int = 32, feature_dim: int = 128):
        super().__init__()
        c, h, w = (int(d) for d in image_shape)
        if h % 4 or w % 4:
            raise ValueError(f"FeatureClassifier needs H and W divisible by 4, got image_shape {tuple(image_shape)}")
        self.image_shape, self.num_classes = (c, h, w), int(num_classes)
        self.width, self.feature_dim = int(width), int(feature_dim)
        self.body = nn.Sequential(
            nn.Conv2d(c, width, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(2 * width * (h // 4) * (w // 4), feature_dim), nn.ReLU())
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.features(x))


def _batches(model: FeatureClassifier, images, batch_size: int, what: str):
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or tuple(images.shape[1:]) != model.image_shape:
        raise ValueError(f"{what}: expected images of shape (N, {', '.join(map(str, model.image_shape))}), "
                         f"got {images.shape}")
    if not np.isfinite(images).all():
        raise ValueError(f"{what}: the images hold NaN/inf values")
    model.eval()
    with corenn.no_grad():
        for start in range(0, len(images), batch_size):
            yield corenn.tensor(images[start:start + batch_size])


def extract_features(model: FeatureClassifier, images, batch_size: int = 500) -> np.ndarray:
    """Penultimate features (N, feature_dim) float64 of images in [0, 1]."""
    out = [model.features(x).data for x in _batches(model, images, batch_size, "extract_features")]
    return np.concatenate(out).astype(np.float64) if out else np.zeros((0, model.feature_dim))


def predict_labels(model: FeatureClassifier, images, batch_size: int = 500) -> np.ndarray:
    """Predicted classes (N,) int64."""
    out = [model(x).data.argmax(axis=1) for x in _batches(model, images, batch_size, "predict_labels")]
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, np.int64)


def train_classifier(x_train, y_train, x_test, y_test, epochs: int = 3, batch_size: int = 128, lr: float = 1e-3,
                     seed: int = 0, progress: bool = True) -> tuple[FeatureClassifier, float]:
    """Train on (x_train (N, C, H, W) in [0, 1], y_train (N,)) and return (model, accuracy on the test split)."""
    from tqdm import tqdm

    if epochs < 1 or batch_size < 1:
        raise ValueError(f"train_classifier: epochs and batch_size must be >= 1, got {epochs}, {batch_size}")
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    corenn.manual_seed(seed)
    model = FeatureClassifier(x_train.shape[1:], num_classes)
    opt = optim.Adam(model.parameters(), lr=lr)
    n = len(x_train)
    for epoch in range(epochs):
        model.train()
        order = np.random.default_rng([seed, epoch]).permutation(n)
        bar = tqdm(range(0, n, batch_size), desc=f"classifier epoch {epoch + 1}/{epochs}", disable=not progress,
                   dynamic_ncols=True)
        for start in bar:
            idx = order[start:start + batch_size]
            loss = F.cross_entropy(model(corenn.tensor(x_train[idx])), corenn.tensor(y_train[idx]))
            if not np.isfinite(loss.item()):
                raise FloatingPointError(f"classifier loss is {loss.item()} at epoch {epoch}, "
                                         f"batch {start // batch_size}")
            opt.zero_grad()
            loss.backward()
            opt.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        accuracy = float((predict_labels(model, x_test) == y_test).mean())
        if progress:
            print(f"classifier epoch {epoch + 1}: test accuracy {accuracy:.4f}")
    return model.eval(), accuracy


def save_classifier(model: FeatureClassifier, path, test_accuracy: float, data_fingerprint: str, info: dict) -> None:
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    os.makedirs(folder, exist_ok=True)
    corenn.save({"format": FORMAT, "image_shape": list(model.image_shape), "num_classes": model.num_classes,
                 "width": model.width, "feature_dim": model.feature_dim, "state": model.state_dict(),
                 "test_accuracy": float(test_accuracy), "data_fingerprint": data_fingerprint, "info": dict(info)},
                path)


def load_classifier(path=None) -> tuple[FeatureClassifier, dict]:
    """(classifier in eval mode, its file's fields). A missing default file names the command that makes it."""
    path = os.fspath(path) if path is not None else DEFAULT_CLASSIFIER_PATH
    if not os.path.isfile(path):
        raise FileNotFoundError(f"feature classifier {path} not found; train it (about 10 minutes on 2 cores) with\n"
                                f"  {CLASSIFIER_COMMAND.format(data=FASHION_MNIST_DIR, path=path)}")
    ckpt = corenn.load(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a feature-classifier file (expected format {FORMAT!r})")
    try:
        model = FeatureClassifier(ckpt["image_shape"], ckpt["num_classes"], ckpt["width"], ckpt["feature_dim"])
        model.load_state_dict(ckpt["state"])
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: malformed feature-classifier file: {exc.args[0] if exc.args else exc}") \
            from None
    return model.eval(), ckpt
