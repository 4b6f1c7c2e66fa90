"""SB3's image conventions (rl.core.preprocessing) and VecTransposeImage."""
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import envs  # noqa: F401  (corenn/PixelSide-v0)
from rl.core.preprocessing import (
    get_flattened_obs_dim,
    has_image_space,
    is_image_space,
    is_image_space_channels_first,
    maybe_transpose,
    needs_transpose,
    preprocess_obs,
    transpose_space,
)
from rl.core.vec_env import VecTransposeImage, make_vec_env, wrap_env


def image(shape, dtype=np.uint8, low=0, high=255):
    return spaces.Box(low, high, shape, dtype)


@pytest.mark.parametrize("space, plain, channels, normalized", [
    (image((36, 36, 3)), True, True, True),
    (image((4, 84, 84)), True, True, True),
    (image((36, 36, 2)), True, False, True),  # two channels: an image, but not 1, 3 or 4 of them
    (image((36, 36, 3), np.float32, 0.0, 1.0), False, False, True),  # float images only with normalized_image
    (image((36, 36, 3), np.uint8, 0, 254), False, False, True),  # bounds must be 0..255
    (image((36, 36)), False, False, False),  # 2-D
    (image((2, 36, 36, 3)), False, False, False),  # 4-D
    (spaces.Discrete(5), False, False, False),
    (spaces.Dict({"image": image((36, 36, 3))}), False, False, False),  # a Dict is not itself an image
])
def test_is_image_space(space, plain, channels, normalized):
    assert is_image_space(space) == plain
    assert is_image_space(space, check_channels=True) == channels
    assert is_image_space(space, normalized_image=True) == normalized


def test_channel_order_is_read_from_the_smallest_dimension():
    assert is_image_space_channels_first(image((3, 36, 36)))
    assert not is_image_space_channels_first(image((36, 36, 3)))
    with pytest.warns(UserWarning, match="second dimension"):
        assert not is_image_space_channels_first(image((36, 1, 36)))
    assert needs_transpose(image((36, 36, 3))) and not needs_transpose(image((3, 36, 36)))
    assert needs_transpose(spaces.Dict({"a": image((40, 40, 1)), "b": spaces.Discrete(2)}))
    assert not needs_transpose(image((36, 36, 3), np.float32, 0.0, 1.0))
    assert has_image_space(spaces.Dict({"a": image((40, 40, 1)), "b": spaces.Discrete(2)}))
    assert not has_image_space(spaces.Dict({"b": spaces.Discrete(2)}))


def test_transpose_space_and_maybe_transpose():
    hwc = image((36, 40, 3))
    chw = transpose_space(hwc)
    assert chw == image((3, 36, 40)) and transpose_space(chw) is chw
    x = np.random.default_rng(0).integers(0, 256, (36, 40, 3), dtype=np.uint8)
    np.testing.assert_array_equal(maybe_transpose(x, chw), x.transpose(2, 0, 1))
    batch = np.stack([x, x[::-1]])
    np.testing.assert_array_equal(maybe_transpose(batch, chw), batch.transpose(0, 3, 1, 2))
    already = x.transpose(2, 0, 1)
    assert maybe_transpose(already, chw) is already  # fits: unchanged
    odd = np.zeros((5, 5, 3), np.uint8)
    assert maybe_transpose(odd, chw) is odd  # does not fit either way: left for the shape check to name
    dict_space = spaces.Dict({"img": chw, "v": spaces.Box(-1, 1, (2,))})
    out = maybe_transpose({"img": x, "v": np.zeros(2)}, dict_space)
    assert out["img"].shape == (3, 36, 40) and out["v"].shape == (2,)


def test_preprocess_obs_scales_images_and_encodes_discrete():
    space = spaces.Dict({"img": image((1, 36, 36)), "d": spaces.Discrete(3, start=1), "v": spaces.Box(-1, 1, (2,))})
    obs = {"img": np.full((2, 1, 36, 36), 255, np.uint8), "d": np.array([1, 3]), "v": np.ones((2, 2), np.float64)}
    out = preprocess_obs(obs, space)
    assert out["img"].dtype == np.float32 and out["img"].max() == 1.0
    np.testing.assert_array_equal(out["d"], [[1, 0, 0], [0, 0, 1]])
    assert out["v"].dtype == np.float32
    raw = preprocess_obs(obs, space, normalize_images=False)
    assert raw["img"].max() == 255.0 and raw["img"].dtype == np.float32
    assert get_flattened_obs_dim(space) == 36 * 36 + 3 + 2


def test_vec_transpose_image_shapes_spaces_and_final_observations():
    venv = VecTransposeImage(make_vec_env("corenn/PixelSide-v0", n_envs=2, seed=0, env_kwargs={"episode_length": 2}))
    assert venv.single_observation_space == image((3, 36, 36))
    assert venv.observation_space.shape == (2, 3, 36, 36)
    obs, _ = venv.reset()
    assert obs.shape == (2, 3, 36, 36) and obs.dtype == np.uint8 and obs.flags.c_contiguous
    venv.step(np.array([0, 1]))
    obs, _, _, truncated, infos = venv.step(np.array([0, 1]))
    assert truncated.all() and obs.shape == (2, 3, 36, 36)
    assert all(f.shape == (3, 36, 36) for f in infos["final_obs"])


def test_vec_transpose_image_dict_and_errors():
    venv = VecTransposeImage(make_vec_env(lambda: envs.PixelSideEnv(observation_mode="dict"), n_envs=1, seed=0))
    assert venv.single_observation_space["image"].shape == (3, 36, 36)
    assert venv.single_observation_space["time"].shape == (1,)
    obs, _ = venv.reset()
    assert obs["image"].shape == (1, 3, 36, 36) and obs["time"].shape == (1, 1)
    with pytest.raises(ValueError, match="channel-last image"):
        VecTransposeImage(make_vec_env("CartPole-v1"))
    with pytest.raises(ValueError, match="channel-last image"):
        VecTransposeImage(venv)  # already channel-first


def test_agents_wrap_channel_last_images_themselves():
    venv = wrap_env("corenn/PixelSide-v0", n_envs=2, seed=0)
    assert isinstance(venv, VecTransposeImage) and venv.single_observation_space.shape == (3, 36, 36)
    assert wrap_env(venv) is venv  # not twice
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not isinstance(wrap_env("CartPole-v1"), VecTransposeImage)
    single = wrap_env(gym.make("corenn/PixelSide-v0"))
    assert single.single_observation_space.shape == (3, 36, 36)
