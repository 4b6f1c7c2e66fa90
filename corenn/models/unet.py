"""U-Net (Ronneberger et al. 2015) for dense per-pixel classification, with 'same' padding.

    x (N, C_in, H, W) -> inc: DoubleConv -> (N, b, H, W)                          b = base_channels
      -> down i = 1..depth: MaxPool2d(2) + DoubleConv -> (N, b 2^i, H / 2^i, W / 2^i)
      -> up i = depth..1: upsample x2 (ConvTranspose2d 2x2 stride 2 halving the width, or bilinear
         Upsample), concatenate the encoder's skip of the same size, DoubleConv -> (N, b 2^(i-1), ...)
      -> outc: 1x1 Conv2d -> (N, num_classes, H, W) logits

DoubleConv = (3x3 conv, pad 1 -> norm -> ReLU) x 2, with norm "batch" (BatchNorm2d), "group"
(GroupNorm with ``norm_groups`` groups) or None (the conv then has a bias). H and W must be divisible by
2**depth. The paper's network is ``UNet(1, 2, base_channels=64, depth=4)`` (with unpadded convs).
"""
from __future__ import annotations

from .. import nn, ops

__all__ = ["DoubleConv", "UNet"]


class DoubleConv(nn.Module):
    """(N, in_channels, H, W) -> (N, out_channels, H, W): two (3x3 conv -> norm -> ReLU)."""

    def __init__(self, in_channels: int, out_channels: int, norm: str | None = "batch", norm_groups: int = 8):
        super().__init__()
        layers = []
        for c_in in (in_channels, out_channels):
            layers.append(nn.Conv2d(c_in, out_channels, 3, padding=1, bias=norm is None))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(out_channels))
            elif norm == "group":
                layers.append(nn.GroupNorm(norm_groups, out_channels))
            layers.append(nn.ReLU())
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        return self.block(x)


class Up(nn.Module):
    """Upsample (N, c, h, w) x2, concatenate the skip (N, c_skip, 2h, 2w), DoubleConv -> (N, out, 2h, 2w)."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int, mode: str, norm, norm_groups):
        super().__init__()
        if mode == "transpose":
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, 2, stride=2)
            merged = in_channels // 2 + skip_channels
        else:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
            merged = in_channels + skip_channels
        self.conv = DoubleConv(merged, out_channels, norm, norm_groups)

    def forward(self, x, skip):
        return self.conv(ops.concatenate([skip, self.up(x)], axis=1))


class UNet(nn.Module):
    """U-Net: (N, in_channels, H, W) -> (N, num_classes, H, W) per-pixel logits.

    base_channels: width of the first level (doubled at each of the ``depth`` down-steps);
    upsample: "transpose" (ConvTranspose2d 2x2 stride 2) or "bilinear"; norm: "batch", "group" or None.
    Train with ``F.cross_entropy(logits, masks)``, masks (N, H, W) int64.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 2, base_channels: int = 64, depth: int = 4,
                 upsample: str = "transpose", norm: str | None = "batch", norm_groups: int = 8):
        super().__init__()
        for name, v in (("in_channels", in_channels), ("num_classes", num_classes),
                        ("base_channels", base_channels), ("depth", depth)):
            if not isinstance(v, int) or isinstance(v, bool) or v < (0 if name == "depth" else 1):
                raise ValueError(f"UNet: {name} must be a {'non-negative' if name == 'depth' else 'positive'} "
                                 f"int, got {v!r}")
        if upsample not in ("transpose", "bilinear"):
            raise ValueError(f"UNet: upsample must be 'transpose' or 'bilinear', got {upsample!r}")
        if norm not in ("batch", "group", None):
            raise ValueError(f"UNet: norm must be 'batch', 'group' or None, got {norm!r}")
        if norm == "group" and (not isinstance(norm_groups, int) or norm_groups < 1
                                or base_channels % norm_groups):
            raise ValueError(f"UNet: with norm='group', base_channels ({base_channels}) must be divisible by "
                             f"norm_groups ({norm_groups})")
        if upsample == "transpose" and depth and base_channels % 2:
            raise ValueError(f"UNet: upsample='transpose' halves the widths, so base_channels must be even, "
                             f"got {base_channels}")
        self.in_channels, self.num_classes, self.depth = in_channels, num_classes, depth
        widths = [base_channels * 2 ** i for i in range(depth + 1)]
        self.inc = DoubleConv(in_channels, widths[0], norm, norm_groups)
        self.pool = nn.MaxPool2d(2)
        self.downs = nn.ModuleList(DoubleConv(widths[i], widths[i + 1], norm, norm_groups) for i in range(depth))
        self.ups = nn.ModuleList(Up(widths[i + 1], widths[i], widths[i], upsample, norm, norm_groups)
                                 for i in reversed(range(depth)))
        self.outc = nn.Conv2d(widths[0], num_classes, 1)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"UNet expects input (N, {self.in_channels}, H, W), got shape {tuple(x.shape)}")
        h, w = x.shape[2:]
        k = 2 ** self.depth
        if h % k or w % k or h == 0 or w == 0:
            raise ValueError(f"UNet(depth={self.depth}) needs H and W divisible by 2**depth = {k}, got "
                             f"{h}x{w} (pad or crop the input to a multiple of {k})")
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(self.pool(skips[-1])))
        out = skips.pop()
        for up in self.ups:
            out = up(out, skips.pop())
        return self.outc(out)
