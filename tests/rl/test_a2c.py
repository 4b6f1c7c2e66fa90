"""A2C: SB3 defaults, learns the identity envs, logs SB3 tags."""
import pytest

from corenn import optim
from rl import A2C, evaluate_policy, make_vec_env

from .identity_envs import IdentityEnv, IdentityEnvBox


def test_sb3_defaults():
    model = A2C("MlpPolicy", "CartPole-v1")
    defaults = (model.n_steps, model.gae_lambda, model.ent_coef, model.vf_coef, model.max_grad_norm)
    assert defaults == (5, 1.0, 0.0, 0.5, 0.5)
    opt = model.policy.optimizer
    assert isinstance(opt, optim.RMSprop)
    group = opt.param_groups[0]
    assert group["lr"] == pytest.approx(7e-4) and group["alpha"] == 0.99 and group["eps"] == 1e-5
    assert not model.normalize_advantage


@pytest.mark.parametrize("make_env,gamma", [(lambda: IdentityEnv(4), 0.99), (lambda: IdentityEnvBox(), 0.0)],
                         ids=["discrete", "box"])
def test_a2c_learns_identity(make_env, gamma):
    # each identity step is an independent bandit; gamma 0 takes the return-variance out of the Box case
    env = make_vec_env(make_env, n_envs=4, seed=0)
    model = A2C("MlpPolicy", env, learning_rate=3e-3, gamma=gamma, seed=0).learn(4000)
    mean, _ = evaluate_policy(model, make_env(), n_eval_episodes=5)
    assert mean >= 45  # out of 50


def test_a2c_logs(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    model = A2C("MlpPolicy", make_vec_env(lambda: IdentityEnv(2), n_envs=2, seed=0), seed=0,
                tensorboard_log=str(tmp_path))
    model.learn(300, log_interval=5)
    run = tmp_path / "A2C_1"
    acc = EventAccumulator(str(run)).Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"train/value_loss", "train/entropy_loss", "train/explained_variance", "train/learning_rate",
            "rollout/ep_rew_mean", "time/fps"} <= tags
