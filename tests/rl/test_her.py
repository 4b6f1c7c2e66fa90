"""HerReplayBuffer: relabelling semantics, episode bookkeeping, errors, learning and save/load."""
import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import envs  # noqa: F401 - registers corenn/*
from envs import GoalEnv
from rl import DDPG, DQN, SAC, TD3, HerReplayBuffer
from rl.core.callbacks import EvalCallback
from rl.core.dict_replay_buffer import DictReplayBuffer
from rl.core.evaluation import run_episodes
from rl.core.off_policy_algorithm import OffPolicyAlgorithm
from rl.core.vec_env import make_vec_env
from rl.multi_goal import GoalSelectionStrategy

from ._offpolicy_helpers import CaptureLogs


class CountingGoalEnv(GoalEnv):
    """Episodes of random length L in 1..5 with a random id; observation = (id, t, L), achieved_goal = (id, t).

    Odd ids end by termination, even ids by truncation, so both kinds of episode end occur."""

    distance_threshold = 0.0

    def __init__(self):
        box = lambda n: spaces.Box(-1e7, 1e7, (n,), np.float32)  # noqa: E731
        self.observation_space = spaces.Dict({"observation": box(3), "achieved_goal": box(2), "desired_goal": box(2)})
        self.action_space = spaces.Discrete(2)

    def _obs(self):
        return {"observation": np.array([self.eid, self.t, self.length], np.float32),
                "achieved_goal": np.array([self.eid, self.t], np.float32),
                "desired_goal": np.array([self.eid, -1], np.float32)}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed, options=options)
        self.eid, self.t = int(self.np_random.integers(1, 10**6)), 0
        self.length = int(self.np_random.integers(1, 6))
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        end = self.t == self.length
        return self._obs(), -1.0, end and self.eid % 2 == 1, end and self.eid % 2 == 0, {"is_success": 0.0}


def fill(buffer, venv, n_steps, seed=0):
    """Random actions through a SAME_STEP vector env, storing final_obs for finished sub-envs (as the agents do)."""
    obs, _ = venv.reset(seed=seed)
    for _ in range(n_steps):
        new_obs, rewards, terminated, truncated, infos = venv.step(venv.action_space.sample())
        dones = terminated | truncated
        next_obs = OffPolicyAlgorithm._next_obs_with_final(new_obs, infos, dones)
        buffer.add(obs, next_obs, venv.action_space.sample(), rewards, dones, infos, truncated=truncated & ~terminated)
        obs = new_obs
    return obs


def make_counting_buffer(strategy="future", buffer_size=400, n_envs=3, n_steps=200, **kwargs):
    venv = make_vec_env(CountingGoalEnv, n_envs=n_envs, seed=1)
    venv.action_space.seed(0)
    space = venv.single_observation_space
    buffer = HerReplayBuffer(buffer_size, space, venv.single_action_space, env=venv, n_envs=n_envs,
                             goal_selection_strategy=strategy, seed=0, **kwargs)
    last_obs = fill(buffer, venv, n_steps)
    return buffer, venv, last_obs


@pytest.mark.parametrize("strategy", ["future", "final", "episode"])
@pytest.mark.parametrize("buffer_size", [3000, 60])  # 60 // 3 envs = 20 slots: old episodes are overwritten
def test_relabelled_goals_come_from_the_same_episode(strategy, buffer_size):
    buffer, venv, last_obs = make_counting_buffer(strategy, buffer_size=buffer_size)
    data = buffer.sample(2000, np.random.default_rng(1))
    eid, t, length = data.observations["observation"].T
    goal_eid, goal_t = data.observations["desired_goal"].T
    np.testing.assert_array_equal(data.next_observations["desired_goal"], data.observations["desired_goal"])
    virtual = goal_t >= 0
    n_virtual = int(2000 * 4 / 5)
    assert virtual[:n_virtual].all() and not virtual[n_virtual:].any()
    assert (goal_eid == eid).all()  # same episode (ids are random per episode)
    if strategy == "future":  # the next achieved goal of step j >= t, i.e. time j + 1 in t + 1 .. L
        assert ((goal_t[virtual] >= t[virtual] + 1) & (goal_t[virtual] <= length[virtual])).all()
        assert (goal_t[virtual] == t[virtual] + 1).any()  # the current transition may be picked
    elif strategy == "final":
        np.testing.assert_array_equal(goal_t[virtual], length[virtual])
    else:
        assert ((goal_t[virtual] >= 1) & (goal_t[virtual] <= length[virtual])).all()
        assert (goal_t[virtual] < t[virtual] + 1).any()
    # the running (unfinished) episode of every sub-env is never sampled
    assert not np.isin(eid, last_obs["observation"][:, 0]).any()
    # only complete episodes: every sampled episode id shows all its steps 0..L-1 in the buffer
    stored = buffer.observations["observation"][:buffer.size()].reshape(-1, 3)
    for e in np.unique(eid)[:50]:
        steps = np.sort(stored[stored[:, 0] == e, 1])
        np.testing.assert_array_equal(steps, np.arange(int(length[eid == e][0])))


def test_rewards_are_recomputed_for_the_new_goals_in_one_call():
    buffer, venv, _ = make_counting_buffer()
    calls = []
    compute = buffer._compute_reward
    buffer._compute_reward = lambda ag, g, info: calls.append(len(ag)) or compute(ag, g, info)
    data = buffer.sample(500, np.random.default_rng(2))
    assert calls == [400]  # one batched call for the relabelled 4/5 of the batch
    env = CountingGoalEnv()  # an independent instance: per-sample rewards
    for i in range(500):
        expected = env.compute_reward(data.next_observations["achieved_goal"][i],
                                      data.observations["desired_goal"][i], {})
        assert data.rewards[i, 0] == expected
    assert (data.rewards[:400] == 0).any() and (data.rewards[:400] == -1).any()
    # real transitions keep their stored reward (-1) and termination flags (terminated only, never truncated)
    assert (data.rewards[400:] == -1).all()
    eid, t, length = data.observations["observation"][400:].T
    np.testing.assert_array_equal(data.dones[400:, 0], (t + 1 == length) & (eid % 2 == 1))


def test_terminations_are_recomputed_with_compute_terminated():
    venv = make_vec_env("corenn/BitFlipping-v0", n_envs=2, seed=0, env_kwargs={"n_bits": 4})
    buffer = HerReplayBuffer(1000, venv.single_observation_space, venv.single_action_space, env=venv, n_envs=2)
    fill(buffer, venv, 200)
    data = buffer.sample(1000, np.random.default_rng(0))
    success = (data.next_observations["achieved_goal"] == data.observations["desired_goal"]).all(axis=1)
    np.testing.assert_array_equal(data.rewards[:, 0], np.where(success, 0.0, -1.0))
    np.testing.assert_array_equal(data.dones[:, 0], success)  # BitFlipping terminates on success
    assert 0.2 < success[:800].mean() < 1.0


def test_buffer_only_samples_finished_episodes_and_truncates_on_request():
    venv = make_vec_env("corenn/BitFlipping-v0", n_envs=1, seed=0, env_kwargs={"n_bits": 50})
    buffer = HerReplayBuffer(1000, venv.single_observation_space, venv.single_action_space, env=venv)
    fill(buffer, venv, 10)  # 50-step episodes: none has ended
    with pytest.raises(RuntimeError, match="learning_starts"):
        buffer.sample(8)
    buffer.truncate_last_trajectory()
    data = buffer.sample(64)
    assert data.dones[51:].sum() == 0 and buffer.timeouts[9, 0]  # real rows: the cut is not a termination
    assert buffer.ep_length[:10, 0].tolist() == [10] * 10 and buffer.ep_start[:10, 0].tolist() == [0] * 10


def test_n_sampled_goal_sets_the_relabelled_fraction():
    for k, n_virtual in [(0, 0), (1, 50), (4, 80)]:
        buffer, _, _ = make_counting_buffer(n_sampled_goal=k)
        goal_t = buffer.sample(100, np.random.default_rng(0)).observations["desired_goal"][:, 1]
        assert (goal_t >= 0).sum() == n_virtual
    assert make_counting_buffer(GoalSelectionStrategy.FINAL)[0].goal_selection_strategy == GoalSelectionStrategy.FINAL


def test_copy_info_dict_passes_each_steps_info():
    buffer, _, _ = make_counting_buffer(copy_info_dict=True)
    seen = []
    buffer._compute_reward = lambda ag, g, infos: seen.extend(infos) or np.zeros(len(ag), np.float32)
    buffer.sample(50)
    assert len(seen) == 40 and all(info.get("is_success") == 0.0 for info in seen)


def test_clear_errors():
    box = spaces.Box(-1, 1, (2,), np.float32)
    with pytest.raises(TypeError, match="Dict"):
        HerReplayBuffer(10, box, box)
    with pytest.raises(ValueError, match="desired_goal"):
        HerReplayBuffer(10, spaces.Dict({"observation": box, "achieved_goal": box}), box)
    goal_space = spaces.Dict({"observation": box, "achieved_goal": box, "desired_goal": box})
    with pytest.raises(ValueError, match="compute_reward"):
        HerReplayBuffer(10, goal_space, box, env=make_vec_env("Pendulum-v1"))
    with pytest.raises(ValueError, match="goal_selection_strategy"):
        HerReplayBuffer(10, goal_space, box, goal_selection_strategy="random")
    with pytest.raises(ValueError, match="optimize_memory_usage"):
        HerReplayBuffer(10, goal_space, box, optimize_memory_usage=True)
    buffer, _, _ = make_counting_buffer()
    buffer.set_env(None)
    with pytest.raises(RuntimeError, match="set_env"):
        buffer.sample(4)


def test_state_dict_round_trip():
    buffer, venv, _ = make_counting_buffer(buffer_size=60)
    other = HerReplayBuffer(60, venv.single_observation_space, venv.single_action_space, env=venv, n_envs=3)
    other.load_state_dict(buffer.state_dict())
    a, b = buffer.sample(300, np.random.default_rng(5)), other.sample(300, np.random.default_rng(5))
    for x, y in zip(a, b):
        for key in (x if isinstance(x, dict) else [None]):
            np.testing.assert_array_equal(x if key is None else x[key], y if key is None else y[key])


def _bit_flipping_dqn(her: bool, seed: int = 0):
    buffer = dict(replay_buffer_class=HerReplayBuffer, replay_buffer_kwargs=dict(n_sampled_goal=4)) if her else \
        dict(replay_buffer_class=DictReplayBuffer)
    return DQN("MultiInputPolicy", gym.make("corenn/BitFlipping-v0", n_bits=10), learning_rate=3e-3,
               buffer_size=20_000, learning_starts=100, batch_size=256, gamma=0.9, train_freq=1, gradient_steps=1,
               target_update_interval=50, exploration_fraction=0.05, exploration_final_eps=0.02,
               policy_kwargs=dict(net_arch=[128]), seed=seed, **buffer)


def _success(model, n=100):
    env = make_vec_env("corenn/BitFlipping-v0", n_envs=4, seed=123)
    return float(np.mean(run_episodes(model, env, n, deterministic=True)[2]))


def test_dqn_her_solves_10_bit_flipping_and_dqn_alone_does_not():
    her = _bit_flipping_dqn(True).learn(2000)
    assert _success(her) > 0.9
    plain = _bit_flipping_dqn(False).learn(2000)
    assert _success(plain) < 0.1


def test_continuous_algorithms_learn_with_her_and_log_success_rate(tmp_path):
    capture = CaptureLogs()
    for cls in (SAC, TD3, DDPG):
        model = cls("MultiInputPolicy", "corenn/ArmReach-v0", replay_buffer_class="HerReplayBuffer",
                    replay_buffer_kwargs=dict(goal_selection_strategy="final"), learning_starts=100,
                    batch_size=32, normalize=True, policy_kwargs=dict(net_arch=[16]), seed=0)
        evaluate = EvalCallback(make_vec_env("corenn/ArmReach-v0", n_envs=2, seed=9), n_eval_episodes=2,
                                eval_freq=120, verbose=0)
        model.learn(150, callback=[capture, evaluate], log_interval=1)
        assert isinstance(model.replay_buffer, HerReplayBuffer) and model.replay_buffer.ep_length.max() == 50
    assert {"rollout/success_rate", "eval/success_rate"} <= capture.keys
    # normalisation statistics travel with the agent: predictions survive save/load
    obs = {k: v[None] for k, v in gym.make("corenn/ArmReach-v0").reset(seed=1)[0].items()}
    loaded = DDPG.load(model.save(tmp_path / "ddpg_her"))
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    np.testing.assert_array_equal(loaded.obs_normalizer.obs_rms.mean, model.obs_normalizer.obs_rms.mean)


def test_save_load_her_agent(tmp_path):
    model = _bit_flipping_dqn(True).learn(300)
    path = model.save(tmp_path / "her_dqn", include_replay_buffer=True)
    obs = {k: np.stack([v] * 3) for k, v in gym.make("corenn/BitFlipping-v0").reset(seed=3)[0].items()}
    loaded = DQN.load(path, env=gym.make("corenn/BitFlipping-v0", n_bits=10))
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])
    assert isinstance(loaded.replay_buffer, HerReplayBuffer) and loaded.replay_buffer.n_sampled_goal == 4
    np.testing.assert_array_equal(loaded.replay_buffer.ep_length, model.replay_buffer.ep_length)
    loaded.learn(100, reset_num_timesteps=False)  # the restored buffer relabels with the new env
    without_env = DQN.load(model.save(tmp_path / "no_buffer"))
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0],
                                  without_env.predict(obs, deterministic=True)[0])


def _episodes_have_one_goal(buffer) -> bool:
    """Every finished episode in the buffer keeps a single desired goal (none was glued to another)."""
    goals = buffer.observations["desired_goal"][:buffer.size(), 0]
    start, length = buffer.ep_start[:buffer.size(), 0], buffer.ep_length[:buffer.size(), 0]
    done = length > 0
    first = goals[start[done] % buffer.buffer_size]
    return bool((goals[done] == first).all())


def test_new_learn_call_closes_the_running_episode_and_set_env_reaches_the_buffer(tmp_path):
    model = _bit_flipping_dqn(True)
    model.learn(203)  # 10-bit episodes last <= 10 steps: one is running at the end
    assert model.replay_buffer._current_ep_len[0] > 0
    model.learn(100)  # resets the env: the running episode is closed as truncated first
    assert _episodes_have_one_goal(model.replay_buffer)
    loaded = DQN.load(model.save(tmp_path / "her", include_replay_buffer=True))  # no env: no compute_reward yet
    loaded.set_env(gym.make("corenn/BitFlipping-v0", n_bits=10))
    loaded.learn(100, reset_num_timesteps=False)
    assert _episodes_have_one_goal(loaded.replay_buffer)
