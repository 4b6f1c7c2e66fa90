"""ResNet-18/34 (He et al. 2015) with torchvision's layout, names and parameter counts.

    x (N, C_in, H, W) -> stem -> layer1 (64) -> layer2 (128, /2) -> layer3 (256, /2) -> layer4 (512, /2)
      -> global average pool (N, 512) -> fc -> (N, num_classes)

stem="imagenet": 7x7 stride-2 conv + 3x3 stride-2 max pool (224 px inputs, as torchvision).
stem="cifar":    3x3 stride-1 conv, no pool (28-32 px inputs: layer1 runs at full resolution).
"""
from __future__ import annotations

from .. import nn

__all__ = ["BasicBlock", "ResNet", "resnet18", "resnet34"]


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual: (N, in, H, W) -> (N, planes, H/stride, W/stride).

    The shortcut is the identity, or a 1x1 stride-`stride` conv + BatchNorm (`downsample`) when the
    resolution or the width changes.
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """ResNet from `layers` BasicBlocks per stage ([2, 2, 2, 2] is ResNet-18, [3, 4, 6, 3] ResNet-34).

    num_classes: output logits; in_channels: 3 for RGB, 1 for Fashion-MNIST; stem: "imagenet" or "cifar";
    zero_init_residual: start each block's last BatchNorm at zero so every block begins as the identity.
    """

    def __init__(self, layers, num_classes: int = 1000, in_channels: int = 3, stem: str = "imagenet",
                 zero_init_residual: bool = False):
        super().__init__()
        if stem not in ("imagenet", "cifar"):
            raise ValueError(f"stem must be 'imagenet' or 'cifar', got {stem!r}")
        if len(layers) != 4 or any(int(n) < 1 for n in layers):
            raise ValueError(f"layers must give four positive block counts, got {layers!r}")
        self.stem = stem
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        else:
            self.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.inplanes = 64
        self.layer1 = self._make_layer(64, layers[0], 1)
        self.layer2 = self._make_layer(128, layers[1], 2)
        self.layer3 = self._make_layer(256, layers[2], 2)
        self.layer4 = self._make_layer(512, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        stage = [BasicBlock(self.inplanes, planes, stride)]
        self.inplanes = planes
        stage += [BasicBlock(planes, planes) for _ in range(int(blocks) - 1)]
        return nn.Sequential(*stage)

    def forward_features(self, x):
        """(N, C_in, H, W) -> (N, 512) pooled features."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.avgpool(x).flatten(1)

    def forward(self, x):
        return self.fc(self.forward_features(x))


def resnet18(num_classes: int = 1000, in_channels: int = 3, stem: str = "imagenet", **kwargs) -> ResNet:
    """ResNet-18: 11,689,512 parameters with 1000 classes (torchvision's count), 11,181,642 with 10."""
    return ResNet([2, 2, 2, 2], num_classes, in_channels, stem, **kwargs)


def resnet34(num_classes: int = 1000, in_channels: int = 3, stem: str = "imagenet", **kwargs) -> ResNet:
    """ResNet-34: 21,797,672 parameters with 1000 classes (torchvision's count)."""
    return ResNet([3, 4, 6, 3], num_classes, in_channels, stem, **kwargs)
