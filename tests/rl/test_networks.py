"""rl.core.networks: activations by name, create_mlp, orthogonal init, FusedLinear / FusedMLP ensembles.

The gradchecks of the engine ops fused_linear and take_min (corenn.nn.functional) are kept here
until they move to corenn's tests.
"""
import numpy as np
import pytest

import corenn
from corenn import nn
from corenn.nn.functional import fused_linear, take_min
from rl.core.networks import (
    FusedLinear,
    FusedMLP,
    activation_key,
    activation_name,
    create_mlp,
    get_activation,
    init_orthogonal,
)


def _t(shape, seed, grad=True):
    rng = np.random.default_rng(seed)
    return corenn.Tensor(rng.standard_normal(shape), requires_grad=grad)


@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
@pytest.mark.parametrize("shared_input", [True, False])
def test_fused_linear_gradcheck_ensemble(activation, shared_input):
    x = _t((5, 3) if shared_input else (2, 5, 3), 0)
    w, b = _t((2, 3, 4), 1), _t((2, 1, 4), 2)
    assert corenn.gradcheck(lambda x, w, b: fused_linear(x, w, b, activation), [x, w, b])


@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
def test_fused_linear_gradcheck_single(activation):
    x, w, b = _t((6, 3), 0), _t((3, 4), 1), _t((4,), 2)
    assert corenn.gradcheck(lambda x, w, b: fused_linear(x, w, b, activation), [x, w, b])


def test_fused_linear_skips_unneeded_grads():
    x, w, b = _t((6, 3), 0, grad=False), _t((3, 4), 1, grad=False), _t((4,), 2)
    fused_linear(x, w, b, "relu").sum().backward()
    assert w.grad is None and x.grad is None and b.grad is not None


def test_ensemble_members_equal_separate_networks():
    corenn.manual_seed(0)
    mlp = FusedMLP(3, 1, [8, 8], "relu", n_members=3)
    x = np.random.default_rng(1).standard_normal((7, 3)).astype(np.float32)
    out = mlp(x).data  # (3, 7, 1)
    assert out.shape == (3, 7, 1)
    for e in range(3):
        h = x
        for i, layer in enumerate(mlp.layers):
            h = h @ layer.weight.data[e] + layer.bias.data[e]
            if i < 2:
                h = np.maximum(h, 0)
        np.testing.assert_allclose(out[e], h, rtol=1e-5, atol=1e-6)


def test_fused_linear_init_and_errors():
    corenn.manual_seed(0)
    layer = FusedLinear(16, 4, n_members=2)
    assert layer.weight.shape == (2, 16, 4) and layer.bias.shape == (2, 1, 4)
    assert np.abs(layer.weight.data).max() <= 0.25 and layer.weight.dtype == np.float32
    with pytest.raises(ValueError, match="activation"):
        FusedLinear(2, 2, activation="gelu")
    mlp = FusedMLP(2, 1, [4], activation="elu")  # non-fused activations run as separate modules
    assert mlp(np.zeros((3, 2), np.float32)).shape == (3, 1)


def test_take_min_gradient_and_dtype():
    q = _t((3, 6), 5)
    assert corenn.gradcheck(take_min, [q])
    q32 = corenn.Tensor(np.array([[1.0, 5.0], [2.0, -1.0]], np.float32), requires_grad=True)
    out = take_min(q32)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [1.0, -1.0])
    assert q32.grad.dtype == np.float32
    np.testing.assert_array_equal(q32.grad, [[1.0, 0.0], [0.0, 1.0]])


def test_activations_by_name_or_class():
    assert get_activation("tanh") is nn.Tanh and get_activation("nn.ReLU") is nn.ReLU
    assert get_activation(nn.ELU) is nn.ELU and activation_name("relu") == "ReLU"
    assert activation_key(nn.Tanh) == "tanh" and activation_key("th.nn.ReLU") == "relu"
    with pytest.raises(ValueError, match="unknown activation"):
        get_activation("swishy")


def test_create_mlp_and_orthogonal_init():
    corenn.manual_seed(0)
    mlp = create_mlp(4, 2, [8, 8], "tanh")
    assert [type(m).__name__ for m in mlp] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert len(create_mlp(4, 0, [8], "relu")) == 2  # no output layer
    init_orthogonal(mlp, 2.0)
    w = mlp[2].weight.data
    np.testing.assert_allclose(w @ w.T, 4.0 * np.eye(8), atol=1e-4)
    assert not mlp[0].bias.data.any()
