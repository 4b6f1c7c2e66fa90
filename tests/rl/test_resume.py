"""What resuming promises (item 10 of the reliability report).

- save + load round-trips exactly: weights, optimizer states, replay buffer, counters, RNG states,
  the normaliser, and the run state (last observation, episode starts, noise).
- N/2 steps + save + load(env=the same env object, force_reset=False) + learn(N/2,
  reset_num_timesteps=False) gives the same weights as N straight steps, for PPO, SAC and DQN.
- Loading into new envs (a new process) resets them, so the result differs, as in SB3.

Schedules see the progress of each learn() call, as in SB3, so these runs use constant ones.
"""
import numpy as np
import pytest

from rl import DQN, PPO, SAC, TD3, HerReplayBuffer, OrnsteinUhlenbeckActionNoise, make_vec_env

SMALL_NET = dict(policy_kwargs=dict(net_arch=[16]))
CASES = {
    "ppo": (PPO, "CartPole-v1", 2, 256, dict(n_steps=32, batch_size=32, n_epochs=2, **SMALL_NET), {}),
    "ppo_normalize": (PPO, "Pendulum-v1", 2, 256, dict(n_steps=32, batch_size=32, n_epochs=2, normalize=True,
                                                       **SMALL_NET), {}),
    "sac": (SAC, "Pendulum-v1", 1, 300, dict(learning_starts=50, batch_size=32, buffer_size=1000, **SMALL_NET),
            dict(include_replay_buffer=True)),
    "dqn": (DQN, "CartPole-v1", 1, 400, dict(learning_starts=50, batch_size=32, buffer_size=1000,
                                             target_update_interval=20, exploration_initial_eps=0.2,
                                             exploration_final_eps=0.2, **SMALL_NET),
            dict(include_replay_buffer=True)),
}


def _weights(model) -> dict:
    return model.policy.state_dict()


def _same_weights(a, b) -> bool:
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


def _make(case):
    cls, env_id, n_envs, _, kwargs, _ = CASES[case]
    return cls("MlpPolicy", make_vec_env(env_id, n_envs=n_envs, seed=0), seed=0, **kwargs)


@pytest.mark.parametrize("case", sorted(CASES))
def test_half_save_load_half_equals_straight_run(case, tmp_path):
    cls, env_id, n_envs, n, _, save_kwargs = CASES[case]
    straight = _make(case).learn(n)

    first = _make(case).learn(n // 2)
    path = first.save(tmp_path / "half", **save_kwargs)
    resumed = cls.load(path, env=first.env, force_reset=False)
    resumed.learn(n // 2, reset_num_timesteps=False)
    assert resumed.num_timesteps == straight.num_timesteps == n
    assert _same_weights(straight, resumed)
    for key, opt in straight._policy_optimizers().items():
        other = resumed._policy_optimizers()[key].state_dict()["state"]
        for index, entry in opt.state_dict()["state"].items():
            for name, value in entry.items():
                np.testing.assert_array_equal(value, other[index][name])

    # a new process makes new envs: they are reset, so the run differs (as in SB3)
    fresh = cls.load(path, env=make_vec_env(env_id, n_envs=n_envs, seed=1))
    assert fresh._last_obs is None
    fresh.learn(n // 2, reset_num_timesteps=False)
    assert fresh.num_timesteps == n
    assert not _same_weights(straight, fresh)


def test_round_trip_is_exact(tmp_path):
    model = _make("ppo_normalize").learn(128)
    loaded = PPO.load(model.save(tmp_path / "agent"), force_reset=False)
    assert _same_weights(model, loaded)
    assert (loaded.num_timesteps, loaded._episode_num, loaded._n_updates) == \
        (model.num_timesteps, model._episode_num, model._n_updates)
    assert loaded.rng.bit_generator.state == model.rng.bit_generator.state
    assert loaded._predict_rng.bit_generator.state == model._predict_rng.bit_generator.state
    for name in ("mean", "var"):
        np.testing.assert_array_equal(getattr(loaded.obs_normalizer.obs_rms, name),
                                      getattr(model.obs_normalizer.obs_rms, name))
    np.testing.assert_array_equal(loaded.obs_normalizer.returns, model.obs_normalizer.returns)
    np.testing.assert_array_equal(loaded._last_obs, model._last_obs)
    np.testing.assert_array_equal(loaded._last_features, model._last_features)
    np.testing.assert_array_equal(loaded._last_episode_starts, model._last_episode_starts)
    assert list(loaded.ep_info_buffer) == list(model.ep_info_buffer)
    assert loaded._current_progress_remaining == model._current_progress_remaining


def test_off_policy_round_trip_keeps_buffer_noise_and_counters(tmp_path):
    def make():
        noise = OrnsteinUhlenbeckActionNoise(np.zeros(1), 0.3 * np.ones(1), rng=0)
        return TD3("MlpPolicy", make_vec_env("Pendulum-v1", n_envs=2, seed=0), seed=0, learning_starts=40,
                   batch_size=16, buffer_size=500, action_noise=noise, **SMALL_NET)

    straight = make().learn(160)
    model = make().learn(80)
    loaded = TD3.load(model.save(tmp_path / "td3", include_replay_buffer=True), env=model.env, force_reset=False)
    for name in ("observations", "next_observations", "actions", "rewards", "dones"):
        np.testing.assert_array_equal(getattr(loaded.replay_buffer, name), getattr(model.replay_buffer, name))
    assert (loaded.replay_buffer.pos, loaded.replay_buffer.full) == (model.replay_buffer.pos, model.replay_buffer.full)
    for a, b in zip(loaded.action_noise.noises, model.action_noise.noises):
        np.testing.assert_array_equal(a.noise_prev, b.noise_prev)
        assert a._rng.bit_generator.state == b._rng.bit_generator.state
    loaded.learn(80, reset_num_timesteps=False)
    assert _same_weights(straight, loaded)


def test_dqn_keeps_exploration_state_and_her_buffer_resumes(tmp_path):
    import envs  # noqa: F401  (corenn/BitFlipping-v0)

    def make():
        return DQN("MultiInputPolicy", make_vec_env("corenn/BitFlipping-v0", seed=0), seed=0, learning_starts=40,
                   batch_size=16, buffer_size=400, replay_buffer_class=HerReplayBuffer, target_update_interval=16,
                   exploration_fraction=0.5, **SMALL_NET)

    model = make().learn(120)
    loaded = DQN.load(model.save(tmp_path / "dqn", include_replay_buffer=True), env=model.env, force_reset=False)
    assert loaded._n_calls == model._n_calls and loaded.exploration_rate == model.exploration_rate
    np.testing.assert_array_equal(loaded.replay_buffer._current_ep_len, model.replay_buffer._current_ep_len)
    for key in model._last_obs:
        np.testing.assert_array_equal(loaded._last_obs[key], model._last_obs[key])
    loaded.learn(40, reset_num_timesteps=False)
    assert loaded.num_timesteps == 160
