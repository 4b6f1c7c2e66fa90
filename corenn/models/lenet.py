"""LeNet-5 (LeCun et al. 1998) for 28x28 or 32x32 images.

    x (N, C_in, 28, 28) -> conv 5x5 pad 2 -> 6 -> act -> pool 2 -> (N, 6, 14, 14)
      -> conv 5x5 -> 16 -> act -> pool 2 -> (N, 16, 5, 5) -> flatten 400
      -> 120 -> act -> 84 -> act -> num_classes

Padding 2 on a 28x28 input gives the same geometry as the paper's unpadded 32x32 input (pass
``input_size=32, padding=0`` for that). ReLU + max pooling is the modern default; ``activation="tanh",
pool="avg"`` is the 1998 flavour (without its scaled tanh, trainable subsampling and sparse C3 table).

Parameters (in_channels=1, num_classes=10): conv1 156 + conv2 2,416 + fc1 48,120 + fc2 10,164
+ fc3 850 = 61,706; with in_channels=3, input_size=32, padding=0: 62,006.
"""
from __future__ import annotations

from .. import nn

__all__ = ["LeNet5"]

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "silu": nn.SiLU,
                "elu": nn.ELU, "leaky_relu": nn.LeakyReLU}
_POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


def _activation(activation):
    if isinstance(activation, str):
        if activation.lower() not in _ACTIVATIONS:
            raise ValueError(f"LeNet5: unknown activation {activation!r}; choose from {sorted(_ACTIVATIONS)} "
                             f"or pass a Module class")
        return _ACTIVATIONS[activation.lower()]
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        return activation
    raise TypeError(f"LeNet5: activation must be a name or an nn.Module class, got {activation!r}")


class LeNet5(nn.Module):
    """LeNet-5: (N, in_channels, input_size, input_size) -> (N, num_classes) logits.

    activation: "relu" (default), "tanh", ... or an nn.Module class; pool: "max" (default) or "avg".
    ``features`` holds the convolutions and pools, ``classifier`` the three Linear layers.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation="relu", pool: str = "max",
                 input_size: int = 28, padding: int = 2):
        super().__init__()
        act = _activation(activation)
        if pool not in _POOLS:
            raise ValueError(f"LeNet5: pool must be 'max' or 'avg', got {pool!r}")
        for name, v in (("num_classes", num_classes), ("in_channels", in_channels), ("input_size", input_size)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"LeNet5: {name} must be a positive int, got {v!r}")
        side = ((input_size + 2 * padding - 4) // 2 - 4) // 2  # spatial size after the second pool
        if input_size + 2 * padding < 5 or side < 1:
            raise ValueError(f"LeNet5: input_size {input_size} with padding {padding} is too small for two "
                             f"5x5 convolutions and two 2x2 pools (use at least {max(16 - 2 * padding, 1)})")
        self.input_size = input_size
        self.in_channels = in_channels
        pool_cls = _POOLS[pool]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=padding), act(), pool_cls(2),
            nn.Conv2d(6, 16, 5), act(), pool_cls(2),
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(16 * side * side, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, self.input_size, self.input_size):
            raise ValueError(f"LeNet5 expects input (N, {self.in_channels}, {self.input_size}, {self.input_size}), "
                             f"got shape {tuple(x.shape)}")
        return self.classifier(self.flatten(self.features(x)))
