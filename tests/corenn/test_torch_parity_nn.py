"""Layers, activations and losses against PyTorch (skipped when torch is absent)."""
import numpy as np
import pytest

import corenn as cn
import corenn.nn.functional as F
from corenn import nn

torch = pytest.importorskip("torch")
tF = torch.nn.functional


def both(shape, seed=0, low=-2.0, high=2.0):
    a = np.random.default_rng(seed).uniform(low, high, shape)
    return cn.Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def check(ours, theirs, inputs, atol=1e-9):
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), atol=atol, rtol=1e-6)
    w = np.random.default_rng(1).standard_normal(ours.shape)
    (ours * cn.Tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    for a, b in inputs:
        np.testing.assert_allclose(a.grad, b.grad.numpy(), atol=atol, rtol=1e-6)


@pytest.mark.parametrize("name,kwargs", [
    ("relu", {}), ("leaky_relu", {"negative_slope": 0.1}), ("elu", {"alpha": 0.7}),
    ("sigmoid", {}), ("logsigmoid", {}), ("tanh", {}), ("hardtanh", {}), ("gelu", {}),
    ("gelu", {"approximate": "tanh"}), ("silu", {}), ("softplus", {"beta": 1.5}),
    ("softmax", {"dim": 1}), ("log_softmax", {"dim": 0})])
def test_activations(name, kwargs):
    x, tx = both((4, 5), low=-3, high=3)
    ours = {"logsigmoid": F.log_sigmoid}.get(name) or getattr(F, name)
    theirs = getattr(tF, name) if name not in ("sigmoid", "tanh") else getattr(torch, name)
    ckw = dict(kwargs)
    if "dim" in ckw:
        ckw = {"axis": ckw["dim"]}
    check(ours(x, **ckw), theirs(tx, **kwargs), [(x, tx)], atol=2e-7 if name == "gelu" else 1e-9)


def test_linear_layernorm_batchnorm_embedding_prelu():
    rng = np.random.default_rng(0)
    lin, tlin = nn.Linear(5, 3, dtype=np.float64), torch.nn.Linear(5, 3).double()
    lin.load_state_dict({k: v.detach().numpy() for k, v in tlin.state_dict().items()})
    x, tx = both((4, 5))
    check(lin(x), tlin(tx), [(x, tx), (lin.weight, tlin.weight), (lin.bias, tlin.bias)])

    ln, tln = nn.LayerNorm(5), torch.nn.LayerNorm(5).double()
    for p, tp in zip(ln.parameters(), tln.parameters()):
        p.data = rng.standard_normal(p.shape)
        tp.data = torch.tensor(p.data)
    x, tx = both((3, 5), 2)
    check(ln(x), tln(tx), [(x, tx), (ln.weight, tln.weight), (ln.bias, tln.bias)])

    bn, tbn = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3).double()
    for p in bn.parameters():
        p.data = p.data.astype(np.float64)
    bn.running_mean, bn.running_var = bn.running_mean.astype(np.float64), bn.running_var.astype(np.float64)
    for shape in [(6, 3), (4, 3, 5)]:
        x, tx = both(shape, 3)
        check(bn(x), tbn(tx), [(x, tx)])
        np.testing.assert_allclose(bn.running_var, tbn.running_var.numpy(), rtol=1e-6)
        np.testing.assert_allclose(bn.running_mean, tbn.running_mean.numpy(), rtol=1e-6, atol=1e-12)
    bn.eval(), tbn.eval()
    x, tx = both((5, 3), 4)
    check(bn(x), tbn(tx), [(x, tx)])

    pr, tpr = nn.PReLU(3, init=0.2), torch.nn.PReLU(3, init=0.2).double()
    pr.weight.data = pr.weight.data.astype(np.float64)
    x, tx = both((4, 3, 2), 5)
    check(pr(x), tpr(tx), [(x, tx), (pr.weight, tpr.weight)])

    emb, temb = nn.Embedding(6, 4), torch.nn.Embedding(6, 4).double()
    emb.weight.data = temb.weight.detach().numpy().copy()
    idx = np.array([[1, 5, 1], [0, 2, 1]])
    check(emb(idx), temb(torch.tensor(idx)), [(emb.weight, temb.weight)])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses(reduction):
    x, tx = both((6, 4))
    y, ty = both((6, 4), 1)
    for ours, theirs, kw in [(F.mse_loss, tF.mse_loss, {}), (F.l1_loss, tF.l1_loss, {}),
                             (F.huber_loss, tF.huber_loss, {"delta": 0.7}),
                             (F.smooth_l1_loss, tF.smooth_l1_loss, {"beta": 0.5})]:
        x.grad = y.grad = tx.grad = ty.grad = None
        check(ours(x, y, reduction=reduction, **kw), theirs(tx, ty, reduction=reduction, **kw), [(x, tx), (y, ty)])
    labels = np.array([0, 3, 1, 2, 2, 1])
    for kw in ({}, {"label_smoothing": 0.2}):
        x.grad = tx.grad = None
        check(F.cross_entropy(x, labels, reduction=reduction, **kw),
              tF.cross_entropy(tx, torch.tensor(labels), reduction=reduction, **kw), [(x, tx)])
    soft = np.random.default_rng(3).dirichlet(np.ones(4), size=6)
    x.grad = tx.grad = None
    check(F.cross_entropy(x, soft, reduction=reduction, label_smoothing=0.1),
          tF.cross_entropy(tx, torch.tensor(soft), reduction=reduction, label_smoothing=0.1), [(x, tx)])
    x.grad = tx.grad = None
    ignore = np.array([0, -100, 1, 2, -100, 1])
    check(F.cross_entropy(x, ignore, reduction=reduction),
          tF.cross_entropy(tx, torch.tensor(ignore), reduction=reduction), [(x, tx)])
    x.grad = tx.grad = None
    check(F.nll_loss(F.log_softmax(x, axis=1), labels, reduction=reduction),
          tF.nll_loss(tF.log_softmax(tx, dim=1), torch.tensor(labels), reduction=reduction), [(x, tx)])
    p, tp = both((6, 4), 4, 0.05, 0.95)
    target = np.random.default_rng(5).integers(0, 2, (6, 4)).astype(np.float64)
    check(F.binary_cross_entropy(p, target, reduction=reduction),
          tF.binary_cross_entropy(tp, torch.tensor(target), reduction=reduction), [(p, tp)])
    x.grad = tx.grad = None
    pw = np.array([1.0, 2.0, 0.5, 3.0])
    check(F.binary_cross_entropy_with_logits(x, target, reduction=reduction, pos_weight=pw),
          tF.binary_cross_entropy_with_logits(tx, torch.tensor(target), reduction=reduction,
                                              pos_weight=torch.tensor(pw)), [(x, tx)])


def test_loss_modules_match_functions():
    x, _ = both((3, 2))
    y = np.zeros((3, 2))
    assert nn.MSELoss()(x, y).item() == pytest.approx(F.mse_loss(x, y).item())
    assert nn.HuberLoss(delta=0.5)(x, y).item() == pytest.approx(F.huber_loss(x, y, delta=0.5).item())
    assert nn.CrossEntropyLoss(label_smoothing=0.1)(x, np.array([0, 1, 1])).item() == pytest.approx(
        F.cross_entropy(x, np.array([0, 1, 1]), label_smoothing=0.1).item())


def test_mlp_matches_torch_float32():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    m = cn.models.MLP(8, [16], 2, activation="tanh")
    m.load_state_dict({k.replace("", "net.", 1): v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    np.testing.assert_allclose(m(cn.Tensor(x)).data, tm(torch.tensor(x)).detach().numpy(), atol=1e-6)
