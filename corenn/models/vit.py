"""Vision Transformer (Dosovitskiy et al. 2020), sized for small images such as 28x28 Fashion-MNIST.

    x (N, C, H, W) -> Conv2d(C, dim, kernel=patch, stride=patch) -> (N, P, dim) patches, P = (H/p)(W/p)
      -> [class token; patches] + learned position embedding (N, P + 1, dim) -> dropout
      -> depth x pre-LN TransformerEncoderLayer (GELU MLP) -> LayerNorm -> head on the class token -> (N, classes)
"""
import numpy as np

from .. import nn, ops

__all__ = ["ViT", "vit_fashion_mnist"]


class PatchEmbedding(nn.Module):
    """(N, C, H, W) -> (N, (H/p)(W/p), dim) with one strided convolution (a linear map of each patch)."""

    def __init__(self, image_size, patch_size, in_channels, dim):
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"ViT: image_size ({image_size}) must be divisible by patch_size ({patch_size})")
        self.num_patches = (image_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_channels, dim, patch_size, stride=patch_size)

    def forward(self, x):
        y = self.proj(x)  # (N, dim, H/p, W/p)
        return ops.swapaxes(ops.flatten(y, 2), 1, 2)


class ViT(nn.Module):
    """ViT classifier: ``forward(x)`` x (N, in_channels, image_size, image_size) -> logits (N, num_classes)."""

    def __init__(self, image_size=28, patch_size=7, in_channels=1, num_classes=10, dim=64, depth=4, heads=4,
                 mlp_dim=128, dropout=0.1, emb_dropout=0.0):
        super().__init__()
        self.image_size, self.in_channels = image_size, in_channels
        self.patch_embed = PatchEmbedding(image_size, patch_size, in_channels, dim)
        n = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(np.zeros((1, 1, dim), dtype=np.float32))
        self.pos_embed = nn.Parameter(np.zeros((1, n + 1, dim), dtype=np.float32))
        nn.init.normal_(self.pos_embed, 0.0, 0.02)
        nn.init.normal_(self.cls_token, 0.0, 0.02)
        self.dropout = nn.Dropout(emb_dropout)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=mlp_dim, dropout=dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth)
        for block in self.encoder.layers:  # fresh weights per layer (deep copies start equal)
            for p in block.parameters():
                if p.ndim == 2:
                    nn.init.xavier_uniform_(p)
                elif p.ndim == 1 and p is not block.norm1.weight and p is not block.norm2.weight:
                    nn.init.zeros_(p)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, self.image_size, self.image_size):
            raise ValueError(f"ViT expects (N, {self.in_channels}, {self.image_size}, {self.image_size}) images, "
                             f"got shape {tuple(x.shape)}")
        tokens = self.patch_embed(x)
        cls = ops.expand(self.cls_token, (tokens.shape[0], 1, tokens.shape[2]))
        z = self.dropout(ops.concatenate([cls, tokens], axis=1) + self.pos_embed)
        z = self.norm(self.encoder(z))
        return self.head(z[:, 0])


def vit_fashion_mnist(**kwargs) -> ViT:
    """The ViT used by scripts/fashion_mnist_vit.py: 28x28x1, patch 7 (16 patches + class token), width 64,
    4 layers of 4 heads, MLP 128, no dropout (keyword arguments override)."""
    cfg = dict(image_size=28, patch_size=7, in_channels=1, num_classes=10, dim=64, depth=4, heads=4, mlp_dim=128,
               dropout=0.0)
    cfg.update(kwargs)
    return ViT(**cfg)
