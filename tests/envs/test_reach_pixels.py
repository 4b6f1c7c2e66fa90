"""ArmReachPixels: spaces, seeding, what the image shows and where, reward/success, checker, speed."""
import time
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from envs.reach import ArmReachEnv, scripted_action
from envs.reach_pixels import (
    GOAL_CHANNEL,
    GOAL_VALUE,
    LINK_CHANNEL,
    LINK_VALUES,
    THRESHOLD_VALUE,
    TIP_CHANNEL,
    TIP_VALUE,
    ArmRasteriser,
    ArmReachPixelsEnv,
)

PIXEL_IDS = ["corenn/ArmReachPixels-v0", "corenn/ArmReachPixelsState-v0"]


def centroid(channel, mask) -> np.ndarray:
    """(column, row) intensity-weighted centroid of the masked pixels, in continuous pixel coordinates."""
    rows, cols = np.nonzero(mask)
    w = channel[rows, cols].astype(np.float64)
    return np.array([np.sum(w * (cols + 0.5)), np.sum(w * (rows + 0.5))]) / w.sum()


def segment_distance(points, a, b) -> np.ndarray:
    """Distance of each (N, 2) point to the segment a-b."""
    ab = b - a
    t = np.clip(((points - a) @ ab) / (ab @ ab), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=1)


@pytest.mark.parametrize("size", [36, 64, 96])
def test_spaces_dtypes_and_state(size):
    env = ArmReachPixelsEnv(size=size)
    assert env.observation_space == gym.spaces.Box(0, 255, (size, size, 3), np.uint8)
    obs, info = env.reset(seed=0)
    assert obs.shape == (size, size, 3) and obs.dtype == np.uint8 and obs in env.observation_space
    assert set(info) == {"is_success", "distance"}

    env = ArmReachPixelsEnv(obs_mode="pixels_state", size=size)
    assert isinstance(env.observation_space, gym.spaces.Dict)
    assert list(env.observation_space.spaces) == ["pixels", "state"]
    assert env.observation_space["state"].shape == (8,) and env.observation_space["state"].dtype == np.float32
    obs, _ = env.reset(seed=0)
    arm = ArmReachEnv()
    arm_obs, _ = arm.reset(seed=0)
    assert obs in env.observation_space and obs["pixels"].shape == (size, size, 3)
    np.testing.assert_array_equal(obs["state"], arm_obs["observation"])  # the arm's proprioception
    for _ in range(3):
        action = env.action_space.sample()
        obs, *_ = env.step(action)
        np.testing.assert_array_equal(obs["state"], arm.step(action)[0]["observation"])
    assert env.action_space == arm.action_space


def rollout(env, seed, steps):
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    frames, rewards = [obs], []
    for _ in range(steps):
        obs, reward, *_ = env.step(env.action_space.sample())
        frames.append(obs)
        rewards.append(reward)
    return np.array(frames), rewards


def test_determinism_under_seed_and_same_arm_as_armreach():
    a, ra = rollout(ArmReachPixelsEnv(), 7, 12)
    b, rb = rollout(ArmReachPixelsEnv(), 7, 12)
    c, _ = rollout(ArmReachPixelsEnv(), 8, 12)
    np.testing.assert_array_equal(a, b)
    assert ra == rb
    assert not np.array_equal(a[0], c[0])
    # same pose, goal and rewards as the state env with the same seed and actions
    env, arm = ArmReachPixelsEnv(), ArmReachEnv(reward_type="dense")
    env.reset(seed=4)
    arm.reset(seed=4)
    np.testing.assert_array_equal(env.goal, arm.goal)
    for _ in range(5):
        action = env.action_space.sample()
        _, reward, _, _, info = env.step(action)
        _, arm_reward, _, _, arm_info = arm.step(action)
        assert reward == arm_reward and info == arm_info
        np.testing.assert_array_equal(env.fingertip, arm.fingertip)
    assert env.np_random is env.arm.np_random


@pytest.mark.parametrize("size", [36, 64, 128])
def test_goal_and_fingertip_drawn_where_they_are(size):
    env = ArmReachPixelsEnv(size=size)
    to_pixel = env.rasteriser.to_pixel
    for seed in range(8):
        obs, _ = env.reset(seed=seed)
        red = obs[:, :, GOAL_CHANNEL]
        core = red > 0.5 * red.max()  # the bright goal disc, not the dim success disc
        assert np.linalg.norm(centroid(red, core) - to_pixel(env.goal)) < 0.35
        col, row = to_pixel(env.goal).astype(int)
        assert red[row, col] == 255
        blue = obs[:, :, TIP_CHANNEL]
        assert np.linalg.norm(centroid(blue, blue > 0) - to_pixel(env.fingertip)) < 0.35
        # the success disc: dim red reaches out to about the threshold radius around the goal
        rows, cols = np.nonzero(red)
        reach = np.hypot(cols + 0.5 - to_pixel(env.goal)[0], rows + 0.5 - to_pixel(env.goal)[1]).max()
        assert reach == pytest.approx(env.arm.distance_threshold * env.rasteriser.scale, abs=1.0)
        # links: every green pixel lies within the half width (+ anti-aliasing) of a link
        green = obs[:, :, LINK_CHANNEL]
        rows, cols = np.nonzero(green)
        centres = np.stack([cols + 0.5, rows + 0.5], axis=1)
        chain = to_pixel(env.chain())
        d = np.minimum(segment_distance(centres, chain[0], chain[1]), segment_distance(centres, chain[1], chain[2]))
        assert d.max() <= env.rasteriser.link_px + 0.5 + 1e-4
        for point in chain:  # base, elbow, fingertip lie on the arm
            assert green[int(point[1]), int(point[0])] > 0


def test_moving_the_arm_changes_only_arm_channels():
    env = gym.make("corenn/ArmReachPixels-v0")
    obs, _ = env.reset(seed=2)
    u = env.unwrapped
    tip0 = u.rasteriser.to_pixel(u.fingertip)
    for _ in range(3):
        new, *_ = env.step(np.array([1.0, 0.0], dtype=np.float32))
    np.testing.assert_array_equal(new[:, :, GOAL_CHANNEL], obs[:, :, GOAL_CHANNEL])  # the goal stays put
    assert not np.array_equal(new[:, :, LINK_CHANNEL], obs[:, :, LINK_CHANNEL])
    blue = new[:, :, TIP_CHANNEL]
    tip1 = centroid(blue, blue > 0)
    assert np.linalg.norm(tip1 - tip0) > 3  # moved by pixels, to where the fingertip now is
    assert np.linalg.norm(tip1 - u.rasteriser.to_pixel(u.fingertip)) < 0.35
    new, *_ = env.reset(seed=3)
    assert not np.array_equal(new[:, :, GOAL_CHANNEL], obs[:, :, GOAL_CHANNEL])  # new goal, new red


def test_image_is_anti_aliased_and_a_function_of_the_state():
    env = ArmReachPixelsEnv()
    obs, _ = env.reset(seed=5)
    for channel in range(3):
        values = np.unique(obs[:, :, channel])
        assert 0 in values and values.max() >= 170
        assert ((values > 0) & (values < 170)).sum() >= 3  # partial coverage along the edges
    for _ in range(4):
        obs, *_ = env.step(env.action_space.sample())
    fresh = ArmRasteriser(64, extent=env.arm.link_lengths.sum() + 0.02, threshold=env.arm.distance_threshold)
    np.testing.assert_array_equal(fresh.render(env.chain(), env.goal), obs)  # no history in the picture
    assert env.pixels() is not env.pixels()


def test_rasteriser_projection_and_clipping():
    r = ArmRasteriser(40, extent=0.2, threshold=0.05)
    np.testing.assert_allclose(r.to_pixel([0.0, 0.0]), [20.0, 20.0])
    np.testing.assert_allclose(r.to_pixel([[0.2, 0.0], [0.0, 0.2]]), [[40.0, 20.0], [20.0, 0.0]])  # y up
    # shapes partly or wholly outside the image are clipped, not wrapped
    image = r.render(np.array([[0.0, 0.0], [0.19, 0.19], [0.5, 0.5]]), np.array([0.5, -0.5]))
    assert image[:, :, GOAL_CHANNEL].max() == 0
    assert image[:, :, TIP_CHANNEL].max() == 0
    assert image[0, -1, LINK_CHANNEL] > 0 and image[-1, 0, LINK_CHANNEL] == 0


def test_rasteriser_coverage_matches_shape_areas_and_shades():
    r = ArmRasteriser(128, extent=0.26, threshold=0.05)
    goal = np.array([-0.1, -0.1])
    chain = np.array([[0.0, 0.0], [0.12, 0.0], [0.12, 0.12]])
    image = r.render(chain, goal).astype(np.float64)
    tip_area = np.pi * r.tip_px ** 2
    assert image[:, :, TIP_CHANNEL].sum() / TIP_VALUE == pytest.approx(tip_area, rel=0.05)
    thr_px = 0.05 * r.scale
    red_mass = THRESHOLD_VALUE * np.pi * thr_px ** 2 + (GOAL_VALUE - THRESHOLD_VALUE) * np.pi * r.goal_px ** 2
    assert image[:, :, GOAL_CHANNEL].sum() == pytest.approx(red_mass, rel=0.05)
    (c0, r0), (c1, r1), (c2, r2) = r.to_pixel(chain).astype(int)
    green = image[:, :, LINK_CHANNEL]
    assert green[r0, (c0 + c1) // 2] == LINK_VALUES[0] and green[(r1 + r2) // 2, c1] == LINK_VALUES[1]
    assert green[r0, (c0 + c1) // 2] != green[(r1 + r2) // 2, c1]  # shoulder and forearm told apart
    # away from the joints a link is a band 2 * half_width wide: shoulder along x, forearm along y
    band = 2 * r.link_px
    assert green[:, c0 + 5:c1 - 5].sum() / LINK_VALUES[0] == pytest.approx(band * (c1 - c0 - 10), rel=0.03)
    assert green[r2 + 5:r1 - 5, :].sum() / LINK_VALUES[1] == pytest.approx(band * (r1 - r2 - 10), rel=0.03)
    col, row = r.to_pixel(goal + [0.035, 0.0]).astype(int)
    assert image[row, col, GOAL_CHANNEL] == THRESHOLD_VALUE  # the dim success disc


def test_reward_types_success_and_scripted_control():
    env = gym.make("corenn/ArmReachPixels-v0")
    assert env.spec.max_episode_steps == 50 and env.unwrapped.reward_type == "dense"
    env.reset(seed=1)
    successes, truncated = [], False
    while not truncated:
        _, reward, terminated, truncated, info = env.step(scripted_action(env.unwrapped.arm))
        assert not terminated
        assert reward == pytest.approx(-info["distance"], rel=1e-6)
        successes.append(info["is_success"])
    assert len(successes) == 50 and successes[-1] == 1.0
    sparse = ArmReachPixelsEnv(reward_type="sparse")
    sparse.reset(seed=1)
    for _ in range(20):
        _, reward, _, _, info = sparse.step(scripted_action(sparse.arm))
        assert reward == (0.0 if info["is_success"] else -1.0)
    assert info["is_success"] == 1.0


@pytest.mark.parametrize("env_id", PIXEL_IDS)
def test_check_env_passes_without_warnings(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []
    env.close()


def test_render_modes_give_the_large_arm_frame():
    env = gym.make("corenn/ArmReachPixelsState-v0", render_mode="rgb_array", width=200, height=160)
    obs, _ = env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (160, 200, 3) and frame.dtype == np.uint8 and frame.std() > 10
    assert obs["pixels"].shape == (64, 64, 3)
    env.close()
    env = ArmReachPixelsEnv()
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None
    env.close()
    env.close()


def test_invalid_arguments():
    with pytest.raises(ValueError, match="obs_mode"):
        ArmReachPixelsEnv(obs_mode="rgb")
    with pytest.raises(ValueError, match="size"):
        ArmReachPixelsEnv(size=32)
    with pytest.raises(TypeError, match="size"):
        ArmReachPixelsEnv(size=64.0)
    with pytest.raises(ValueError, match="reward_type"):
        ArmReachPixelsEnv(reward_type="shaped")
    with pytest.raises(ValueError, match="render_mode"):
        ArmReachPixelsEnv(render_mode="ansi")
    assert envs.ArmReachPixelsEnv is ArmReachPixelsEnv


def test_speed_sanity():
    """Loose: the rasteriser must not be the bottleneck (>= 1500 steps/s measured on one core)."""
    env = gym.make("corenn/ArmReachPixels-v0")
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(300):
        *_, truncated, _ = env.step(env.action_space.sample())
        if truncated:
            env.reset()
    assert 300 / (time.perf_counter() - start) > 150
