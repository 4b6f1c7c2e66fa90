"""OffPolicyAlgorithm: the act -> store -> replay -> train loop shared by DQN, DDPG, TD3 and SAC.

Stable-Baselines3 semantics: every `train_freq` (n env steps, or n episodes) the agent runs
`gradient_steps` updates (-1: as many as env steps just collected) once `num_timesteps >
learning_starts`; before that it acts uniformly at random. The replay buffer stores raw
observations and rewards; the observation/reward normaliser (if any) is applied when a batch is
sampled, with the current statistics, as SB3 does with VecNormalize.

Time limits are not terminations: the buffer gets `next_obs = infos["final_obs"]` for finished
sub-envs and done = terminated only, so targets bootstrap through truncations. The policy's
actions, the env's observations, rewards and final observations must be finite
(`rl.core.validation`: a ValueError names the env and the step).
"""

from __future__ import annotations

import inspect
from typing import NamedTuple

import gymnasium as gym
import numpy as np

import corenn

from .base_algorithm import BaseAlgorithm, reject_unsupported
from .checkpoint import read_replay_buffer
from .dict_replay_buffer import DictReplayBuffer
from .noise import ActionNoise, VectorizedActionNoise, noise_from_json, noise_to_json
from .replay_buffer import ReplayBuffer, resolve_replay_buffer_class
from .validation import (
    check_actions,
    check_env_step,
    check_final_observations,
    check_hyperparameters,
    constructor_args,
)

__all__ = ["OffPolicyAlgorithm", "TrainFreq", "RolloutReturn"]


class TrainFreq(NamedTuple):
    frequency: int
    unit: str  # "step" or "episode"


class RolloutReturn(NamedTuple):
    episode_timesteps: int
    n_episodes: int
    continue_training: bool


def _as_train_freq(value) -> TrainFreq:
    """1 -> (1, "step"); (4, "episode") -> (4, "episode"); lists from YAML/JSON work too."""
    if isinstance(value, TrainFreq):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        freq, unit = int(value), "step"
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        freq, unit = int(value[0]), str(value[1])
    else:
        raise ValueError(f"train_freq must be an int or a tuple (n, 'step'|'episode'), got {value!r}")
    if unit not in ("step", "episode"):
        raise ValueError(f"train_freq unit must be 'step' or 'episode', got {unit!r}")
    if freq < 1:
        raise ValueError(f"train_freq must be >= 1, got {freq}")
    return TrainFreq(freq, unit)


class OffPolicyAlgorithm(BaseAlgorithm):
    """Subclasses set `policy_aliases`, implement `train(gradient_steps, batch_size)` and call
    `self._setup_model()` at the end of __init__ when `_init_setup_model`. SB3's n-step returns
    (n_steps > 1) and gSDE (use_sde, sde_sample_freq, use_sde_at_warmup) are not implemented."""

    _hparam_names = ("learning_rate", "buffer_size", "learning_starts", "batch_size", "tau", "gamma",
                     "train_freq", "gradient_steps", "optimize_memory_usage", "replay_buffer_kwargs",
                     "blas_num_threads")

    def __init__(self, policy, env, learning_rate, buffer_size: int = 1_000_000, learning_starts: int = 100,
                 batch_size: int = 256, tau: float = 0.005, gamma: float = 0.99, train_freq=1,
                 gradient_steps: int = 1, action_noise: ActionNoise | dict | None = None,
                 replay_buffer_class=None, replay_buffer_kwargs: dict | None = None,
                 optimize_memory_usage: bool = False, n_steps: int = 1, policy_kwargs: dict | None = None,
                 stats_window_size: int = 100, tensorboard_log: str | None = None, verbose: int = 0,
                 device: str = "auto", seed: int | None = None, use_sde: bool = False, sde_sample_freq: int = -1,
                 use_sde_at_warmup: bool = False, normalize: bool | dict = False, n_envs: int = 1,
                 blas_num_threads: int | str | None = "auto"):
        check_hyperparameters("OffPolicyAlgorithm", constructor_args(locals()))
        reject_unsupported(self.algo_name, "n-step returns", n_steps=(n_steps, 1))
        reject_unsupported(self.algo_name, "gSDE exploration", use_sde=(use_sde, False),
                           sde_sample_freq=(sde_sample_freq, -1), use_sde_at_warmup=(use_sde_at_warmup, False))
        super().__init__(policy, env, learning_rate=learning_rate, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log, verbose=verbose,
                         device=device, seed=seed, normalize=normalize, n_envs=n_envs,
                         blas_num_threads=blas_num_threads)
        self.buffer_size, self.learning_starts = int(buffer_size), int(learning_starts)
        self.batch_size, self.tau, self.gamma = int(batch_size), float(tau), float(gamma)
        self.train_freq = _as_train_freq(train_freq)
        self.gradient_steps = int(gradient_steps)
        self.replay_buffer_class = resolve_replay_buffer_class(replay_buffer_class)
        self.replay_buffer_kwargs = dict(replay_buffer_kwargs or {})
        self.optimize_memory_usage = bool(optimize_memory_usage)
        if isinstance(action_noise, dict):
            action_noise = noise_from_json(action_noise, rng=np.random.default_rng(self.rng.integers(2**31)))
        self.action_noise = action_noise
        self.replay_buffer = None
        self._save_replay_buffer = False
        if self.train_freq.unit == "episode" and self.env is not None and self.n_envs > 1:
            raise ValueError("train_freq in episodes needs a single env (n_envs=1), as in SB3; use steps instead")

    # ------------------------------------------------------------------ setup
    def _check_spaces(self) -> None:
        if not isinstance(self.action_space, self.supported_action_spaces):
            if isinstance(self.action_space, gym.spaces.Discrete):
                hint = "use DQN/PPO for Discrete"
            else:
                hint = "use SAC/TD3/DDPG/PPO for Box"
            kinds = "/".join(c.__name__ for c in self.supported_action_spaces)
            raise ValueError(f"{self.algo_name} supports only {kinds} action spaces; {hint} "
                             f"(got {self.action_space})")
        super()._check_spaces()

    def _setup_model(self) -> None:
        self._setup_normalizer()
        self.policy = self.policy_class(self.observation_space, self.action_space, self.lr_schedule,
                                        **self.policy_kwargs)
        self._setup_replay_buffer()
        if self.action_noise is not None and self.n_envs > 1 and not isinstance(self.action_noise,
                                                                                VectorizedActionNoise):
            self.action_noise = VectorizedActionNoise(self.action_noise, self.n_envs)

    def _setup_replay_buffer(self) -> None:
        cls = self.replay_buffer_class
        if cls is None:  # SB3: DictReplayBuffer for Dict observations (MultiInputPolicy)
            cls = DictReplayBuffer if isinstance(self.observation_space, gym.spaces.Dict) else ReplayBuffer
        kwargs = dict(self.replay_buffer_kwargs)
        if "env" in inspect.signature(cls).parameters:
            kwargs.setdefault("env", self.env)  # HerReplayBuffer needs compute_reward
        self.replay_buffer = cls(self.buffer_size, self.observation_space, self.action_space, n_envs=self.n_envs,
                                 optimize_memory_usage=self.optimize_memory_usage, **kwargs)

    def set_env(self, env, force_reset: bool = True) -> None:
        n_before = self.n_envs
        super().set_env(env, force_reset)
        if self.n_envs != n_before:
            if self.replay_buffer is not None and self.replay_buffer.size() > 0:
                raise ValueError(f"the replay buffer holds transitions of {n_before} envs; the new env has "
                                 f"{self.n_envs} (use the same number of sub-envs)")
            self._setup_replay_buffer()
        elif hasattr(self.replay_buffer, "set_env"):  # HER recomputes rewards through the new env
            self.replay_buffer.set_env(self.env)

    # ------------------------------------------------------------------ acting
    def _policy_action(self, features: np.ndarray) -> np.ndarray:
        """Exploration action from the policy: [-1, 1] for Box, ints for Discrete (subclasses may override)."""
        return self.policy.act(features, False, self.rng)

    def _sample_action(self, learning_starts: int, action_noise) -> tuple[np.ndarray, np.ndarray]:
        """-> (action to store (Box: scaled to [-1, 1]), action for env.step). Random before learning_starts."""
        box = isinstance(self.action_space, gym.spaces.Box)
        if self.num_timesteps < learning_starts:
            raw = np.asarray(self.env.action_space.sample())
            buffer_action = self.policy.scale_action(raw) if box else raw
        else:
            buffer_action = self._policy_action(self._last_features)
            check_actions(buffer_action, self.num_timesteps)
        if not box:
            return buffer_action, buffer_action
        if action_noise is not None:
            buffer_action = np.clip(buffer_action + action_noise(), -1.0, 1.0).astype(np.float32)
        return buffer_action, self.policy.unscale_action(buffer_action)

    @staticmethod
    def _next_obs_with_final(new_obs, infos: dict, dones: np.ndarray):
        """new_obs with finished sub-envs' entries replaced by infos["final_obs"] (SAME_STEP autoreset)."""
        idx = np.flatnonzero(dones)
        if idx.size == 0 or "final_obs" not in infos:
            return new_obs
        final = infos["final_obs"]
        if isinstance(new_obs, dict):
            out = {k: v.copy() for k, v in new_obs.items()}
            for i in idx:
                for k in out:
                    out[k][i] = final[i][k]
            return out
        out = new_obs.copy()
        for i in idx:
            out[i] = final[i]
        return out

    def _store_transition(self, buffer_actions, new_obs, rewards, terminated, truncated, infos) -> None:
        dones = terminated | truncated
        next_obs = self._next_obs_with_final(new_obs, infos, dones)
        rewards = np.asarray(rewards, np.float32)
        self.replay_buffer.add(self._last_obs, next_obs, buffer_actions, rewards, dones, infos,
                               truncated=truncated & ~terminated)
        if self.obs_normalizer is not None:
            self.obs_normalizer.process_reward(rewards, dones)  # updates the return statistics
        self._last_obs = new_obs
        self._last_features = self._features(new_obs, update=True)

    def _on_step(self) -> None:
        """Called after each vector-env step (DQN: target update and exploration schedule)."""

    def collect_rollouts(self, env, callback, train_freq: TrainFreq, action_noise=None,
                         learning_starts: int = 0, log_interval: int | None = None) -> RolloutReturn:
        """Step the env until `train_freq` is met, storing transitions in the replay buffer."""
        n_steps = n_episodes = 0
        callback.on_rollout_start()
        while n_steps < train_freq.frequency if train_freq.unit == "step" else n_episodes < train_freq.frequency:
            buffer_actions, actions = self._sample_action(learning_starts, action_noise)
            new_obs, rewards, terminated, truncated, infos = env.step(actions)
            self.num_timesteps += self.n_envs
            check_env_step(new_obs, rewards, self.num_timesteps)
            n_steps += 1
            dones = terminated | truncated  # before the callback sees locals(), as SB3's `dones`
            callback.update_locals(locals())
            if not callback.on_step():
                return RolloutReturn(n_steps * self.n_envs, n_episodes, False)
            episodes_before = self._episode_num
            self._update_info_buffer(infos, dones)
            if dones.any():
                check_final_observations(infos, np.flatnonzero(dones), self.num_timesteps)
            self._store_transition(buffer_actions, new_obs, rewards, terminated, truncated, infos)
            self._update_current_progress_remaining(self.num_timesteps, self._total_timesteps)
            self._on_step()
            if dones.any():
                n_episodes += int(dones.sum())
                if isinstance(action_noise, VectorizedActionNoise):
                    action_noise.reset(dones)
                elif action_noise is not None:
                    action_noise.reset()
                if log_interval and self._episode_num // log_interval > episodes_before // log_interval:
                    self._dump_logs()
        callback.on_rollout_end()
        return RolloutReturn(n_steps * self.n_envs, n_episodes, True)

    # ------------------------------------------------------------------ learning
    def train(self, gradient_steps: int, batch_size: int) -> None:
        """`gradient_steps` updates from replayed batches (subclasses)."""
        raise RuntimeError(f"{type(self).__name__} must define train()")

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 4, tb_log_name: str = "run",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        """Collect and train until `total_timesteps` env steps; logs every `log_interval` episodes."""
        if self.replay_buffer is not None and self.optimize_memory_usage and self.replay_buffer.size() > 0 \
                and (reset_num_timesteps or self._last_obs is None):
            # the env is about to be reset: the last stored next_obs would be overwritten
            self.replay_buffer.dones[(self.replay_buffer.pos - 1) % self.replay_buffer.buffer_size] = 1.0
        if (reset_num_timesteps or self._last_obs is None) and hasattr(self.replay_buffer, "truncate_last_trajectory"):
            self.replay_buffer.truncate_last_trajectory()  # the env is about to be reset: close running episodes
        total_timesteps, callback = self._setup_learn(total_timesteps, callback, reset_num_timesteps,
                                                      tb_log_name, progress_bar)
        callback.on_training_start(locals(), globals())
        try:
            with self._learning_threads() as recheck_threads:
                while self.num_timesteps < total_timesteps:
                    rollout = self.collect_rollouts(self.env, callback, self.train_freq, self.action_noise,
                                                    self.learning_starts, log_interval)
                    if not rollout.continue_training:
                        break
                    if self.num_timesteps > 0 and self.num_timesteps > self.learning_starts:
                        steps = self.gradient_steps if self.gradient_steps >= 0 else rollout.episode_timesteps
                        if steps > 0:
                            recheck_threads()
                            updates_before = self._n_updates
                            self.train(gradient_steps=steps, batch_size=self.batch_size)
                            if self._n_updates // 100 > updates_before // 100:
                                self._flush_subnormal_optimizer_state()
        finally:
            callback.on_training_end()
        return self

    def _flush_subnormal_optimizer_state(self) -> None:
        """Zero optimizer moments below float32's smallest normal number (every 100 updates).

        Adam's moments of dead ReLU units decay geometrically into the subnormal range, where
        x86 multiplies and divides run ~30x slower; flushing them is what FTZ hardware mode would do.
        """
        tiny = np.finfo(np.float32).tiny
        for opt in self._policy_optimizers().values():
            for state in opt.state.values():
                for value in state.values():
                    if isinstance(value, np.ndarray) and value.dtype == np.float32:
                        value[np.abs(value) < tiny] = 0.0

    def _sample_batch(self, batch_size: int):
        """A replay batch as float32 arrays: (features, actions, next_features, rewards (B,), dones (B,))."""
        data = self.replay_buffer.sample(batch_size, self.rng)
        rewards = data.rewards.reshape(-1)
        if self.obs_normalizer is not None:
            rewards = self.obs_normalizer.normalize_reward(rewards)
        return (self._features(data.observations), data.actions, self._features(data.next_observations),
                rewards, data.dones.reshape(-1))

    def _dump_logs(self, iteration: int | None = None) -> None:
        """SB3's off-policy log block: time/*, rollout/* and the train/* values recorded so far."""
        self.logger.record("time/episodes", self._episode_num, exclude="tensorboard")
        self._record_rollout_and_dump()

    # ------------------------------------------------------------------ checkpoints
    def _hyperparameters(self) -> dict:
        hp = super()._hyperparameters()
        hp["train_freq"] = [self.train_freq.frequency, self.train_freq.unit]
        hp["action_noise"] = noise_to_json(self.action_noise)
        hp["replay_buffer_class"] = getattr(self.replay_buffer_class, "__name__", None)
        return hp

    def save(self, path, exclude=None, include=None, include_replay_buffer: bool = False) -> str:
        """Write the agent (".npz"); include_replay_buffer=True stores the buffer in the same file."""
        self._save_replay_buffer = bool(include_replay_buffer)
        try:
            return super().save(path, exclude, include)
        finally:
            self._save_replay_buffer = False

    def _extra_state(self) -> dict:
        state = {}
        if self._save_replay_buffer and self.replay_buffer is not None:
            state["replay_buffer"] = self.replay_buffer.state_dict()
        return state

    def _load_extra_state(self, data: dict) -> None:
        if "replay_buffer" in data:
            self.replay_buffer.load_state_dict(data["replay_buffer"])

    def save_replay_buffer(self, path) -> str:
        """Write the replay buffer alone to an .npz (corenn.save; no pickling). Returns the path."""
        path = str(path) if str(path).endswith(".npz") else f"{path}.npz"
        corenn.save({"format": "corenn-replay-buffer", "algo": self.algo_name,
                     "state": self.replay_buffer.state_dict()}, path)
        return path

    def load_replay_buffer(self, path) -> None:
        """Restore a buffer written by `save_replay_buffer` (same size, n_envs and spaces)."""
        self.replay_buffer.load_state_dict(read_replay_buffer(path, self.replay_buffer))
