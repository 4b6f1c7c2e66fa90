"""ArmReach: GoalEnv contract, batched rewards, workspace, seeding, control, solvability."""
import gymnasium as gym
import mujoco
import numpy as np
import pytest

import envs
from envs.reach import ArmReachEnv, ik_joint_targets, scripted_action


def rollout(env, seed, steps, policy=None):
    """Returns lists of (obs, reward, terminated, truncated, info) for ``steps`` steps."""
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    out = []
    for _ in range(steps):
        a = env.action_space.sample() if policy is None else policy(env)
        out.append(env.step(a))
    return out


@pytest.mark.parametrize("reward_type", ["sparse", "dense"])
def test_batched_compute_reward_equals_per_sample(reward_type):
    env = ArmReachEnv(reward_type=reward_type)
    rng = np.random.default_rng(0)
    ag = rng.uniform(-0.25, 0.25, size=(4, 6, 2)).astype(np.float32)
    dg = rng.uniform(-0.25, 0.25, size=(4, 6, 2)).astype(np.float32)
    dg[0, :3] = ag[0, :3] + 0.01  # some successes
    infos = np.array([[{} for _ in range(6)] for _ in range(4)])
    batch = env.compute_reward(ag, dg, infos)
    assert batch.shape == (4, 6) and batch.dtype == np.float32
    single = np.array([[env.compute_reward(ag[i, j], dg[i, j], {}) for j in range(6)] for i in range(4)])
    np.testing.assert_array_equal(batch, single)
    flat = env.compute_reward(ag.reshape(-1, 2), dg.reshape(-1, 2), None)
    np.testing.assert_array_equal(flat, batch.reshape(-1))
    assert env.compute_terminated(ag, dg, None).shape == (4, 6)
    assert not env.compute_terminated(ag, dg, None).any()
    assert not env.compute_truncated(ag, dg, None).any()
    d = np.linalg.norm(ag.astype(np.float64) - dg, axis=-1)
    if reward_type == "sparse":
        assert set(np.unique(batch)) <= {-1.0, 0.0}
        np.testing.assert_array_equal(batch, -(d > 0.05).astype(np.float32))
        assert (batch[0, :3] == 0).all()
    else:
        np.testing.assert_allclose(batch, -d, rtol=1e-6)


@pytest.mark.parametrize("reward_type", ["sparse", "dense"])
def test_step_reward_consistent_with_compute_reward_and_success(reward_type):
    env = ArmReachEnv(reward_type=reward_type)
    seen_success = False
    for obs, reward, terminated, truncated, info in rollout(env, 3, 30, scripted_action):
        assert isinstance(reward, float) and not terminated and not truncated
        ag, dg = obs["achieved_goal"], obs["desired_goal"]
        assert reward == env.compute_reward(ag, dg, info)
        d = float(np.linalg.norm(ag.astype(np.float64) - dg))
        assert info["distance"] == pytest.approx(d)
        assert info["is_success"] == float(d <= env.distance_threshold)
        if reward_type == "sparse":
            assert reward == (0.0 if info["is_success"] else -1.0)
        else:
            assert reward == pytest.approx(-d, rel=1e-6)
        seen_success |= bool(info["is_success"])
    assert seen_success


def test_observation_layout_and_dtypes():
    env = ArmReachEnv()
    obs, info = env.reset(seed=5)
    assert all(v.dtype == np.float32 for v in obs.values())
    assert obs["observation"].shape == (8,) and obs["achieved_goal"].shape == (2,)
    q = env.data.qpos[:2]
    np.testing.assert_allclose(obs["observation"][:4], np.r_[np.cos(q), np.sin(q)], atol=1e-6)
    np.testing.assert_allclose(obs["observation"][6:], obs["achieved_goal"])
    np.testing.assert_allclose(obs["achieved_goal"], env.data.site_xpos[env._tip_id, :2], atol=1e-6)
    np.testing.assert_allclose(obs["desired_goal"], env.goal, atol=1e-6)
    assert info["is_success"] == 0.0  # goals start beyond the threshold


def test_goals_inside_reachable_workspace():
    env = ArmReachEnv()
    r0, r1 = env.goal_radius
    assert 0.05 < r0 < r1 < env.link_lengths.sum()
    goals = []
    for seed in range(150):
        obs, _ = env.reset(seed=seed)
        goals.append(env.goal.copy())
        assert np.linalg.norm(obs["achieved_goal"] - obs["desired_goal"]) > env.distance_threshold
    goals = np.array(goals)
    radius = np.linalg.norm(goals, axis=1)
    assert (radius >= r0).all() and (radius <= r1).all()
    angles = np.arctan2(goals[:, 1], goals[:, 0])
    assert np.histogram(angles, bins=4, range=(-np.pi, np.pi))[0].min() > 15  # all around the base
    # every goal is exactly reachable: forward kinematics in MuJoCo of the IK solution hits it
    for goal in goals[:40]:
        q = ik_joint_targets(env, goal)
        assert env.elbow_range[0] <= q[1] <= env.elbow_range[1]
        env.data.qpos[:2] = q
        mujoco.mj_forward(env.model, env.data)
        np.testing.assert_allclose(env.fingertip, goal, atol=1e-9)


def test_determinism_under_seed():
    a = rollout(ArmReachEnv(), 11, 15)
    b = rollout(ArmReachEnv(), 11, 15)
    c = rollout(ArmReachEnv(), 12, 15)
    for (oa, ra, *_), (ob, rb, *_) in zip(a, b):
        for k in oa:
            np.testing.assert_array_equal(oa[k], ob[k])
        assert ra == rb
    assert not np.array_equal(a[-1][0]["desired_goal"], c[-1][0]["desired_goal"])


def test_actions_are_joint_position_deltas():
    env = ArmReachEnv()
    env.reset(seed=0)
    q0 = env.data.qpos[:2].copy()
    env.step(np.zeros(2, dtype=np.float32))
    np.testing.assert_allclose(env.data.qpos[:2], q0, atol=1e-3)
    env.step(np.array([1.0, -0.5], dtype=np.float32))
    np.testing.assert_allclose(env.data.qpos[:2] - q0, [env.max_delta, -0.5 * env.max_delta], atol=0.01)
    env.step(np.array([5.0, 0.0], dtype=np.float32))  # clipped to 1
    assert env.data.qpos[0] - q0[0] == pytest.approx(2 * env.max_delta, abs=0.02)
    for _ in range(20):  # the elbow stops at its joint limit
        env.step(np.array([0.0, 1.0], dtype=np.float32))
    assert env.data.qpos[1] <= env.elbow_range[1] + 0.02


def test_scripted_controller_reaches_goal_within_50_steps():
    env = gym.make("corenn/ArmReach-v0")
    first, final = [], []
    for seed in range(30):
        results = rollout(env, seed, 50, lambda e: scripted_action(e.unwrapped))
        success = [info["is_success"] for *_, info in results]
        first.append(success.index(1.0) + 1 if 1.0 in success else 99)
        final.append(success[-1])
        assert results[-1][3]  # truncated by the registered time limit
    assert np.mean(final) >= 0.95
    assert np.median(first) <= 15


def test_random_policy_rarely_succeeds():
    env = ArmReachEnv()
    final = [rollout(env, seed, 50)[-1][-1]["is_success"] for seed in range(20)]
    assert np.mean(final) <= 0.25


def test_invalid_arguments():
    with pytest.raises(ValueError):
        ArmReachEnv(reward_type="shaped")
    with pytest.raises(ValueError):
        ArmReachEnv(goal_radius=(0.1, 0.5))
    with pytest.raises(ValueError):
        ArmReachEnv(render_mode="ansi")
    assert envs.ArmReachEnv is ArmReachEnv
