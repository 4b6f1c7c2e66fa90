"""VGG (Simonyan & Zisserman 2014) with torchvision's configurations, layout, init and parameter counts.

    x (N, C_in, H, W) -> features (3x3 convs [+ BatchNorm] + ReLU, 2x2 max pools) -> (N, 512, H/32, W/32)
      -> AdaptiveAvgPool2d(7) -> flatten 25088 -> 4096 -> 4096 -> num_classes (ReLU + Dropout between)

Configurations "A", "B", "D", "E" are VGG-11, -13, -16 and -19. With 1000 classes the parameter counts
equal torchvision's: VGG-11 132,863,336, VGG-11-BN 132,868,840, VGG-13 133,047,848, VGG-16 138,357,544,
VGG-19 143,667,240 (``vgg_num_parameters`` gives them without building the 0.5 GB of weights).
State-dict keys match torchvision's (``features.0.weight`` ... ``classifier.6.bias``).

small_input=True is for 28-32 px images (Fashion-MNIST, CIFAR-10): the last max pool is dropped
(32 px -> 2x2, 28 px -> 1x1 feature maps) and the head is global average pooling + one Linear.
``width_mult`` scales every conv width (0.25 gives 16-32-64-128-128 channels) so it trains on a CPU.
"""
from __future__ import annotations

from .. import nn

__all__ = ["VGG", "VGG_CONFIGS", "make_vgg_layers", "vgg_num_parameters", "vgg11", "vgg11_bn", "vgg13",
           "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]

VGG_CONFIGS = {
    "A": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "B": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "D": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "E": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
}


def _resolve_cfg(cfg, small_input: bool, width_mult: float):
    if isinstance(cfg, str):
        if cfg not in VGG_CONFIGS:
            raise ValueError(f"VGG: unknown configuration {cfg!r}; choose from {sorted(VGG_CONFIGS)} "
                             f"or pass a list of widths and 'M'")
        cfg = VGG_CONFIGS[cfg]
    cfg = list(cfg)
    if not cfg or any(v != "M" and (not isinstance(v, int) or isinstance(v, bool) or v < 1) for v in cfg):
        raise ValueError(f"VGG: cfg must be a non-empty list of positive ints and 'M', got {cfg!r}")
    if not isinstance(width_mult, (int, float)) or isinstance(width_mult, bool) or width_mult <= 0:
        raise ValueError(f"VGG: width_mult must be a positive number, got {width_mult!r}")
    if small_input and cfg[-1] == "M":
        cfg = cfg[:-1]
    return [v if v == "M" else max(1, int(round(v * width_mult))) for v in cfg]


def make_vgg_layers(cfg, batch_norm: bool = False, in_channels: int = 3) -> nn.Sequential:
    """torchvision's ``make_layers``: each int is Conv2d(3x3, pad 1) [+ BatchNorm2d] + ReLU, each 'M' MaxPool2d(2)."""
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        layers.append(nn.Conv2d(in_channels, v, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU())
        in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """VGG: (N, in_channels, H, W) -> (N, num_classes) logits.

    cfg: "A" | "B" | "D" | "E" or a list of conv widths and "M"; batch_norm: BatchNorm2d after each conv;
    dropout: in the torchvision head; init_weights: torchvision's init (Kaiming-normal fan_out convs,
    N(0, 0.01) Linear, zero biases), else the layers' default init.
    small_input / width_mult: see the module docstring. With small_input the input must be at least
    2**(number of pools) pixels on each side (16 for the standard configurations).
    """

    def __init__(self, cfg="D", num_classes: int = 1000, in_channels: int = 3, batch_norm: bool = False,
                 dropout: float = 0.5, init_weights: bool = True, small_input: bool = False,
                 width_mult: float = 1.0):
        super().__init__()
        for name, v in (("num_classes", num_classes), ("in_channels", in_channels)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"VGG: {name} must be a positive int, got {v!r}")
        widths = _resolve_cfg(cfg, small_input, width_mult)
        self.small_input = bool(small_input)
        self.in_channels = in_channels
        self.num_pools = widths.count("M")
        self.features = make_vgg_layers(widths, batch_norm, in_channels)
        last = [v for v in widths if v != "M"][-1]
        if small_input:
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(last, num_classes))
        else:
            self.avgpool = nn.AdaptiveAvgPool2d(7)
            self.classifier = nn.Sequential(
                nn.Linear(last * 7 * 7, 4096), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(4096, num_classes),
            )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, 0.01)
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"VGG expects input (N, {self.in_channels}, H, W), got shape {tuple(x.shape)}")
        least = 2 ** self.num_pools
        if min(x.shape[2:]) < least:
            raise ValueError(f"VGG with {self.num_pools} max pools needs H and W >= {least}, got "
                             f"{tuple(x.shape[2:])}" + ("" if self.small_input else
                                                        " (use small_input=True for 28-32 px images)"))
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def vgg_num_parameters(cfg="D", num_classes: int = 1000, in_channels: int = 3, batch_norm: bool = False,
                       small_input: bool = False, width_mult: float = 1.0) -> int:
    """Parameter count of ``VGG(cfg, ...)`` computed from the configuration, without building it."""
    widths = [v for v in _resolve_cfg(cfg, small_input, width_mult) if v != "M"]
    total, c = 0, in_channels
    for v in widths:
        total += v * c * 9 + v + (2 * v if batch_norm else 0)
        c = v
    if small_input:
        return total + c * num_classes + num_classes
    return total + (c * 49 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * num_classes + num_classes)


def vgg11(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> VGG:
    """VGG-11 (configuration "A"): 132,863,336 parameters with 1000 classes; kwargs as VGG."""
    return VGG("A", num_classes, in_channels, batch_norm=False, **kwargs)


def vgg11_bn(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> VGG:
    """VGG-11-BN (configuration "A"): 132,868,840 parameters with 1000 classes; kwargs as VGG."""
    return VGG("A", num_classes, in_channels, batch_norm=True, **kwargs)


def vgg13(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> VGG:
    """VGG-13 (configuration "B"): 133,047,848 parameters with 1000 classes; kwargs as VGG."""
    return VGG("B", num_classes, in_channels, batch_norm=False, **kwargs)


def vgg13_bn(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> VGG:
    """VGG-13-BN (configuration "B"): 133,053,736 parameters with 1000 classes; kwargs as VGG."""
    return VGG("B", num_classes, in_channels, batch_norm=True, **kwargs)


def vgg16(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> VGG:
    """VGG-16 (configuration "D"): 138,357,544 parameters with 1000 classes; kwargs as VGG."""
    return VGG("D", num_classes, in_channels, batch_norm=False, **kwargs)


def vgg16_bn(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> VGG:
    """VGG-16-BN (configuration "D"): 138,365,992 parameters with 1000 classes; kwargs as VGG."""
    return VGG("D", num_classes, in_channels, batch_norm=True, **kwargs)


def vgg19(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> VGG:
    """VGG-19 (configuration "E"): 143,667,240 parameters with 1000 classes; kwargs as VGG."""
    return VGG("E", num_classes, in_channels, batch_norm=False, **kwargs)


def vgg19_bn(num_classes: int = 1000, in_channels: int = 3, **kwargs) -> VGG:
    """VGG-19-BN (configuration "E"): 143,678,248 parameters with 1000 classes; kwargs as VGG."""
    return VGG("E", num_classes, in_channels, batch_norm=True, **kwargs)
