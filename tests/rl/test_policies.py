"""rl.core.policies: observation preprocessing, optimizers by name, target-network copies."""
import gymnasium as gym
import numpy as np
import pytest

import corenn
from corenn import nn, optim
from rl.core.policies import ObsPreprocessor, frozen_copy, get_optimizer_class

BOX4 = gym.spaces.Box(-1, 1, (4,), np.float32)


def test_preprocessor():
    disc = ObsPreprocessor(gym.spaces.Discrete(3))
    np.testing.assert_array_equal(disc(np.array([2, 0])), [[0, 0, 1], [1, 0, 0]])
    assert not disc.is_batched(np.int64(1)) and disc.is_batched(np.array([1, 2]))
    d = ObsPreprocessor(gym.spaces.Dict({"a": BOX4, "b": gym.spaces.Discrete(2)}))
    out = d({"a": np.ones((2, 4)), "b": np.array([1, 0])})
    assert out.shape == (2, 6) and d.features_dim == 6
    box = ObsPreprocessor(BOX4)
    with pytest.raises(ValueError, match=r"expected \(4,\)"):
        box.is_batched(np.zeros(3))
    with pytest.raises(ValueError, match="unsupported observation space"):
        ObsPreprocessor(gym.spaces.Tuple([BOX4]))


def test_optimizer_class_by_name():
    assert get_optimizer_class("th.optim.Adam") is optim.Adam and get_optimizer_class("rmsprop") is optim.RMSprop
    assert get_optimizer_class(optim.SGD) is optim.SGD
    with pytest.raises(ValueError, match="unknown optimizer"):
        get_optimizer_class("Lion")


def test_frozen_copy_has_the_weights_and_no_gradients():
    corenn.manual_seed(0)
    online = nn.Linear(3, 2)
    target = frozen_copy(online, lambda: nn.Linear(3, 2))
    np.testing.assert_array_equal(target.weight.data, online.weight.data)
    assert target.weight.data is not online.weight.data
    assert not any(p.requires_grad for p in target.parameters()) and online.weight.requires_grad
