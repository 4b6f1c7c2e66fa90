"""SB3's event and stopping callbacks: `EveryNTimesteps`, `LogEveryNTimesteps`,
`StopTrainingOnMaxEpisodes` and `StopTrainingOnNoModelImprovement` (re-exported by rl.core.callbacks).

    callback = EveryNTimesteps(n_steps=500, callback=CheckpointCallback(save_freq=1, save_path="logs"))
    stop = StopTrainingOnNoModelImprovement(max_no_improvement_evals=3, min_evals=5, verbose=1)
    eval_callback = EvalCallback(eval_env, eval_freq=1000, callback_after_eval=stop)
"""

from __future__ import annotations

import numpy as np

from .callbacks import BaseCallback, ConvertCallback, EventCallback

__all__ = ["EveryNTimesteps", "LogEveryNTimesteps", "StopTrainingOnMaxEpisodes", "StopTrainingOnNoModelImprovement"]


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


class EveryNTimesteps(EventCallback):
    """Runs `callback` (its on_step) whenever `n_steps` timesteps have passed since it last ran;
    counts timesteps (num_timesteps, all envs together), not calls."""

    def __init__(self, n_steps: int, callback: BaseCallback):
        super().__init__(callback)
        self.n_steps = _positive_int(n_steps, "n_steps")
        self.last_time_trigger = 0

    def _on_step(self) -> bool:
        if (self.num_timesteps - self.last_time_trigger) >= self.n_steps:
            self.last_time_trigger = self.num_timesteps
            return self._on_event()
        return True


class LogEveryNTimesteps(EveryNTimesteps):
    """Dumps the model's logs (rollout/*, time/* and whatever was recorded) every `n_steps` timesteps."""

    def __init__(self, n_steps: int):
        super().__init__(n_steps, callback=ConvertCallback(self._log_data))

    def _log_data(self, _locals: dict, _globals: dict) -> bool:
        dump = getattr(self.model, "dump_logs", None) or self.model._record_rollout_and_dump
        dump()
        return True


def _step_dones(locals_: dict) -> np.ndarray:
    """Which envs finished an episode in the step being reported: terminated | truncated when the
    training loop exposes them (Gymnasium steps), else its `dones` (SB3 VecEnv steps)."""
    if locals_.get("terminated") is not None and locals_.get("truncated") is not None:
        return np.asarray(locals_["terminated"], bool) | np.asarray(locals_["truncated"], bool)
    dones = locals_.get("dones", locals_.get("done"))
    if dones is None:
        raise RuntimeError("StopTrainingOnMaxEpisodes needs the training loop's `dones` in the callback locals")
    return np.asarray(dones, bool)


class StopTrainingOnMaxEpisodes(BaseCallback):
    """Stops training once `max_episodes` episodes per env were played: with n envs, after
    max_episodes * n episodes counted over all envs together, as SB3 does."""

    def __init__(self, max_episodes: int, verbose: int = 0):
        super().__init__(verbose=verbose)
        self.max_episodes = _positive_int(max_episodes, "max_episodes")
        self._total_max_episodes = self.max_episodes
        self.n_episodes = 0

    def _init_callback(self) -> None:
        self._total_max_episodes = self.max_episodes * self.training_env.num_envs

    def _on_step(self) -> bool:
        self.n_episodes += int(np.sum(_step_dones(self.locals)))
        continue_training = self.n_episodes < self._total_max_episodes
        if self.verbose >= 1 and not continue_training:
            n_envs = self.training_env.num_envs
            per_env = f" with an average of {self.n_episodes / n_envs:.2f} episodes per env" if n_envs > 1 else ""
            print(f"Stopping training with a total of {self.num_timesteps} steps because the "
                  f"{self.locals.get('tb_log_name', 'run')} model reached max_episodes={self.max_episodes}, "
                  f"by playing for {self.n_episodes} episodes{per_env}")
        return continue_training


class StopTrainingOnNoModelImprovement(BaseCallback):
    """Child of EvalCallback (callback_after_eval): stops training when the best mean reward has not
    improved for more than `max_no_improvement_evals` evaluations in a row, counting only after the
    first `min_evals` evaluations."""

    def __init__(self, max_no_improvement_evals: int, min_evals: int = 0, verbose: int = 0):
        super().__init__(verbose=verbose)
        if isinstance(max_no_improvement_evals, bool) or not isinstance(max_no_improvement_evals, (int, np.integer)) \
                or max_no_improvement_evals < 0:
            raise ValueError(f"max_no_improvement_evals must be an int >= 0, got {max_no_improvement_evals!r}")
        if isinstance(min_evals, bool) or not isinstance(min_evals, (int, np.integer)) or min_evals < 0:
            raise ValueError(f"min_evals must be an int >= 0, got {min_evals!r}")
        self.max_no_improvement_evals = int(max_no_improvement_evals)
        self.min_evals = int(min_evals)
        self.last_best_mean_reward = -np.inf
        self.no_improvement_evals = 0

    def _on_step(self) -> bool:
        if self.parent is None or not hasattr(self.parent, "best_mean_reward"):
            raise RuntimeError("StopTrainingOnNoModelImprovement must be used as "
                               "EvalCallback(callback_after_eval=StopTrainingOnNoModelImprovement(...))")
        continue_training = True
        if self.n_calls > self.min_evals:
            if self.parent.best_mean_reward > self.last_best_mean_reward:
                self.no_improvement_evals = 0
            else:
                self.no_improvement_evals += 1
                if self.no_improvement_evals > self.max_no_improvement_evals:
                    continue_training = False
        self.last_best_mean_reward = self.parent.best_mean_reward
        if self.verbose >= 1 and not continue_training:
            print(f"Stopping training because there was no new best model in the last "
                  f"{self.no_improvement_evals:d} evaluations")
        return continue_training
