"""PPO learns the identity envs; SB3 train/* tags; target_kl early stop; value clipping; schedules."""
import pytest

from rl import PPO, evaluate_policy, make_vec_env

from .identity_envs import IdentityEnv, IdentityEnvBox

FAST = dict(n_steps=128, batch_size=64, n_epochs=4, learning_rate=3e-3)


@pytest.mark.parametrize("make_env", [lambda: IdentityEnv(4), lambda: IdentityEnvBox()], ids=["discrete", "box"])
def test_ppo_learns_identity(make_env):
    model = PPO("MlpPolicy", make_vec_env(make_env, n_envs=2, seed=0), seed=0, **FAST).learn(3000)
    mean, _ = evaluate_policy(model, make_env(), n_eval_episodes=5)
    assert mean >= 45  # out of 50


class _Recorder:
    def __init__(self):
        self.keys = set()

    def record(self, key, value, exclude=None):
        self.keys.add(key)

    def record_mean(self, key, value, exclude=None):
        self.keys.add(key)

    def dump(self, step=0):
        pass


def test_train_logs_sb3_tags_and_value_clipping():
    model = PPO("MlpPolicy", make_vec_env(lambda: IdentityEnvBox(), n_envs=2, seed=0), n_steps=32, batch_size=32,
                n_epochs=2, clip_range_vf=0.2, seed=0)
    model._setup_learn(64)
    rec = _Recorder()
    model.set_logger(rec)
    model.collect_rollouts(model.env, model._setup_learn(64)[1], model.rollout_buffer, 32)
    model.set_logger(rec)
    model.train()
    expected = {"train/entropy_loss", "train/policy_gradient_loss", "train/value_loss", "train/approx_kl",
                "train/clip_fraction", "train/loss", "train/explained_variance", "train/std", "train/n_updates",
                "train/clip_range", "train/clip_range_vf", "train/learning_rate"}
    assert expected <= rec.keys


def test_target_kl_stops_epochs_early():
    env = make_vec_env(lambda: IdentityEnv(4), n_envs=2, seed=0)
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=16, n_epochs=10, learning_rate=1e-2, target_kl=1e-6, seed=0)
    model.learn(256)
    assert model._n_updates < 4 * 10  # 2 iterations x 10 epochs without early stopping


def test_schedules_reach_optimizer_and_clip_range():
    env = make_vec_env(lambda: IdentityEnv(2), n_envs=1, seed=0)
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=32, n_epochs=1, learning_rate="lin_0.001",
                clip_range=lambda p: 0.1 * p, seed=0).learn(96)
    # last update happens with progress_remaining = 1 - 96/96 = 0
    assert model.policy.optimizer.param_groups[0]["lr"] == pytest.approx(0.0)
    assert model.clip_range_fn(0.5) == pytest.approx(0.05)


def test_unsupported_action_space_error():
    import gymnasium as gym

    class MultiEnv(IdentityEnv):
        def __init__(self):
            super().__init__(2)
            self.action_space = gym.spaces.MultiDiscrete([2, 2])

    with pytest.raises(ValueError, match="does not support the action space"):
        PPO("MlpPolicy", MultiEnv())
    with pytest.raises(ValueError, match="unknown policy"):
        PPO("CnnLstmPolicy", "CartPole-v1")
