"""A tiny algorithm that follows the agreed model API (for testing callbacks and the CLI without
depending on the real algorithms): a linear 'policy' obs @ w, no learning, real logging."""

from __future__ import annotations

import numpy as np

import corenn
from rl.core.callbacks import CallbackList, ProgressBarCallback, convert_callback
from rl.core.logger import configure_logger
from rl.core.sb3_vec_env.adapters import sb3_view
from rl.core.vec_env import wrap_env


class FakeAlgo:
    def __init__(self, policy, env, learning_rate=1e-3, seed=None, tensorboard_log=None, verbose=0,
                 policy_kwargs=None, normalize=False, n_steps=8, weights=(0.0, 0.0, 1.0, 1.0),
                 interrupt_at=None, terminate_at=None):
        self.policy, self.env = policy, wrap_env(env, seed=seed)
        self.n_envs = self.env.num_envs
        self.observation_space = self.env.single_observation_space
        self.action_space = self.env.single_action_space
        self.learning_rate, self.seed, self.verbose = learning_rate, seed, verbose
        self.tensorboard_log, self.policy_kwargs, self.normalize = tensorboard_log, policy_kwargs, normalize
        self.n_steps, self.interrupt_at, self.terminate_at = n_steps, interrupt_at, terminate_at
        self.w = np.asarray(weights, dtype=np.float64)
        self.num_timesteps = 0
        self.obs_normalizer = None
        self.logger = None
        self._obs = None

    def get_env(self):
        """The env as an SB3 VecEnv, as BaseAlgorithm.get_env (what callbacks' training_env returns)."""
        if getattr(self, "_sb3_env", None) is None:
            self._sb3_env = sb3_view(self.env)
        return self._sb3_env

    def predict(self, obs, state=None, episode_start=None, deterministic=False):
        obs = np.asarray(obs, dtype=np.float64)
        actions = (obs @ self.w > 0).astype(np.int64)
        return actions, state

    def learn(self, total_timesteps, callback=None, log_interval=1, tb_log_name="FAKE",
              reset_num_timesteps=True, progress_bar=False):
        if reset_num_timesteps:
            self.num_timesteps = 0
        else:
            total_timesteps += self.num_timesteps
        self.logger = configure_logger(self.verbose, self.tensorboard_log, tb_log_name, reset_num_timesteps)
        callback = convert_callback(callback)
        if progress_bar:
            callback = CallbackList([callback, ProgressBarCallback()])
        callback.init_callback(self)
        callback.on_training_start(locals(), globals())
        if self._obs is None:
            self._obs, _ = self.env.reset()
        returns, iteration = [], 0
        while self.num_timesteps < total_timesteps:
            callback.on_rollout_start()
            for _ in range(self.n_steps):
                actions, _ = self.predict(self._obs)
                self._obs, rewards, terminated, truncated, infos = self.env.step(actions)
                self.num_timesteps += self.n_envs
                if self.interrupt_at is not None and self.num_timesteps >= self.interrupt_at:
                    raise KeyboardInterrupt
                if self.terminate_at is not None and self.num_timesteps >= self.terminate_at:
                    import os
                    import signal

                    os.kill(os.getpid(), signal.SIGTERM)  # as a job scheduler would
                if "episode" in infos:
                    returns += infos["episode"]["r"][infos["_episode"]].tolist()
                callback.update_locals(locals())
                if not callback.on_step():
                    callback.on_training_end()
                    return self
            callback.on_rollout_end()
            iteration += 1
            if returns:
                self.logger.record("rollout/ep_rew_mean", float(np.mean(returns[-100:])))
            self.logger.record("time/iterations", iteration)
            self.logger.record("train/learning_rate", self.learning_rate)
            self.logger.dump(self.num_timesteps)
        callback.on_training_end()
        return self

    def save(self, path):
        path = str(path) if str(path).endswith(".npz") else f"{path}.npz"
        corenn.save({"algo": "fake", "w": self.w, "num_timesteps": self.num_timesteps}, path)
        return path

    @classmethod
    def load(cls, path, env=None, **overrides):
        data = corenn.load(path)
        if data.get("algo") != "fake":
            raise ValueError(f"{path} is not a fake agent")
        model = cls("MlpPolicy", env if env is not None else "CartPole-v1", weights=data["w"], **overrides)
        model.num_timesteps = int(data["num_timesteps"])
        return model
