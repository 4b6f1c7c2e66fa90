"""SB3's callbacks as its guide uses them (only the package renamed): EveryNTimesteps, LogEveryNTimesteps,
StopTrainingOnMaxEpisodes, StopTrainingOnNoModelImprovement, StopTrainingOnRewardThreshold, and
EvalCallback's callback_on_new_best / callback_after_eval."""

import csv

import gymnasium as gym
import numpy as np
import pytest

from rl import A2C, DQN, PPO
from rl.common.callbacks import (
    BaseCallback,
    CheckpointCallback,
    EvalCallback,
    EveryNTimesteps,
    LogEveryNTimesteps,
    StopTrainingOnMaxEpisodes,
    StopTrainingOnNoModelImprovement,
    StopTrainingOnRewardThreshold,
)
from rl.common.logger import configure
from rl.common.monitor import Monitor

try:
    from rl.common.env_util import make_vec_env
except ImportError:  # SB3's env_util module lands with the VecEnv part of the same issue
    from rl.core.vec_env import make_vec_env


class FixedEpisodes(gym.Env):
    """Every episode lasts 5 steps with reward 1 whatever the actions: every evaluation scores 5."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(2, self.t / 5, np.float32), 1.0, self.t >= 5, False, {}


class Calls(BaseCallback):
    """Records num_timesteps at each of its on_step calls."""

    def __init__(self):
        super().__init__()
        self.at = []

    def _on_step(self):
        self.at.append(self.num_timesteps)
        return True


def test_every_n_timesteps_counts_timesteps_not_calls():
    env = make_vec_env("CartPole-v1", n_envs=2, seed=0)
    child = Calls()
    every = EveryNTimesteps(n_steps=30, callback=child)
    assert child.parent is every
    model = A2C("MlpPolicy", env, n_steps=5, seed=0)
    model.learn(100, callback=every)
    # 2 timesteps per call: it fires at the first call at least 30 timesteps after the previous firing
    assert child.at == [30, 60, 90] and every.last_time_trigger == 90
    assert child.n_calls == 3 and every.n_calls == 50
    with pytest.raises(ValueError, match="n_steps"):
        EveryNTimesteps(n_steps=0, callback=child)


def test_every_n_timesteps_with_checkpoints(tmp_path):
    """SB3's guide: a CheckpointCallback(save_freq=1) run by EveryNTimesteps."""
    checkpoint_on_event = CheckpointCallback(save_freq=1, save_path=str(tmp_path))
    event_callback = EveryNTimesteps(n_steps=25, callback=checkpoint_on_event)
    model = A2C("MlpPolicy", "CartPole-v1", n_steps=5, seed=0)
    model.learn(100, callback=event_callback)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"rl_model_{n}_steps.npz" for n in (100, 25, 50, 75)]
    loaded = A2C.load(str(tmp_path / "rl_model_50_steps.npz"))
    assert loaded.num_timesteps == 50


def test_log_every_n_timesteps_dumps_through_a_configured_logger(tmp_path):
    model = A2C("MlpPolicy", "CartPole-v1", n_steps=5, seed=0)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(100, callback=LogEveryNTimesteps(n_steps=20), log_interval=1000)  # no dump of its own
    with open(tmp_path / "progress.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["time/total_timesteps"]) for r in rows] == [20, 40, 60, 80, 100]
    assert all(r["train/value_loss"] != "" for r in rows)  # what training recorded is dumped too


def test_stop_on_max_episodes_counts_every_env():
    finished = []

    class CountEpisodes(gym.Wrapper):
        def step(self, action):
            out = self.env.step(action)
            if out[2] or out[3]:
                finished.append(self.env)
            return out

    env = make_vec_env("CartPole-v1", n_envs=2, seed=0, wrapper_class=CountEpisodes)
    stop = StopTrainingOnMaxEpisodes(max_episodes=3, verbose=1)
    model = A2C("MlpPolicy", env, n_steps=5, seed=0)
    model.learn(10_000, callback=stop)
    # max_episodes per env: 3 * 2 episodes in all; both envs may finish on the last step
    assert stop.n_episodes == len(finished) and 6 <= stop.n_episodes <= 7
    assert model.num_timesteps < 10_000


def test_stop_on_max_episodes_single_env_off_policy(capsys):
    env = Monitor(gym.make("CartPole-v1"))
    model = DQN("MlpPolicy", env, learning_starts=10_000, seed=0)
    model.learn(10_000, callback=StopTrainingOnMaxEpisodes(max_episodes=2, verbose=1))
    assert len(env.get_episode_lengths()) == 2
    assert model.num_timesteps == sum(env.get_episode_lengths()) == env.get_total_steps()
    assert "reached max_episodes=2" in capsys.readouterr().out


def test_stop_on_no_model_improvement_after_eval(tmp_path):
    stop_train_callback = StopTrainingOnNoModelImprovement(max_no_improvement_evals=2, min_evals=1, verbose=1)
    eval_callback = EvalCallback(FixedEpisodes(), eval_freq=8, n_eval_episodes=3,
                                 callback_after_eval=stop_train_callback, log_path=str(tmp_path),
                                 best_model_save_path=str(tmp_path), verbose=0)
    assert stop_train_callback.parent is eval_callback
    model = PPO("MlpPolicy", FixedEpisodes(), n_steps=16, batch_size=16, n_epochs=1, seed=0)
    model.learn(1000, callback=eval_callback)
    # eval 1: best = 5 (not counted, min_evals=1); evals 2, 3, 4 bring no new best -> 3 > 2 stops at eval 4
    assert model.num_timesteps == 4 * 8
    assert stop_train_callback.n_calls == 4 and stop_train_callback.no_improvement_evals == 3
    assert eval_callback.best_mean_reward == eval_callback.last_mean_reward == 5.0
    evaluations = np.load(tmp_path / "evaluations.npz")
    assert list(evaluations["timesteps"]) == [8, 16, 24, 32]
    assert evaluations["results"].shape == (4, 3) and np.all(evaluations["results"] == 5.0)
    assert np.all(evaluations["ep_lengths"] == 5)
    assert (tmp_path / "best_model.npz").exists()


def test_new_best_and_after_eval_children(tmp_path):
    on_best, after_eval = Calls(), Calls()
    eval_callback = EvalCallback(FixedEpisodes(), eval_freq=4, n_eval_episodes=2, callback_on_new_best=on_best,
                                 callback_after_eval=after_eval, verbose=0)
    assert on_best.parent is eval_callback and after_eval.parent is eval_callback
    model = PPO("MlpPolicy", FixedEpisodes(), n_steps=8, batch_size=8, n_epochs=1, seed=0)
    model.learn(24, callback=eval_callback)
    assert after_eval.at == [4, 8, 12, 16, 20, 24]  # after every evaluation
    assert on_best.at == [4]  # a constant score is a new best only once
    assert on_best.model is model and after_eval.model is model


def test_stop_on_reward_threshold_on_new_best():
    callback_on_best = StopTrainingOnRewardThreshold(reward_threshold=5, verbose=1)
    eval_callback = EvalCallback(FixedEpisodes(), callback_on_new_best=callback_on_best, eval_freq=8, verbose=0)
    model = PPO("MlpPolicy", FixedEpisodes(), n_steps=16, batch_size=16, n_epochs=1, seed=0)
    model.learn(1000, callback=eval_callback)
    assert model.num_timesteps == 8 and callback_on_best.parent is eval_callback


def test_stop_callbacks_need_an_eval_parent():
    model = PPO("MlpPolicy", FixedEpisodes(), n_steps=16, batch_size=16, n_epochs=1, seed=0)
    with pytest.raises(RuntimeError, match="callback_after_eval"):
        model.learn(16, callback=StopTrainingOnNoModelImprovement(max_no_improvement_evals=1))
    with pytest.raises(ValueError, match="max_episodes"):
        StopTrainingOnMaxEpisodes(max_episodes=0)
    with pytest.raises(ValueError, match="min_evals"):
        StopTrainingOnNoModelImprovement(1, min_evals=-1)


@pytest.mark.parametrize("max_no_improvement_evals, min_evals", [(0, 0), (2, 1), (1, 4)])
def test_no_model_improvement_decisions_match_sb3(max_no_improvement_evals, min_evals):
    """Fed the same sequence of evaluation results, ours and SB3's stop at the same evaluation."""
    from types import SimpleNamespace

    sb3_callbacks = pytest.importorskip("stable_baselines3.common.callbacks")
    rewards = [1.0, 3.0, 2.0, 3.0, 5.0, 4.0, 4.5, 5.0, 6.0, 1.0, 1.0, 1.0]
    decisions = {}
    classes = {"ours": StopTrainingOnNoModelImprovement, "sb3": sb3_callbacks.StopTrainingOnNoModelImprovement}
    for name, cls in classes.items():
        callback = cls(max_no_improvement_evals=max_no_improvement_evals, min_evals=min_evals)
        callback.parent = SimpleNamespace(best_mean_reward=-np.inf)
        callback.model = SimpleNamespace(num_timesteps=0)
        decisions[name] = []
        for reward in rewards:
            callback.parent.best_mean_reward = max(callback.parent.best_mean_reward, reward)
            decisions[name].append(callback.on_step())
    assert decisions["ours"] == decisions["sb3"] and False in decisions["ours"]
