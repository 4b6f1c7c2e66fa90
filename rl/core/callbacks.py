"""Training callbacks with Stable-Baselines3's shape.

An algorithm calls, in order: init_callback(model), on_training_start(locals, globals), then per
rollout on_rollout_start(), on_step() once per vector-env step (False stops training),
on_rollout_end(), and finally on_training_end(). Frequencies (eval_freq, save_freq) count on_step
calls, i.e. vector-env steps, as in SB3: with n_envs envs, eval_freq=1000 means 1000 * n_envs timesteps.
"""

from __future__ import annotations

import os

import numpy as np

from rl.core.evaluation import as_vec_env, run_episodes
from rl.core.logger import ProgressBar
from rl.core.sb3_vec_env.base import is_sb3_vec_env, sync_envs_normalization

__all__ = ["BaseCallback", "CallbackList", "ConvertCallback", "EventCallback", "EvalCallback",
           "CheckpointCallback", "StopTrainingOnRewardThreshold", "ProgressBarCallback", "convert_callback",
           "EveryNTimesteps", "LogEveryNTimesteps", "StopTrainingOnMaxEpisodes", "StopTrainingOnNoModelImprovement"]


class BaseCallback:
    """Base class; subclasses override the `_on_*` hooks. `_on_step` returns False to stop training."""

    def __init__(self, verbose: int = 0):
        self.verbose = verbose
        self.model = None
        self.n_calls = 0
        self.num_timesteps = 0
        self.locals: dict = {}
        self.globals: dict = {}
        self.parent = None

    @property
    def training_env(self):
        """The training env as an SB3 VecEnv (`model.get_env()`), as SB3's callbacks see it."""
        return self.model.get_env()

    @property
    def logger(self):
        return self.model.logger

    def init_callback(self, model) -> None:
        self.model = model
        self._init_callback()

    def _init_callback(self) -> None:
        pass

    def on_training_start(self, locals_: dict, globals_: dict) -> None:
        self.locals, self.globals = locals_, globals_
        self.num_timesteps = self.model.num_timesteps
        self._on_training_start()

    def _on_training_start(self) -> None:
        pass

    def on_rollout_start(self) -> None:
        self._on_rollout_start()

    def _on_rollout_start(self) -> None:
        pass

    def on_step(self) -> bool:
        self.n_calls += 1
        self.num_timesteps = self.model.num_timesteps
        return bool(self._on_step())

    def _on_step(self) -> bool:
        return True

    def on_rollout_end(self) -> None:
        self._on_rollout_end()

    def _on_rollout_end(self) -> None:
        pass

    def on_training_end(self) -> None:
        self._on_training_end()

    def _on_training_end(self) -> None:
        pass

    def update_locals(self, locals_: dict) -> None:
        self.locals.update(locals_)
        self.update_child_locals(locals_)

    def update_child_locals(self, locals_: dict) -> None:
        pass


class EventCallback(BaseCallback):
    """A callback that triggers a child callback on some event (e.g. after an evaluation)."""

    def __init__(self, callback: BaseCallback | None = None, verbose: int = 0):
        super().__init__(verbose)
        self.callback = callback
        if callback is not None:
            callback.parent = self

    def init_callback(self, model) -> None:
        super().init_callback(model)
        if self.callback is not None:
            self.callback.init_callback(model)

    def _on_training_start(self) -> None:
        if self.callback is not None:
            self.callback.on_training_start(self.locals, self.globals)

    def _on_event(self) -> bool:
        return self.callback.on_step() if self.callback is not None else True

    def update_child_locals(self, locals_: dict) -> None:
        if self.callback is not None:
            self.callback.update_locals(locals_)


class CallbackList(BaseCallback):
    """Runs several callbacks in order; training stops if any on_step returns False."""

    def __init__(self, callbacks: list):
        super().__init__()
        self.callbacks = [convert_callback(c) for c in callbacks]

    def _init_callback(self) -> None:
        for c in self.callbacks:
            c.init_callback(self.model)

    def _on_training_start(self) -> None:
        for c in self.callbacks:
            c.on_training_start(self.locals, self.globals)

    def _on_rollout_start(self) -> None:
        for c in self.callbacks:
            c.on_rollout_start()

    def _on_step(self) -> bool:
        results = [c.on_step() for c in self.callbacks]  # every callback runs, even after a False
        return all(results)

    def _on_rollout_end(self) -> None:
        for c in self.callbacks:
            c.on_rollout_end()

    def _on_training_end(self) -> None:
        for c in self.callbacks:
            c.on_training_end()

    def update_child_locals(self, locals_: dict) -> None:
        for c in self.callbacks:
            c.update_locals(locals_)


class ConvertCallback(BaseCallback):
    """Wraps a function f(locals, globals) -> bool (None counts as True)."""

    def __init__(self, callback, verbose: int = 0):
        super().__init__(verbose)
        self.callback = callback

    def _on_step(self) -> bool:
        result = self.callback(self.locals, self.globals)
        return True if result is None else bool(result)


def convert_callback(callback) -> BaseCallback:
    """None / list / callable / BaseCallback -> one BaseCallback."""
    if callback is None:
        return CallbackList([])
    if isinstance(callback, BaseCallback):
        return callback
    if isinstance(callback, (list, tuple)):
        return CallbackList(list(callback))
    if callable(callback):
        return ConvertCallback(callback)
    raise TypeError(f"callback must be None, a BaseCallback, a list or a callable, got {type(callback).__name__}")


class CheckpointCallback(BaseCallback):
    """Saves `{save_path}/{name_prefix}_{num_timesteps}_steps.npz` every `save_freq` calls.

    Normaliser statistics travel inside the agent file, so save_vecnormalize is accepted for SB3
    compatibility and needs no separate file.
    """

    def __init__(self, save_freq: int, save_path: str, name_prefix: str = "rl_model",
                 save_replay_buffer: bool = False, save_vecnormalize: bool = False, verbose: int = 0):
        super().__init__(verbose)
        if int(save_freq) <= 0:
            raise ValueError(f"save_freq must be positive, got {save_freq}")
        self.save_freq = int(save_freq)
        self.save_path = save_path
        self.name_prefix = name_prefix
        self.save_replay_buffer = save_replay_buffer
        self.save_vecnormalize = save_vecnormalize

    def _init_callback(self) -> None:
        os.makedirs(self.save_path, exist_ok=True)

    def _checkpoint_path(self, kind: str = "", extension: str = "npz") -> str:
        name = f"{self.name_prefix}_{kind}{self.num_timesteps}_steps.{extension}"
        return os.path.join(self.save_path, name)

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            path = self._checkpoint_path()
            self.model.save(path)
            if self.verbose >= 2:
                print(f"Saving model checkpoint to {path}")
            if self.save_replay_buffer and hasattr(self.model, "save_replay_buffer"):
                self.model.save_replay_buffer(self._checkpoint_path("replay_buffer_"))
        return True


class StopTrainingOnRewardThreshold(BaseCallback):
    """Child of EvalCallback (callback_on_new_best): stops once the best mean reward >= threshold."""

    def __init__(self, reward_threshold: float, verbose: int = 0):
        super().__init__(verbose)
        self.reward_threshold = float(reward_threshold)

    def _on_step(self) -> bool:
        if self.parent is None:
            raise RuntimeError("StopTrainingOnRewardThreshold must be used as EvalCallback(callback_on_new_best=...)")
        stop = self.parent.best_mean_reward >= self.reward_threshold
        if stop and self.verbose >= 1:
            print(f"Stopping training: best mean reward {self.parent.best_mean_reward:.2f} "
                  f">= threshold {self.reward_threshold}")
        return not stop


def _savez_atomic(path: str, **arrays) -> None:
    """np.savez to a temporary file beside `path`, renamed over it (a crash never leaves half a file)."""
    tmp = os.path.join(os.path.dirname(path) or ".", f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, path)


class EvalCallback(EventCallback):
    """Every `eval_freq` calls, evaluates the agent on `eval_env` for `n_eval_episodes` episodes,
    logs eval/mean_reward, eval/mean_ep_length (and eval/success_rate), saves
    `{best_model_save_path}/best_model.npz` on a new best and `{log_path}/evaluations.npz`."""

    def __init__(self, eval_env, callback_on_new_best: BaseCallback | None = None,
                 callback_after_eval: BaseCallback | None = None, n_eval_episodes: int = 5,
                 eval_freq: int = 10000, log_path: str | None = None, best_model_save_path: str | None = None,
                 deterministic: bool = True, render: bool = False, verbose: int = 1):
        super().__init__(callback_after_eval, verbose=verbose)
        self.callback_on_new_best = callback_on_new_best
        if callback_on_new_best is not None:
            callback_on_new_best.parent = self
        self.eval_env = as_vec_env(eval_env)
        self._given_eval_env = eval_env  # an SB3 VecEnv (maybe a VecNormalize) for sync_envs_normalization
        self.n_eval_episodes = int(n_eval_episodes)
        self.eval_freq = int(eval_freq)
        self.deterministic = deterministic
        self.render = render
        self.best_model_save_path = best_model_save_path
        self.log_path = None if log_path is None else os.path.join(log_path, "evaluations")
        self.best_mean_reward = -np.inf
        self.last_mean_reward = -np.inf
        self.evaluations_timesteps: list = []
        self.evaluations_results: list = []
        self.evaluations_length: list = []
        self.evaluations_successes: list = []

    def _init_callback(self) -> None:
        for folder in (self.best_model_save_path, self.log_path and os.path.dirname(self.log_path)):
            if folder:
                os.makedirs(folder, exist_ok=True)
        if self.callback_on_new_best is not None:
            self.callback_on_new_best.init_callback(self.model)

    def _on_step(self) -> bool:
        if self.eval_freq <= 0 or self.n_calls % self.eval_freq != 0:
            return True
        if is_sb3_vec_env(self._given_eval_env) and self.model.get_vec_normalize_env() is not None:
            sync_envs_normalization(self.training_env, self._given_eval_env)  # as SB3: eval with training stats
        rewards, lengths, successes = run_episodes(self.model, self.eval_env, self.n_eval_episodes,
                                                   self.deterministic, self.render)
        mean_reward, std_reward = float(np.mean(rewards)), float(np.std(rewards))
        mean_length, std_length = float(np.mean(lengths)), float(np.std(lengths))
        self.last_mean_reward = mean_reward
        if self.log_path is not None:
            self.evaluations_timesteps.append(self.num_timesteps)
            self.evaluations_results.append(rewards)
            self.evaluations_length.append(lengths)
            extra = {}
            if successes:
                self.evaluations_successes.append(successes)
                extra["successes"] = np.array(self.evaluations_successes)
            _savez_atomic(self.log_path + ".npz", timesteps=np.array(self.evaluations_timesteps),
                          results=np.array(self.evaluations_results), ep_lengths=np.array(self.evaluations_length),
                          **extra)
        if self.verbose >= 1:
            print(f"Eval num_timesteps={self.num_timesteps}, episode_reward={mean_reward:.2f} +/- {std_reward:.2f}")
            print(f"Episode length: {mean_length:.2f} +/- {std_length:.2f}")
        self.logger.record("eval/mean_reward", mean_reward)
        self.logger.record("eval/mean_ep_length", mean_length)
        if successes:
            self.logger.record("eval/success_rate", float(np.mean(successes)))
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        self.logger.dump(self.num_timesteps)

        continue_training = True
        if mean_reward > self.best_mean_reward:
            if self.verbose >= 1:
                print("New best mean reward!")
            if self.best_model_save_path is not None:
                self.model.save(os.path.join(self.best_model_save_path, "best_model"))
            self.best_mean_reward = mean_reward
            if self.callback_on_new_best is not None:
                continue_training = self.callback_on_new_best.on_step()
        if self.callback is not None:
            continue_training = continue_training and self._on_event()
        return continue_training

    def update_child_locals(self, locals_: dict) -> None:
        if self.callback is not None:
            self.callback.update_locals(locals_)


class ProgressBarCallback(BaseCallback):
    """tqdm progress bar over timesteps (what learn(progress_bar=True) adds)."""

    def __init__(self):
        super().__init__()
        self.pbar = None
        self._last = self._target = 0

    def _on_training_start(self) -> None:
        # SB3 semantics: locals["total_timesteps"] is the absolute target (it includes the steps
        # done before a resumed learn(..., reset_num_timesteps=False)).
        self._last = self.model.num_timesteps
        self._target = max(int(self.locals.get("total_timesteps", self._last)), self._last)
        self.pbar = ProgressBar(total=self._target - self._last)

    def _on_step(self) -> bool:
        now = min(self.num_timesteps, self._target)  # the last rollout may overshoot the target
        self.pbar.update(now - self._last)
        self._last = now
        return True

    def _on_training_end(self) -> None:
        if self.pbar is not None:
            self.pbar.close()
            self.pbar = None


# SB3's event and stopping callbacks live in callbacks_events.py (they subclass the classes above).
from .callbacks_events import (  # noqa: E402
    EveryNTimesteps,
    LogEveryNTimesteps,
    StopTrainingOnMaxEpisodes,
    StopTrainingOnNoModelImprovement,
)
