"""A small time- (and class-) conditioned U-Net that predicts the noise eps_theta(x_t, t, y) of a diffusion model.

    t (N,) -> sinusoidal(t, b) -> Linear(b, 4b) -> SiLU -> Linear(4b, 4b) = emb (N, 4b)      b = base_channels
    y (N,) -> Embedding(num_classes + 1, 4b), added to emb; index num_classes is the learned null class (CFG)
    x (N, C, H, W) -> conv_in 3x3 -> (N, b, H, W)
      level i = 0 .. L-1 (width b * mults[i]): num_res_blocks ResBlocks, keep a skip, then (except at the
        last level) a 3x3 stride-2 conv: H -> H/2 (28 -> 14 -> 7; 32 -> 16 -> 8)
      middle: ResBlock, self-attention (if attention=True), ResBlock at the lowest resolution
      level i = L-1 .. 0: concatenate the skip, ResBlock, then nearest x2 upsampling + 3x3 conv (except at level 0)
      -> GroupNorm, SiLU, conv_out 3x3 -> (N, C, H, W)

ResBlock(x, emb) = skip(x) + conv2(SiLU(GN(conv1(SiLU(GN(x))) + Linear(SiLU(emb))[:, :, None, None])))
(Ho et al.'s block, without dropout). H and W must be divisible by 2^(L-1).
"""
from __future__ import annotations

import math

import numpy as np

import corenn
import corenn.nn.functional as F
from corenn import nn

__all__ = ["sinusoidal_time_embedding", "ResBlock", "SelfAttention2d", "TimeConditionedUNet"]


def sinusoidal_time_embedding(t, dim: int, max_period: float = 10000.0) -> np.ndarray:
    """(N,) timesteps -> (N, dim) float32 [sin(t w_k), cos(t w_k)], w_k = max_period^(-k / (dim/2)) (Vaswani et al.).

    t is an input (no gradient flows to it), so this is a plain ndarray function."""
    t = np.asarray(getattr(t, "data", t), dtype=np.float64)
    if t.ndim != 1:
        raise ValueError(f"timesteps must be a 1-D array (N,), got shape {t.shape}")
    if dim < 2 or dim % 2:
        raise ValueError(f"the time-embedding size must be an even int >= 2, got {dim}")
    half = dim // 2
    freqs = np.exp(-math.log(max_period) * np.arange(half, dtype=np.float64) / half)
    angles = t[:, None] * freqs[None, :]
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1).astype(np.float32)


class ResBlock(nn.Module):
    """(N, c_in, H, W), emb (N, emb_dim) -> (N, c_out, H, W); the embedding shifts every channel after conv1."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb_proj = nn.Linear(emb_dim, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        shift = self.emb_proj(F.silu(emb))
        h = h + shift.reshape(shift.shape[0], shift.shape[1], 1, 1)
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class SelfAttention2d(nn.Module):
    """(N, C, H, W) -> (N, C, H, W): x + proj(softmax(q k^T / sqrt(d)) v) over the H*W positions, ``heads`` heads."""

    def __init__(self, channels: int, groups: int, heads: int = 1):
        super().__init__()
        if channels % heads:
            raise ValueError(f"SelfAttention2d: channels ({channels}) must be divisible by heads ({heads})")
        self.heads = heads
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        n, c, h, w = x.shape
        d = c // self.heads
        qkv = self.qkv(self.norm(x)).reshape(n, 3, self.heads, d, h * w).permute(1, 0, 2, 4, 3)  # (3, N, heads, HW, d)
        q, k, v = qkv[0], qkv[1], qkv[2]
        out = F.scaled_dot_product_attention(q, k, v)                                          # (N, heads, HW, d)
        out = out.permute(0, 1, 3, 2).reshape(n, c, h, w)
        return x + self.proj(out)


def _positive_int(value, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"TimeConditionedUNet: {name} must be a positive int, got {value!r}")
    return int(value)


class TimeConditionedUNet(nn.Module):
    """eps_theta: (x (N, C, H, W), t (N,) ints, y (N,) ints or None) -> (N, C, H, W).

    base_channels b and channel_mults set the widths (b * m per level; one fewer downsampling than levels);
    num_classes: None for an unconditional network, else the class embedding has num_classes + 1 rows and
    y == num_classes (``null_class``) means "no label" (classifier-free guidance); groups: GroupNorm groups
    (every width must be divisible by it); attention: one self-attention block in the middle.
    """

    def __init__(self, in_channels: int = 1, base_channels: int = 32, channel_mults=(1, 2, 2),
                 num_res_blocks: int = 1, num_classes: int | None = None, attention: bool = True,
                 groups: int = 8, heads: int = 1):
        super().__init__()
        b = _positive_int(base_channels, "base_channels")
        mults = tuple(_positive_int(m, "each of channel_mults") for m in channel_mults)
        if not mults:
            raise ValueError("TimeConditionedUNet: channel_mults must name at least one level")
        widths = [b * m for m in mults]
        groups = _positive_int(groups, "groups")
        if any(w % groups for w in widths):
            raise ValueError(f"TimeConditionedUNet: every width {widths} must be divisible by groups ({groups})")
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.num_res_blocks = _positive_int(num_res_blocks, "num_res_blocks")
        self.num_classes = None if num_classes is None else _positive_int(num_classes, "num_classes")
        self.levels, self.base_channels = len(widths), b
        emb = 4 * b
        self.time_mlp = nn.Sequential(nn.Linear(b, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.class_emb = None if num_classes is None else nn.Embedding(self.num_classes + 1, emb)
        self.conv_in = nn.Conv2d(self.in_channels, b, 3, padding=1)

        self.down_blocks, self.downsamples = nn.ModuleList(), nn.ModuleList()
        c = b
        for i, w in enumerate(widths):
            self.down_blocks.append(nn.ModuleList(ResBlock(c if j == 0 else w, w, emb, groups)
                                                  for j in range(self.num_res_blocks)))
            c = w
            if i < self.levels - 1:
                self.downsamples.append(nn.Conv2d(w, w, 3, stride=2, padding=1))
        self.mid1 = ResBlock(c, c, emb, groups)
        self.mid_attn = SelfAttention2d(c, groups, heads) if attention else nn.Identity()
        self.mid2 = ResBlock(c, c, emb, groups)

        self.up_blocks, self.upsamples = nn.ModuleList(), nn.ModuleList()
        for i in reversed(range(self.levels)):
            w = widths[i]
            self.up_blocks.append(ResBlock(c + w, w, emb, groups))
            c = w
            if i > 0:
                self.upsamples.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                                    nn.Conv2d(w, widths[i - 1], 3, padding=1)))
                c = widths[i - 1]
        self.norm_out = nn.GroupNorm(groups, c)
        self.conv_out = nn.Conv2d(c, self.in_channels, 3, padding=1)

    @property
    def null_class(self) -> int | None:
        """The label meaning "unconditional" (the extra row of the class embedding)."""
        return self.num_classes

    def embed(self, t, y) -> corenn.Tensor:
        """(N,) timesteps and labels -> the (N, 4b) embedding every ResBlock reads."""
        emb = self.time_mlp(corenn.Tensor(sinusoidal_time_embedding(t, self.base_channels)))
        if self.class_emb is None:
            if y is not None:
                raise ValueError("this U-Net is unconditional (num_classes=None) but got labels")
            return emb
        if y is None:
            raise ValueError(f"this U-Net is class-conditional: pass labels in [0, {self.num_classes}] "
                             f"({self.num_classes} = no label)")
        y = np.asarray(getattr(y, "data", y))
        if y.shape != (emb.shape[0],) or y.dtype.kind not in "iu":
            raise ValueError(f"labels must be ({emb.shape[0]},) integers, got {y.shape} {y.dtype}")
        if y.size and (y.min() < 0 or y.max() > self.num_classes):
            raise ValueError(f"labels must lie in [0, {self.num_classes}] ({self.num_classes} = no label), "
                             f"got {y.min()}..{y.max()}")
        return emb + self.class_emb(y)

    def forward(self, x, t, y=None):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"TimeConditionedUNet expects x of shape (N, {self.in_channels}, H, W), got {x.shape}")
        k = 2 ** (self.levels - 1)
        if x.shape[2] % k or x.shape[3] % k:
            raise ValueError(f"TimeConditionedUNet with {self.levels} levels needs H and W divisible by {k}, "
                             f"got {x.shape[2]}x{x.shape[3]}")
        t = np.asarray(getattr(t, "data", t))
        if t.shape != (x.shape[0],):
            raise ValueError(f"timesteps must have shape ({x.shape[0]},), got {t.shape}")
        emb = self.embed(t, y)
        h = self.conv_in(x)
        skips = []
        for i, blocks in enumerate(self.down_blocks):
            for block in blocks:
                h = block(h, emb)
            skips.append(h)
            if i < self.levels - 1:
                h = self.downsamples[i](h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb)), emb)
        for i, block in enumerate(self.up_blocks):
            h = block(corenn.cat([h, skips.pop()], axis=1), emb)
            if i < self.levels - 1:
                h = self.upsamples[i](h)
        return self.conv_out(F.silu(self.norm_out(h)))
