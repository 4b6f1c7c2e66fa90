import numpy as np

from rl import PPO
from rl.common.callbacks import EvalCallback
from rl.common.env_util import make_vec_env
from rl.common.vec_env import VecNormalize


def test_eval_callback_syncs_vec_normalize_statistics():
    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=2, seed=0))
    eval_env = VecNormalize(make_vec_env("CartPole-v1", n_envs=1, seed=1), training=False, norm_reward=False)
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=64, n_epochs=1, seed=0)
    model.learn(256, callback=EvalCallback(eval_env, eval_freq=64, n_eval_episodes=1, verbose=0))
    np.testing.assert_array_equal(eval_env.obs_rms.mean, env.obs_rms.mean)
    assert eval_env.obs_rms.count == env.obs_rms.count
