"""ViT: patch embedding, shapes, gradients, and learning a small synthetic image task."""
import numpy as np
import pytest

import corenn as cn
import corenn.nn.functional as F
from corenn.models import ViT, vit_fashion_mnist


def test_vit_shapes_parameters_and_gradients():
    cn.manual_seed(0)
    model = vit_fashion_mnist()
    x = cn.Tensor(np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32))
    logits = model(x)
    assert logits.shape == (3, 10) and logits.dtype == np.float32
    assert model.patch_embed.num_patches == 16 and model.pos_embed.shape == (1, 17, 64)
    names = dict(model.named_parameters())
    assert "encoder.layers.3.self_attn.in_proj_weight" in names and "cls_token" in names
    # the layers are independent copies with their own weights
    assert not np.allclose(names["encoder.layers.0.linear1.weight"].data, names["encoder.layers.1.linear1.weight"].data)
    F.cross_entropy(logits, np.array([0, 1, 2])).backward()
    assert all(p.grad is not None and np.all(np.isfinite(p.grad)) for p in model.parameters())
    assert np.abs(model.cls_token.grad).sum() > 0 and np.abs(model.pos_embed.grad).sum() > 0


def test_patch_embedding_sees_each_patch_once():
    model = ViT(image_size=8, patch_size=4, in_channels=2, num_classes=3, dim=8, depth=1, heads=2, mlp_dim=8)
    x = np.zeros((1, 2, 8, 8), np.float32)
    x[0, :, 4:, :4] = 1.0  # only patch (1, 0), the third in row-major order
    tokens = model.patch_embed(cn.Tensor(x)).data[0]
    bias = model.patch_embed.proj.bias.data
    changed = ~np.all(np.isclose(tokens, bias), axis=1)
    np.testing.assert_array_equal(changed, [False, False, True, False])


def test_vit_learns_a_synthetic_task():
    cn.manual_seed(1)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 64)
    x = rng.standard_normal((64, 1, 8, 8)).astype(np.float32) * 0.3
    x[y == 1, :, :4] += 1.0  # class 1: bright top half
    model = ViT(image_size=8, patch_size=4, in_channels=1, num_classes=2, dim=16, depth=1, heads=2, mlp_dim=16,
                dropout=0.0)
    opt = cn.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(30):
        loss = F.cross_entropy(model(cn.Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    assert (model(cn.Tensor(x)).data.argmax(1) == y).mean() > 0.95


def test_vit_rejects_wrong_input():
    with pytest.raises(ValueError, match="divisible"):
        ViT(image_size=28, patch_size=5)
    with pytest.raises(ValueError, match="expects"):
        vit_fashion_mnist()(cn.Tensor(np.zeros((2, 1, 32, 32), np.float32)))
