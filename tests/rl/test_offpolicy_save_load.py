import gymnasium as gym
import numpy as np
import pytest

from rl.core.checkpoint import CheckpointError
from rl.core.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
from rl.core.vec_env import make_vec_env
from rl.off_policy_actor_critic.ddpg import DDPG
from rl.off_policy_actor_critic.sac import SAC
from rl.off_policy_actor_critic.td3 import TD3
from rl.value_based.dqn import DQN
from tests.rl.identity_envs import IdentityEnv, IdentityEnvBox
from tests.rl.offpolicy_envs import CounterEnv

SMALL = dict(learning_starts=50, batch_size=32, policy_kwargs=dict(net_arch=[16, 16]))
OBS = np.linspace(-1, 1, 7, dtype=np.float32)[:, None]


def _same_weights(a, b):
    sa, sb = a.policy.state_dict(), b.policy.state_dict()
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("cls, kwargs", [
    (SAC, dict(ent_coef="auto_0.2", train_freq=(2, "step"))),
    (TD3, dict(action_noise=NormalActionNoise(np.zeros(1), 0.3 * np.ones(1)))),
    (DDPG, dict(action_noise=OrnsteinUhlenbeckActionNoise(np.zeros(1), 0.2 * np.ones(1), theta=0.3))),
])
def test_round_trip_continuous(tmp_path, cls, kwargs):
    model = cls("MlpPolicy", IdentityEnvBox(), seed=0, **SMALL, **kwargs)
    model.learn(120)
    path = model.save(tmp_path / "agent")
    assert path.endswith(".npz")
    loaded = cls.load(path, env=IdentityEnvBox())
    assert _same_weights(model, loaded)
    np.testing.assert_array_equal(model.predict(OBS, deterministic=True)[0], loaded.predict(OBS, deterministic=True)[0])
    assert loaded.num_timesteps == 120 and loaded._n_updates == model._n_updates
    assert loaded.train_freq == model.train_freq and loaded.learning_starts == 50
    for name, opt in model._policy_optimizers().items():
        steps = [s["step"] for s in opt.state.values()]
        assert [s["step"] for s in loaded._policy_optimizers()[name].state.values()] == steps
    if cls is SAC:
        np.testing.assert_array_equal(loaded.log_ent_coef.data, model.log_ent_coef.data)
        assert loaded.ent_coef == "auto_0.2"
    else:
        assert type(loaded.action_noise) is type(model.action_noise)
        np.testing.assert_allclose(loaded.action_noise._sigma, model.action_noise._sigma)
    assert loaded.replay_buffer.size() == 0  # not saved unless asked
    loaded.learn(30, reset_num_timesteps=False)
    assert loaded.num_timesteps == 150


def test_round_trip_dqn_and_wrong_algorithm(tmp_path):
    model = DQN("MlpPolicy", IdentityEnv(), seed=1, exploration_fraction=0.3, target_update_interval=50, **SMALL)
    model.learn(100)
    path = model.save(tmp_path / "dqn")
    loaded = DQN.load(path)
    obs = np.arange(4)
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])
    assert loaded.exploration_fraction == 0.3 and loaded.target_update_interval == 50
    with pytest.raises(CheckpointError, match="DQN"):
        SAC.load(path)


def test_replay_buffer_saved_with_the_agent(tmp_path):
    model = SAC("MlpPolicy", IdentityEnvBox(), seed=2, **SMALL)
    model.learn(80)
    path = model.save(tmp_path / "with_buffer", include_replay_buffer=True)
    loaded = SAC.load(path, env=IdentityEnvBox())
    rb, lb = model.replay_buffer, loaded.replay_buffer
    assert lb.size() == 80 and lb.pos == rb.pos
    for name in ("observations", "next_observations", "actions", "rewards", "dones"):
        np.testing.assert_array_equal(getattr(lb, name)[:80], getattr(rb, name)[:80])
    loaded.learn(20, reset_num_timesteps=False)
    assert loaded.replay_buffer.size() == 100


@pytest.mark.parametrize("optimize", [False, True])
def test_save_and_load_replay_buffer_file(tmp_path, optimize):
    model = TD3("MlpPolicy", IdentityEnvBox(), seed=3, optimize_memory_usage=optimize, buffer_size=500, **SMALL)
    model.learn(60)
    path = model.save_replay_buffer(tmp_path / "buffer")
    assert path.endswith(".npz")
    other = TD3("MlpPolicy", IdentityEnvBox(), seed=4, optimize_memory_usage=optimize, buffer_size=500, **SMALL)
    other.load_replay_buffer(tmp_path / "buffer")
    np.testing.assert_array_equal(other.replay_buffer.observations[:60], model.replay_buffer.observations[:60])
    assert other.replay_buffer.size() == 60
    small = TD3("MlpPolicy", IdentityEnvBox(), seed=4, optimize_memory_usage=optimize, buffer_size=100, **SMALL)
    with pytest.raises(ValueError, match="slots"):
        small.load_replay_buffer(path)


def _fill(env, n, **kwargs):
    model = SAC("MlpPolicy", env, seed=0, **dict(SMALL, learning_starts=10_000), **kwargs)
    model.learn(n)
    return model.replay_buffer


def test_truncation_bootstraps_and_stores_final_observation():
    rb = _fill(CounterEnv(truncate_at=5), 12)
    obs, nxt, done = rb.observations[:12, 0, 0], rb.next_observations[:12, 0, 0], rb.dones[:12, 0]
    np.testing.assert_array_equal(obs, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1])
    np.testing.assert_array_equal(nxt, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2])  # final obs 5, not the reset obs 0
    assert not done.any()  # time limits are not terminations


def test_termination_is_stored_as_done_even_at_the_time_limit():
    rb = _fill(CounterEnv(terminate_at=3, truncate_at=None), 6)
    np.testing.assert_array_equal(rb.dones[:6, 0], [0, 0, 1, 0, 0, 1])
    np.testing.assert_array_equal(rb.next_observations[:6, 0, 0], [1, 2, 3, 1, 2, 3])
    rb = _fill(CounterEnv(terminate_at=4, truncate_at=4), 4)  # both flags: terminal
    np.testing.assert_array_equal(rb.dones[:4, 0], [0, 0, 0, 1])


def test_truncation_with_several_envs():
    env = make_vec_env(lambda: CounterEnv(truncate_at=3), n_envs=2, seed=0)
    rb = _fill(env, 8)  # 4 vector steps
    np.testing.assert_array_equal(rb.next_observations[:4, :, 0], [[1, 1], [2, 2], [3, 3], [1, 1]])
    assert not rb.dones[:4].any()


def test_dict_observations_use_a_dict_buffer(tmp_path):
    class DictEnv(IdentityEnvBox):
        def __init__(self):
            super().__init__()
            self.observation_space = gym.spaces.Dict({"x": gym.spaces.Box(-1, 1, (1,), np.float32),
                                                      "y": gym.spaces.Box(-1, 1, (2,), np.float32)})

        def _draw(self):
            return {"x": super()._draw(), "y": np.zeros(2, np.float32)}

    model = SAC("MultiInputPolicy", DictEnv(), seed=6, **SMALL)
    model.learn(80)
    assert type(model.replay_buffer).__name__ == "DictReplayBuffer" and model.replay_buffer.size() == 80
    obs = {"x": OBS, "y": np.zeros((7, 2), np.float32)}
    loaded = SAC.load(model.save(tmp_path / "dict", include_replay_buffer=True), env=DictEnv())
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])
    assert loaded.replay_buffer.size() == 80


def test_normalised_agent_keeps_raw_buffer_and_statistics(tmp_path):
    model = SAC("MlpPolicy", IdentityEnvBox(), seed=5, normalize=True, **SMALL)
    model.learn(100)
    raw = model.replay_buffer.observations[:100, 0, 0]
    assert raw.min() >= -1.0 and raw.max() <= 1.0 and raw.std() > 0.4  # raw, not normalised, values
    loaded = SAC.load(model.save(tmp_path / "norm"))
    np.testing.assert_allclose(loaded.obs_normalizer.obs_rms.mean, model.obs_normalizer.obs_rms.mean)
    np.testing.assert_array_equal(model.predict(OBS, deterministic=True)[0], loaded.predict(OBS, deterministic=True)[0])


@pytest.mark.parametrize("cls, env, targets", [
    (SAC, IdentityEnvBox, ["critic_target"]),
    (TD3, IdentityEnvBox, ["actor_target", "critic_target"]),
    (DQN, IdentityEnv, ["q_net_target"]),
])
def test_compact_file_without_target_networks(tmp_path, cls, env, targets):
    import os

    model = cls("MlpPolicy", env(), seed=0, **SMALL)
    model.learn(120)
    full = model.save(tmp_path / "full", exclude=["optimizer"])
    compact = model.save(tmp_path / "compact", exclude=["optimizer", "target_networks"])
    assert os.path.getsize(compact) < 0.8 * os.path.getsize(full)
    loaded = cls.load(compact)
    state, reloaded = model.policy.state_dict(), loaded.policy.state_dict()
    assert reloaded.keys() == state.keys()
    for key in state:
        head, _, rest = key.partition(".")
        if head in targets:  # rebuilt from the online network, as at the start of training
            np.testing.assert_array_equal(reloaded[key], state[f"{head[:-len('_target')]}.{rest}"])
            assert not np.array_equal(reloaded[key], state[key])  # (the trained target had lagged behind)
        else:
            np.testing.assert_array_equal(reloaded[key], state[key])
    np.testing.assert_array_equal(model.predict(OBS[:, :1] if cls is not DQN else np.zeros(1), deterministic=True)[0],
                                  loaded.predict(OBS[:, :1] if cls is not DQN else np.zeros(1), deterministic=True)[0])
    loaded.set_env(env())
    loaded.learn(60, reset_num_timesteps=False)  # and it trains on
