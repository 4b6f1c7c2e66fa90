import os

import gymnasium as gym
import numpy as np
import pytest

from rl.core.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
    ConvertCallback,
    EvalCallback,
    ProgressBarCallback,
    StopTrainingOnRewardThreshold,
    convert_callback,
)
from rl.core.evaluation import evaluate_policy, run_episodes
from rl.core.vec_env import make_vec_env
from tests.rl._fake_algo import FakeAlgo


class Recorder(BaseCallback):
    def __init__(self, stop_after=None):
        super().__init__()
        self.events, self.stop_after = [], stop_after

    def _on_training_start(self):
        self.events.append("start")

    def _on_rollout_start(self):
        self.events.append("rollout_start")

    def _on_step(self):
        self.events.append("step")
        return self.stop_after is None or self.n_calls < self.stop_after

    def _on_rollout_end(self):
        self.events.append("rollout_end")

    def _on_training_end(self):
        self.events.append("end")


def test_convert_callback_kinds():
    assert isinstance(convert_callback(None), CallbackList)
    rec = Recorder()
    assert convert_callback(rec) is rec
    assert isinstance(convert_callback([rec]), CallbackList)
    assert isinstance(convert_callback(lambda locals_, globals_: True), ConvertCallback)
    with pytest.raises(TypeError, match="callback must be"):
        convert_callback(3)


def test_hooks_order_counts_and_stop():
    model = FakeAlgo("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), n_steps=4)
    rec, other = Recorder(stop_after=6), Recorder()
    seen = []
    model.learn(100, callback=[rec, other, lambda locals_, globals_: seen.append(locals_["self"].num_timesteps)])
    assert rec.events[:3] == ["start", "rollout_start", "step"]
    assert rec.events.count("step") == 6 and other.events.count("step") == 6  # all run, then stop
    assert rec.events[-1] == "end"
    assert rec.n_calls == 6 and rec.num_timesteps == 12 == model.num_timesteps
    assert seen == [2, 4, 6, 8, 10, 12]
    assert rec.training_env is model.get_env() and rec.logger is model.logger  # SB3: the VecEnv
    assert "actions" in rec.locals  # update_locals passes the step's variables


def test_eval_callback_saves_best_and_logs(tmp_path):
    model = FakeAlgo("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), n_steps=5,
                     tensorboard_log=str(tmp_path / "tb"))
    eval_cb = EvalCallback("CartPole-v1", n_eval_episodes=3, eval_freq=10, log_path=str(tmp_path),
                           best_model_save_path=str(tmp_path), verbose=0)
    model.learn(40, callback=eval_cb)  # 20 on_step calls -> 2 evaluations
    data = np.load(tmp_path / "evaluations.npz", allow_pickle=False)
    assert data["timesteps"].tolist() == [20, 40]
    assert data["results"].shape == (2, 3) and data["ep_lengths"].shape == (2, 3)
    assert os.path.exists(tmp_path / "best_model.npz")
    assert eval_cb.best_mean_reward > 200 and eval_cb.last_mean_reward > 200
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(model.logger.dir)
    acc.Reload()
    assert {"eval/mean_reward", "eval/mean_ep_length"} <= set(acc.Tags()["scalars"])
    assert [e.step for e in acc.Scalars("eval/mean_reward")] == [20, 40]


def test_stop_on_reward_threshold():
    model = FakeAlgo("MlpPolicy", "CartPole-v1", n_steps=5)
    stop = StopTrainingOnRewardThreshold(reward_threshold=100, verbose=0)
    eval_cb = EvalCallback(gym.make("CartPole-v1"), callback_on_new_best=stop, n_eval_episodes=2,
                           eval_freq=5, verbose=0)
    model.learn(1000, callback=eval_cb)
    assert model.num_timesteps == 5
    with pytest.raises(RuntimeError, match="callback_on_new_best"):
        lonely = StopTrainingOnRewardThreshold(1.0)
        lonely.init_callback(model)
        lonely.on_step()


def test_checkpoint_callback_counts_vector_steps(tmp_path):
    model = FakeAlgo("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), n_steps=4)
    model.learn(24, callback=CheckpointCallback(save_freq=4, save_path=str(tmp_path / "ckpt")))
    files = sorted(os.listdir(tmp_path / "ckpt"))
    assert files == ["rl_model_16_steps.npz", "rl_model_24_steps.npz", "rl_model_8_steps.npz"]
    with pytest.raises(ValueError, match="save_freq"):
        CheckpointCallback(0, str(tmp_path))


def test_progress_bar_callback(capsys):
    model = FakeAlgo("MlpPolicy", "CartPole-v1", n_steps=4)
    model.learn(20, progress_bar=True)
    model.learn(8, callback=ProgressBarCallback(), reset_num_timesteps=False)
    assert model.num_timesteps == 28


class _GoalEnv(gym.Env):
    """Episodes of 3 steps; reward = action; success iff the last action is 1."""

    observation_space = gym.spaces.Box(-1, 1, (4,))
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(4, dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        done = self.t == 3
        info = {"is_success": bool(action == 1)} if done else {}
        return np.zeros(4, dtype=np.float32), float(action), done, False, info


class _Constant:
    def __init__(self, action):
        self.action = action

    def predict(self, obs, deterministic=True):
        return np.full(len(obs), self.action), None


def test_evaluate_policy_inputs_counts_and_success():
    model = FakeAlgo("MlpPolicy", "CartPole-v1")
    mean, std = evaluate_policy(model, "CartPole-v1", n_eval_episodes=3)
    assert mean > 200 and std >= 0
    rewards, lengths = evaluate_policy(model, make_vec_env("CartPole-v1", n_envs=3, seed=1), n_eval_episodes=5,
                                       return_episode_rewards=True)
    assert len(rewards) == len(lengths) == 5 and rewards == [float(n) for n in lengths]
    rewards, lengths, successes = run_episodes(_Constant(1), _GoalEnv(), n_eval_episodes=4)
    assert rewards == [3.0] * 4 and lengths == [3] * 4 and successes == [True] * 4
    _, _, successes = run_episodes(_Constant(0), make_vec_env(_GoalEnv, n_envs=2), n_eval_episodes=4)
    assert successes == [False] * 4


def test_evaluate_policy_next_step_autoreset_matches():
    next_step = gym.vector.SyncVectorEnv([_GoalEnv, _GoalEnv], autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP)
    rewards, lengths = evaluate_policy(_Constant(1), next_step, n_eval_episodes=5, return_episode_rewards=True)
    assert rewards == [3.0] * 5 and lengths == [3] * 5
    disabled = gym.vector.SyncVectorEnv([_GoalEnv], autoreset_mode=gym.vector.AutoresetMode.DISABLED)
    with pytest.raises(ValueError, match="autoreset"):
        evaluate_policy(_Constant(1), disabled, n_eval_episodes=1)
    with pytest.raises(TypeError, match="env id"):
        evaluate_policy(_Constant(1), 42)
    with pytest.raises(ValueError, match="positive"):
        evaluate_policy(_Constant(1), "CartPole-v1", n_eval_episodes=0)
