"""Checkpoints: identical predictions, clear errors for bad files / other algorithms / other spaces,
resume continues the step count and the TensorBoard run; predict validates observations."""
import os

import gymnasium as gym
import numpy as np
import pytest

from rl import A2C, PPO, REINFORCE, make_vec_env
from rl.core.checkpoint import CheckpointError

from .identity_envs import IdentityEnv, IdentityEnvBox

OBS = np.linspace(-1, 1, 10, dtype=np.float32).reshape(10, 1)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "ppo_box"
    model = PPO("MlpPolicy", make_vec_env(lambda: IdentityEnvBox(), n_envs=2, seed=0), n_steps=32, batch_size=32,
                n_epochs=2, learning_rate="lin_0.001", normalize=True, seed=0)
    model.learn(128)
    written = model.save(str(path))
    return model, written


def test_round_trip_predictions(saved):
    model, path = saved
    assert path.endswith(".npz") and os.path.exists(path)
    loaded = PPO.load(path[:-4])  # ".npz" optional, like SB3's ".zip"
    np.testing.assert_array_equal(loaded.predict(OBS, deterministic=True)[0], model.predict(OBS, deterministic=True)[0])
    assert loaded.num_timesteps == model.num_timesteps == 128
    assert loaded.lr_schedule(0.5) == pytest.approx(5e-4) and loaded.n_steps == 32
    np.testing.assert_array_equal(loaded.obs_normalizer.obs_rms.mean, model.obs_normalizer.obs_rms.mean)
    opt_a, opt_b = model.policy.optimizer.state_dict(), loaded.policy.optimizer.state_dict()
    for k, st in opt_a["state"].items():
        np.testing.assert_array_equal(st["exp_avg"], opt_b["state"][k]["exp_avg"])
    params = model.get_parameters()
    fresh = PPO("MlpPolicy", IdentityEnvBox(), n_steps=32, batch_size=32, normalize=True)
    fresh.set_parameters(params)
    fresh.obs_normalizer = model.obs_normalizer
    np.testing.assert_array_equal(fresh.predict(OBS, deterministic=True)[0], model.predict(OBS, deterministic=True)[0])


def test_corrupted_truncated_and_foreign_files(saved, tmp_path):
    _, path = saved
    data = open(path, "rb").read()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated|corrupted"):
        PPO.load(str(tmp_path / "trunc.npz"))
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF
    (tmp_path / "flip.npz").write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError):
        PPO.load(str(tmp_path / "flip.npz"))
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(CheckpointError, match="corenn"):
        PPO.load(str(tmp_path / "other.npz"))
    with pytest.raises(CheckpointError, match="holds a PPO agent, not A2C"):
        A2C.load(path)
    with pytest.raises(FileNotFoundError):
        PPO.load(str(tmp_path / "missing"))


def test_mismatched_env_spaces(saved):
    _, path = saved
    with pytest.raises(CheckpointError, match="observation space mismatch"):
        PPO.load(path, env=gym.make("CartPole-v1"))


def test_resume_continues_steps_and_tensorboard_run(tmp_path):
    env = make_vec_env(lambda: IdentityEnv(2), n_envs=2, seed=0)
    model = A2C("MlpPolicy", env, tensorboard_log=str(tmp_path), seed=0)
    model.learn(100)
    path = model.save(tmp_path / "a2c")
    loaded = A2C.load(path, env=make_vec_env(lambda: IdentityEnv(2), n_envs=2, seed=1))
    assert loaded.tensorboard_log == str(tmp_path)
    loaded.learn(100, reset_num_timesteps=False)
    assert loaded.num_timesteps == 200
    assert sorted(os.listdir(tmp_path)) == ["A2C_1", "a2c.npz"]  # same run continued, no A2C_2
    with pytest.raises(ValueError, match="no environment"):
        A2C.load(path).learn(10)


def test_predict_validates_observations():
    model = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=8)
    action, state = model.predict(np.zeros(4, np.float32))
    assert np.ndim(action) == 0 and state is None
    assert model.predict(np.zeros((3, 4), np.float32))[0].shape == (3,)
    with pytest.raises(ValueError, match=r"expected \(4,\)"):
        model.predict(np.zeros(5))
    with pytest.raises(ValueError, match="NaN or inf"):
        model.predict(np.array([0.0, np.nan, 0.0, 0.0]))


def test_compact_checkpoint_without_optimizer_state(tmp_path):
    """save(exclude=["optimizer"]) writes a smaller file that acts identically."""
    import os

    from rl import PPO, TD3
    for algo, env_id in ((PPO, "CartPole-v1"), (TD3, "Pendulum-v1")):
        kwargs = {"n_steps": 64, "batch_size": 32} if algo is PPO else {"learning_starts": 50}
        model = algo("MlpPolicy", env_id, seed=0, **kwargs).learn(128)
        full, compact = tmp_path / f"{algo.__name__}_full", tmp_path / f"{algo.__name__}_compact"
        model.save(full)
        model.save(compact, exclude=["optimizer"])
        assert os.path.getsize(f"{compact}.npz") < 0.6 * os.path.getsize(f"{full}.npz")
        loaded = algo.load(f"{compact}.npz")
        obs = model.observation_space.sample()[None]
        np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0],
                                      model.predict(obs, deterministic=True)[0])
        assert loaded.num_timesteps == model.num_timesteps
        resumed = algo.load(f"{compact}.npz", env=env_id).learn(64, reset_num_timesteps=False)
        assert resumed.num_timesteps >= model.num_timesteps + 64  # fresh optimizers, training goes on
