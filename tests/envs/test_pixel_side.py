"""corenn/PixelSide-v0 and corenn/PixelSideContinuous-v0: the pixel task the image-policy tests train on."""
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from envs import PixelSideEnv


def dot_is_right(image: np.ndarray) -> bool:
    """Where the white square is, read from the pixels alone."""
    cols = np.flatnonzero(image[..., 0].max(axis=0) == 255)
    assert cols.size > 0
    return cols.mean() >= image.shape[1] / 2


@pytest.mark.parametrize("env_id", ["corenn/PixelSide-v0", "corenn/PixelSideContinuous-v0"])
def test_registered_and_passes_the_gymnasium_checker(env_id):
    env = gym.make(env_id)
    assert env.observation_space == gym.spaces.Box(0, 255, (36, 36, 3), np.uint8)
    check_env(env.unwrapped, skip_render_check=True)


def test_one_dot_per_image_inside_one_half():
    env = PixelSideEnv()
    obs, _ = env.reset(seed=0)
    sides = []
    for _ in range(200):
        assert obs.dtype == np.uint8 and obs.shape == (36, 36, 3)
        lit = obs[..., 0] == 255
        assert lit.sum() == 36 and set(np.unique(obs)) == {0, 255}  # one 6x6 square on black
        cols = np.flatnonzero(lit.any(axis=0))
        assert cols.max() < 18 or cols.min() >= 18  # never across the middle
        sides.append(dot_is_right(obs))
        obs, *_ = env.step(0)
    assert 0.35 < np.mean(sides) < 0.65  # both sides, about equally often


def test_discrete_reward_is_one_for_the_dot_side():
    env = PixelSideEnv(episode_length=50)
    obs, _ = env.reset(seed=1)
    for t in range(50):
        right = dot_is_right(obs)
        action = int(right) if t % 3 else int(not right)  # every third answer wrong
        obs, reward, terminated, truncated, info = env.step(action)
        assert reward == float(action == int(right)) and info["correct"] == (action == int(right))
        assert not terminated and truncated == (t == 49)


def test_continuous_reward_is_action_times_side():
    env = gym.make("corenn/PixelSideContinuous-v0")
    obs, _ = env.reset(seed=2)
    for a in (0.5, -0.25, 1.0, -1.0, 3.0):
        side = 1.0 if dot_is_right(obs) else -1.0
        obs, reward, *_ = env.step(np.array([a], np.float32))
        assert reward == pytest.approx(side * min(a, 1.0))


def test_episode_length_and_returns():
    env = gym.make("corenn/PixelSide-v0", episode_length=4)
    obs, _ = env.reset(seed=3)
    total, steps, done = 0.0, 0, False
    while not done:
        obs, reward, terminated, truncated, _ = env.step(int(dot_is_right(obs)))
        total, steps, done = total + reward, steps + 1, terminated or truncated
    assert (steps, total) == (4, 4.0)


def test_dict_observations_hold_the_image_and_the_time():
    env = PixelSideEnv(observation_mode="dict", episode_length=5)
    assert set(env.observation_space.spaces) == {"image", "time"}
    obs, _ = env.reset(seed=4)
    times = [float(obs["time"][0])]
    for _ in range(4):
        obs, *_ = env.step(1)
        assert env.observation_space.contains(obs)
        times.append(float(obs["time"][0]))
    assert times == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8])


def test_seeding_repeats_the_images():
    a, b = PixelSideEnv(), PixelSideEnv()
    obs_a, _ = a.reset(seed=7)
    obs_b, _ = b.reset(seed=7)
    for _ in range(5):
        np.testing.assert_array_equal(obs_a, obs_b)
        obs_a, *_ = a.step(0)
        obs_b, *_ = b.step(0)


def test_render_returns_the_frame():
    env = PixelSideEnv(render_mode="rgb_array")
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(env.render(), obs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(size=10, dot_size=6), "dot_size"), (dict(size=2), "size"), (dict(episode_length=0), "episode_length"),
    (dict(observation_mode="pixels"), "observation_mode"), (dict(render_mode="human"), "render_mode"),
])
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PixelSideEnv(**kwargs)


def test_bad_discrete_action_is_refused():
    env = PixelSideEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="0 \\(left\\) or 1 \\(right\\)"):
        env.step(2)


def test_exported_from_envs():
    assert envs.PixelSideEnv is PixelSideEnv
