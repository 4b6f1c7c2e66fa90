"""Agents on SB3 VecEnvs as SB3's guide writes it (stable_baselines3 -> rl): the enjoy loop over
model.get_env(), VecNormalize trained / saved / reloaded for evaluation, user Gymnasium vector envs in
every autoreset mode, set_env and evaluate_policy on VecEnvs."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from rl import PPO, SAC, make_vec_env
from rl.common.evaluation import evaluate_policy
from rl.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecNormalize, VecTransposeImage


def _enjoy(model, n_steps: int) -> int:
    """SB3's "enjoy" loop; returns the number of finished episodes."""
    vec_env = model.get_env()
    obs = vec_env.reset()
    finished = 0
    for _ in range(n_steps):
        action, _states = model.predict(obs, deterministic=True)
        obs, rewards, dones, info = vec_env.step(action)
        vec_env.render("human")
        assert rewards.shape == dones.shape == (vec_env.num_envs,) and len(info) == vec_env.num_envs
        finished += int(dones.sum())
        for i in np.flatnonzero(dones):
            assert "terminal_observation" in info[i] and "TimeLimit.truncated" in info[i]
    return finished


def test_enjoy_loop_ppo_on_env_id(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32, n_epochs=1, seed=0).learn(64)
    assert isinstance(model.get_env(), VecEnv) and model.get_env() is model.get_env()
    with pytest.warns(UserWarning, match="render_mode"):  # gym.make without render_mode, as SB3 warns
        assert _enjoy(model, 501) >= 1  # CartPole episodes end by 500 steps


def test_enjoy_loop_sac_on_make_vec_env(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    vec_env = make_vec_env("Pendulum-v1", n_envs=2, seed=0, env_kwargs={"max_episode_steps": 20})
    model = SAC("MlpPolicy", vec_env, learning_starts=20, batch_size=16, seed=0).learn(60)
    assert model.get_env() is vec_env and model.num_timesteps == 60
    assert len(model.ep_info_buffer) == 2 and model.ep_info_buffer[0]["l"] == 20  # Monitor statistics
    assert _enjoy(model, 40) == 4  # two 20-step episodes per env, rendered as rgb_array tiles


def test_vec_normalize_trained_saved_and_reloaded_for_evaluation(tmp_path):
    env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=2, seed=0), gamma=0.9)
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=32, n_epochs=1, gamma=0.9, seed=0).learn(128)
    assert model.get_vec_normalize_env() is env
    assert env.obs_rms.count == pytest.approx(1e-4 + 2 * (1 + 128 // 2))  # reset + every step updated it
    assert not np.allclose(env.obs_rms.mean, 0)
    model.save(tmp_path / "ppo_pendulum")
    stats_path = str(tmp_path / "vec_normalize.pkl")
    env.save(stats_path)

    loaded_model = PPO.load(tmp_path / "ppo_pendulum")
    eval_env = VecNormalize.load(stats_path, make_vec_env("Pendulum-v1", n_envs=1, seed=5))
    eval_env.training, eval_env.norm_reward = False, False
    np.testing.assert_array_equal(eval_env.obs_rms.mean, env.obs_rms.mean)
    raw = make_vec_env("Pendulum-v1", n_envs=1, seed=5).reset()
    expected = np.clip((raw - env.obs_rms.mean) / np.sqrt(env.obs_rms.var + env.epsilon), -10, 10)
    np.testing.assert_allclose(eval_env.reset(), expected.astype(np.float32), rtol=1e-6)
    np.testing.assert_array_equal(eval_env.get_original_obs(), raw)
    mean_before = eval_env.obs_rms.mean.copy()
    rewards, lengths = evaluate_policy(loaded_model, eval_env, n_eval_episodes=1, return_episode_rewards=True)
    assert lengths == [200] and rewards[0] < 0  # raw Pendulum rewards (norm_reward=False)
    np.testing.assert_array_equal(eval_env.obs_rms.mean, mean_before)  # training=False: frozen statistics
    obs = eval_env.normalize_obs(raw)
    np.testing.assert_allclose(eval_env.unnormalize_obs(obs), raw, rtol=1e-5, atol=1e-5)


def test_vec_normalize_file_is_not_pickle(tmp_path):
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=1, seed=0), norm_reward=False, clip_obs=5.0)
    env.reset()
    env.save(tmp_path / "stats.pkl")
    import zipfile
    with zipfile.ZipFile(tmp_path / "stats.pkl") as zf:
        assert all(name.endswith(".npy") or name == "__corenn__" for name in zf.namelist())
    loaded = VecNormalize.load(tmp_path / "stats.pkl", make_vec_env("CartPole-v1", n_envs=1, seed=0))
    assert loaded.clip_obs == 5.0 and loaded.norm_reward is False
    assert loaded.observation_space == loaded.venv.observation_space  # SB3 changes only image bounds
    assert np.abs(loaded.reset()).max() <= 5.0
    with pytest.raises(ValueError, match="num_envs|envs"):
        loaded.set_venv(make_vec_env("CartPole-v1", n_envs=3))


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED])
def test_user_sync_vector_env_any_autoreset_mode(mode):
    envs = SyncVectorEnv([lambda: gym.make("CartPole-v1") for _ in range(2)], autoreset_mode=mode)
    model = PPO("MlpPolicy", envs, n_steps=64, batch_size=64, n_epochs=2, seed=0).learn(384)
    assert model.num_timesteps == 384
    lengths = [e["l"] for e in model.ep_info_buffer]
    # every finished CartPole episode is counted once, with its true length (no reset step counted)
    assert len(lengths) >= 10 and sum(lengths) <= 384 and min(lengths) >= 8
    vec_env = model.get_env()
    obs = vec_env.reset()
    assert obs.shape == (2, 4)
    for _ in range(60):
        obs, _, dones, infos = vec_env.step(model.predict(obs)[0])
        for i in np.flatnonzero(dones):
            assert infos[i]["terminal_observation"].shape == (4,)
            assert obs[i].shape == (4,) and abs(obs[i]).max() <= 0.05  # already the reset observation


def test_same_results_from_make_vec_env_and_gymnasium_vector_env():
    from rl.core.vec_env import make_vec_env as make_gym_vector_env
    a = PPO("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=1), n_steps=32, batch_size=32, seed=0).learn(128)
    b = PPO("MlpPolicy", make_gym_vector_env("CartPole-v1", n_envs=2, seed=1), n_steps=32, batch_size=32,
            seed=0).learn(128)
    for (name, pa), (_, pb) in zip(a.policy.named_parameters(), b.policy.named_parameters()):
        np.testing.assert_allclose(pa.data, pb.data, rtol=1e-6, atol=1e-7, err_msg=name)


def test_set_env_checks_spaces_and_accepts_vec_envs():
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=16, batch_size=16, seed=0)
    new_env = DummyVecEnv([lambda: gym.make("CartPole-v1") for _ in range(2)])
    model.set_env(new_env)
    assert model.get_env() is new_env and model.n_envs == 2
    model.learn(32)
    with pytest.raises(ValueError, match="observation"):
        model.set_env(make_vec_env("Pendulum-v1"))
    other = PPO("MlpPolicy", "CartPole-v1", n_steps=16, batch_size=16, seed=1)
    other.set_env(model.get_env())
    assert other.get_env() is new_env


def test_subproc_vec_env_training_and_image_envs():
    vec_env = SubprocVecEnv([lambda: gym.make("CartPole-v1") for _ in range(2)], start_method="fork")
    try:
        model = PPO("MlpPolicy", vec_env, n_steps=16, batch_size=32, n_epochs=1, seed=0).learn(64)
        assert model.num_timesteps == 64 and model.get_env() is vec_env
        mean, _ = evaluate_policy(model, vec_env, n_eval_episodes=2)
        assert mean >= 8
    finally:
        vec_env.close()


def test_evaluate_policy_on_vec_env_counts_episodes():
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=16, batch_size=16, seed=0)
    vec_env = make_vec_env("CartPole-v1", n_envs=3, seed=0)
    rewards, lengths = evaluate_policy(model, vec_env, n_eval_episodes=5, return_episode_rewards=True)
    assert len(rewards) == 5 and rewards == [float(n) for n in lengths]


class ImageEnv(gym.Env):
    """Channel-last uint8 images (36, 40, 3), episodes of 5 steps."""

    def __init__(self):
        self.observation_space = gym.spaces.Box(0, 255, (36, 40, 3), np.uint8)
        self.action_space = gym.spaces.Discrete(2)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self.t += 1
        return self.observation_space.sample(), float(action), self.t >= 5, False, {}


def test_image_vec_env_is_transposed_for_the_policy():
    vec_env = DummyVecEnv([ImageEnv, ImageEnv])
    model = PPO("CnnPolicy", vec_env, n_steps=8, batch_size=16, n_epochs=1, seed=0,
                policy_kwargs={"features_extractor_kwargs": {"features_dim": 16}})
    assert model.observation_space.shape == (3, 36, 40)  # (C, H, W), as SB3's VecTransposeImage gives
    model.learn(16)
    obs = VecTransposeImage(vec_env).reset()
    assert model.predict(obs)[0].shape == (2,)


class DictEnv(gym.Env):
    """Dict observations {"vec": Box(3), "step": Box(1)}; reward for action 1; 10-step episodes."""

    def __init__(self):
        self.observation_space = gym.spaces.Dict({"vec": gym.spaces.Box(-5, 5, (3,), np.float32),
                                                  "step": gym.spaces.Box(0, 10, (1,), np.float32)})
        self.action_space = gym.spaces.Discrete(2)
        self.t = 0

    def _obs(self):
        return {"vec": self.np_random.normal(size=3).astype(np.float32), "step": np.array([self.t], np.float32)}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        return self._obs(), float(action), False, self.t >= 10, {}


def test_dict_observations_with_vec_normalize_keys_and_load_with_env(tmp_path):
    from rl import DQN
    env = VecNormalize(make_vec_env(DictEnv, n_envs=2, seed=0), norm_obs_keys=["vec"])
    model = DQN("MultiInputPolicy", env, learning_starts=10, buffer_size=200, seed=0).learn(60)
    assert env.obs_rms["vec"].count > 60 and set(env.obs_rms) == {"vec"}
    obs = env.reset()
    assert obs["step"].tolist() == [[0.0], [0.0]]  # a key left out of norm_obs_keys passes unchanged
    model.save(tmp_path / "dqn")
    loaded = DQN.load(tmp_path / "dqn", env=env)
    assert loaded.get_env() is env and loaded.get_vec_normalize_env() is env
    assert loaded.predict(obs, deterministic=True)[0].shape == (2,)
