"""nn.Module mechanics, layers, state_dict, save/load round trip."""
import numpy as np
import pytest

import corenn as cn
from corenn import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8))
        self.heads = nn.ModuleList([nn.Linear(8, 2), nn.Linear(8, 1)])
        self.norm = nn.BatchNorm1d(8)
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))

    def forward(self, x):
        h = self.norm(self.body(x))
        return self.heads[0](h) * self.scale, self.heads[1](h)


def test_registration_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias",
                     "heads.0.weight", "heads.0.bias", "heads.1.weight", "heads.1.bias",
                     "norm.weight", "norm.bias"]
    assert {n for n, _ in net.named_buffers()} == {"norm.running_mean", "norm.running_var",
                                                  "norm.num_batches_tracked"}
    assert len(list(net.parameters())) == 11
    net.eval()
    assert not net.norm.training and not net.body[0].training
    net.train()
    assert net.heads[1].training


def test_state_dict_roundtrip_and_strict_errors(tmp_path):
    cn.manual_seed(0)
    a, b = Net(), Net()
    a(cn.Tensor(np.random.default_rng(0).standard_normal((6, 4))))  # moves running stats
    b.load_state_dict(a.state_dict())
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    np.testing.assert_array_equal(a.norm.running_mean, b.norm.running_mean)
    sd = a.state_dict()
    sd.pop("scale")
    sd["extra.weight"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"missing keys \['scale'\].*unexpected keys \['extra.weight'\]"):
        b.load_state_dict(sd)
    sd = a.state_dict()
    sd["body.0.weight"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="size mismatch for body.0.weight"):
        b.load_state_dict(sd)
    path = tmp_path / "net.npz"
    cn.save(a.state_dict(), path)
    c = Net()
    c.load_state_dict(cn.load(path))
    x = cn.Tensor(np.ones((3, 4), dtype=np.float32))
    a.eval(), c.eval()
    np.testing.assert_array_equal(a(x)[0].data, c(x)[0].data)


def test_load_state_dict_keeps_parameter_identity():
    net = nn.Linear(3, 2)
    w = net.weight
    net.load_state_dict({"weight": np.zeros((2, 3)), "bias": np.ones(2)})
    assert net.weight is w and np.all(w.data == 0) and w.data.dtype == np.float32


def test_save_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        cn.load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError):
        cn.load(bad)


def test_dropout_and_embedding():
    cn.manual_seed(1)
    d = nn.Dropout(0.5)
    x = cn.Tensor(np.ones((1000,), dtype=np.float32))
    y = d(x).data
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6
    d.eval()
    assert d(x) is x
    emb = nn.Embedding(5, 3)
    out = emb(np.array([[0, 4], [4, 4]]))
    assert out.shape == (2, 2, 3)
    out.sum().backward()
    np.testing.assert_allclose(emb.weight.grad[4], [3, 3, 3])
    with pytest.raises(TypeError):
        emb(np.array([0.5]))
    with pytest.raises(IndexError):
        emb(np.array([5]))


def test_layers_gradcheck():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4))
    for layer in [nn.Linear(4, 3, dtype=np.float64), nn.LayerNorm(4), nn.PReLU(), nn.BatchNorm1d(4)]:
        for p in layer.parameters():
            p.data = p.data.astype(np.float64)
            p.data += rng.uniform(-0.3, 0.3, p.shape)
        params = list(layer.parameters())
        # gradcheck d/d input through the module; parameter gradients: present, with the right shapes
        cn.gradcheck(layer, [cn.Tensor(x, requires_grad=True)])
        for p in params:
            p.grad = None
        loss = (layer(cn.Tensor(x)) * cn.Tensor(rng.standard_normal(layer(cn.Tensor(x)).shape))).sum()
        loss.backward()
        for p in params:
            assert p.grad is not None and p.grad.shape == p.shape


def test_mlp_model():
    m = cn.models.MLP(6, [16, 16], 3, activation="tanh")
    assert m(cn.Tensor(np.zeros((2, 6), dtype=np.float32))).shape == (2, 3)
    with pytest.raises(ValueError, match="unknown activation"):
        cn.models.MLP(2, [2], 1, activation="nope")
