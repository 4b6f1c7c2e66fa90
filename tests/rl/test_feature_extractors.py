"""Features extractors (rl.core.feature_extractors): SB3's NatureCNN / CombinedExtractor / FlattenExtractor
shapes and errors, the name registry, and NatureCNN against the same network in PyTorch."""
import numpy as np
import pytest
from gymnasium import spaces

import corenn
from corenn import nn
from rl.core.feature_extractors import (
    BaseFeaturesExtractor,
    CombinedExtractor,
    FlattenExtractor,
    NatureCNN,
    features_extractor_name,
    nature_cnn_output_size,
    register_features_extractor,
    registered_features_extractors,
    resolve_features_extractor_class,
)
from rl.core.preprocessing import NATURE_CNN_MIN_SIZE


def image(shape, dtype=np.uint8, low=0, high=255):
    return spaces.Box(low, high, shape, dtype)


def batch(shape, n=2, seed=0):
    return corenn.Tensor(np.random.default_rng(seed).random((n, *shape), dtype=np.float32))


@pytest.mark.parametrize("shape, n_flatten", [((3, 36, 36), 64), ((4, 84, 84), 3136), ((1, 40, 52), 64 * 1 * 3)])
def test_nature_cnn_shapes(shape, n_flatten):
    cnn = NatureCNN(image(shape))
    assert cnn.features_dim == 512
    assert [type(m).__name__ for m in cnn.cnn] == ["Conv2d", "ReLU", "Conv2d", "ReLU", "Conv2d", "ReLU", "Flatten"]
    convs = [m for m in cnn.cnn if isinstance(m, nn.Conv2d)]
    assert [(c.weight.shape, c.stride) for c in convs] == [
        ((32, shape[0], 8, 8), (4, 4)), ((64, 32, 4, 4), (2, 2)), ((64, 64, 3, 3), (1, 1))]
    assert cnn.linear[0].weight.shape == (512, n_flatten)
    out = cnn(batch(shape))
    assert out.shape == (2, 512) and out.dtype == np.float32 and (out.data >= 0).all()  # ends in ReLU
    small = NatureCNN(image(shape), features_dim=16)
    assert small(batch(shape, n=5)).shape == (5, 16)


def test_nature_cnn_minimum_size_is_36():
    assert NATURE_CNN_MIN_SIZE == 36
    assert nature_cnn_output_size(36, 36) == (1, 1) and nature_cnn_output_size(35, 36) == (0, 1)
    NatureCNN(image((3, 36, 36)))
    with pytest.raises(ValueError, match="at least 36"):
        NatureCNN(image((3, 35, 64)))


@pytest.mark.parametrize("space", [spaces.Box(-1, 1, (4,)), image((3, 36, 36), np.float32, 0.0, 1.0),
                                   spaces.Discrete(3)])
def test_nature_cnn_refuses_what_is_not_an_image(space):
    with pytest.raises(ValueError, match="NatureCNN"):
        NatureCNN(space)


def test_nature_cnn_takes_normalized_float_images_when_told():
    space = image((3, 36, 36), np.float32, 0.0, 1.0)
    assert NatureCNN(space, features_dim=8, normalized_image=True)(batch((3, 36, 36))).shape == (2, 8)
    with pytest.raises(ValueError, match="features_dim"):
        NatureCNN(image((3, 36, 36)), features_dim=0)


def test_nature_cnn_gradients_reach_every_convolution():
    cnn = NatureCNN(image((3, 36, 36)), features_dim=8)
    (cnn(batch((3, 36, 36))) ** 2).sum().backward()
    grads = [p.grad for p in cnn.parameters()]
    assert len(grads) == 8 and all(g is not None and np.abs(g).sum() > 0 for g in grads)


def test_nature_cnn_matches_pytorch():
    torch = pytest.importorskip("torch")
    ours = NatureCNN(image((3, 44, 44)), features_dim=32)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(3, 32, 8, 4), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 4, 2), torch.nn.ReLU(),
        torch.nn.Conv2d(64, 64, 3, 1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(64 * 4, 32),
        torch.nn.ReLU())
    mine = [p.data for p in ours.parameters()]
    with torch.no_grad():
        for p, value in zip(theirs.parameters(), mine):
            p.copy_(torch.from_numpy(value))
    x = batch((3, 44, 44), n=3, seed=1)
    expected = theirs(torch.from_numpy(x.data)).detach().numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-4, atol=1e-5)


def test_combined_extractor_cnn_per_image_key_flatten_for_the_rest():
    space = spaces.Dict({"cam": image((3, 36, 36)), "d": spaces.Discrete(3), "v": spaces.Box(-1, 1, (2, 2))})
    ext = CombinedExtractor(space, cnn_output_dim=16)
    assert isinstance(ext.extractors["cam"], NatureCNN) and isinstance(ext.extractors["v"], FlattenExtractor)
    assert ext.features_dim == 16 + 3 + 4
    obs = {"cam": batch((3, 36, 36)), "d": corenn.Tensor(np.eye(3, dtype=np.float32)[[0, 2]]),
           "v": corenn.Tensor(np.arange(8, dtype=np.float32).reshape(2, 2, 2))}
    out = ext(obs)
    assert out.shape == (2, 23)
    np.testing.assert_array_equal(out.data[:, 16:19], obs["d"].data)  # key order of the space
    np.testing.assert_array_equal(out.data[:, 19:], obs["v"].data.reshape(2, 4))
    with pytest.raises(ValueError, match="Dict observation space"):
        CombinedExtractor(image((3, 36, 36)))


def test_flatten_extractor_from_a_space_or_a_size():
    assert FlattenExtractor(7).features_dim == 7
    assert FlattenExtractor(spaces.Box(0, 1, (2, 3))).features_dim == 6
    flat = corenn.Tensor(np.ones((4, 7), np.float32))
    assert FlattenExtractor(7)(flat) is flat  # the MLP fast path: no copy
    assert FlattenExtractor(spaces.Box(0, 1, (2, 3)))(corenn.Tensor(np.ones((4, 2, 3), np.float32))).shape == (4, 6)


def test_registry_resolves_names_never_paths():
    assert {"FlattenExtractor", "NatureCNN", "CombinedExtractor"} <= set(registered_features_extractors())
    assert resolve_features_extractor_class("NatureCNN") is NatureCNN
    assert resolve_features_extractor_class("stable_baselines3.common.torch_layers.NatureCNN") is NatureCNN
    assert resolve_features_extractor_class(NatureCNN) is NatureCNN
    for bad in ("os.system", "builtins.eval", "NotAnExtractor"):
        with pytest.raises(ValueError, match="registered extractors are"):
            resolve_features_extractor_class(bad)
    with pytest.raises(TypeError):
        resolve_features_extractor_class(dict)
    assert features_extractor_name(CombinedExtractor) == "CombinedExtractor"


def test_register_a_custom_extractor():
    class Unregistered(BaseFeaturesExtractor):
        def __init__(self, observation_space):
            super().__init__(observation_space, 3)

    with pytest.raises(ValueError, match="not registered"):
        features_extractor_name(Unregistered)

    @register_features_extractor(name="TinyTestExtractor")
    class Tiny(BaseFeaturesExtractor):
        def __init__(self, observation_space, width: int = 4):
            super().__init__(observation_space, width)
            self.linear = nn.Linear(int(np.prod(observation_space.shape)), width)

        def forward(self, x):
            return self.linear(x.reshape(x.shape[0], -1))

    assert resolve_features_extractor_class("TinyTestExtractor") is Tiny
    assert features_extractor_name(Tiny) == "TinyTestExtractor"
    with pytest.raises(TypeError, match="Module subclass"):
        register_features_extractor(int)
