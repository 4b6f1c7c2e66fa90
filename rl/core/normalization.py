"""Running mean/std statistics and the observation/reward normaliser (SB3 VecNormalize semantics).

The normaliser is not a wrapper around the env: the algorithm calls `normalize_obs` on what it
stores and acts on, `normalize_reward` on rewards, and `predict` applies `normalize_obs` itself,
so the statistics live in (and are saved with) the agent.
"""

from __future__ import annotations

import numpy as np

__all__ = ["RunningMeanStd", "ObsNormalizer"]


class RunningMeanStd:
    """Parallel (Chan et al.) running mean and variance over a leading batch axis; float64 stats."""

    def __init__(self, shape: tuple = (), epsilon: float = 1e-4):
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = float(epsilon)

    def update(self, x: np.ndarray) -> None:
        """x: (batch, *shape)."""
        x = np.asarray(x, dtype=np.float64)
        self.update_from_moments(x.mean(axis=0), x.var(axis=0), x.shape[0])

    def update_from_moments(self, batch_mean, batch_var, batch_count: int) -> None:
        delta = batch_mean - self.mean
        total = self.count + batch_count
        self.mean = self.mean + delta * (batch_count / total)
        m2 = self.var * self.count + batch_var * batch_count + delta ** 2 * (self.count * batch_count / total)
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict:
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": np.float64(self.count)}

    def load_state_dict(self, state: dict) -> None:
        """Restore mean, var and count; all are checked (shapes, finite, var >= 0, count > 0) before any is set."""
        if not isinstance(state, dict) or not {"mean", "var", "count"} <= set(state):
            raise ValueError("normaliser statistics need 'mean', 'var' and 'count'")
        mean, var = np.asarray(state["mean"], np.float64), np.asarray(state["var"], np.float64)
        count = np.asarray(state["count"], np.float64)
        if mean.shape != self.mean.shape or var.shape != self.var.shape or count.shape != ():
            raise ValueError(f"normaliser statistics have shapes {mean.shape}, {var.shape}, {count.shape}; "
                             f"expected {self.mean.shape}, {self.var.shape}, ()")
        if not (np.isfinite(mean).all() and np.isfinite(var).all() and (var >= 0).all()):
            raise ValueError("normaliser mean / var must be finite and var >= 0")
        if not (np.isfinite(count) and count > 0):
            raise ValueError(f"normaliser count must be finite and > 0, got {float(count)}")
        self.mean, self.var, self.count = mean.copy(), var.copy(), float(count)


class ObsNormalizer:
    """VecNormalize-equivalent: obs -> clip((obs - mean) / sqrt(var + eps), +-clip_obs);
    reward -> clip(reward / sqrt(var(discounted return) + eps), +-clip_reward).

    obs_shape: the single-env observation shape; n_envs: number of sub-envs (for the return
    accumulator). `training=False` freezes the statistics (evaluation / after loading for eval).
    """

    def __init__(self, obs_shape: tuple, n_envs: int = 1, norm_obs: bool = True, norm_reward: bool = True,
                 clip_obs: float = 10.0, clip_reward: float = 10.0, gamma: float = 0.99, epsilon: float = 1e-8,
                 training: bool = True):
        self.obs_shape = tuple(obs_shape)
        self.norm_obs, self.norm_reward = bool(norm_obs), bool(norm_reward)
        self.clip_obs, self.clip_reward = float(clip_obs), float(clip_reward)
        self.gamma, self.epsilon = float(gamma), float(epsilon)
        self.training = bool(training)
        self.obs_rms = RunningMeanStd(self.obs_shape)
        self.ret_rms = RunningMeanStd(())
        self.returns = np.zeros(n_envs, np.float64)

    def config(self) -> dict:
        """JSON-able constructor arguments (for checkpoints)."""
        return {"norm_obs": self.norm_obs, "norm_reward": self.norm_reward, "clip_obs": self.clip_obs,
                "clip_reward": self.clip_reward, "gamma": self.gamma, "epsilon": self.epsilon}

    def set_n_envs(self, n_envs: int) -> None:
        if self.returns.shape[0] != n_envs:
            self.returns = np.zeros(n_envs, np.float64)

    def update_obs(self, obs: np.ndarray) -> None:
        """obs: (n_envs, *obs_shape); only while training."""
        if self.training and self.norm_obs:
            self.obs_rms.update(obs.reshape((-1,) + self.obs_shape))

    def normalize_obs(self, obs: np.ndarray) -> np.ndarray:
        """(..., *obs_shape) -> float32 normalised copy (unchanged copy when norm_obs is False)."""
        if not self.norm_obs:
            return np.asarray(obs, np.float32)
        out = (obs - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + self.epsilon)
        return np.clip(out, -self.clip_obs, self.clip_obs).astype(np.float32)

    def unnormalize_obs(self, obs: np.ndarray) -> np.ndarray:
        if not self.norm_obs:
            return np.asarray(obs)
        return (obs * np.sqrt(self.obs_rms.var + self.epsilon) + self.obs_rms.mean).astype(np.float32)

    def process_reward(self, reward: np.ndarray, dones: np.ndarray) -> np.ndarray:
        """Update the return statistics (when training) and normalise. reward, dones: (n_envs,)."""
        if not self.norm_reward:
            return np.asarray(reward, np.float32)
        if self.training:
            self.returns = self.returns * self.gamma + reward
            self.ret_rms.update(self.returns)
        out = self.normalize_reward(reward)
        self.returns[np.asarray(dones, bool)] = 0.0
        return out

    def normalize_reward(self, reward: np.ndarray) -> np.ndarray:
        if not self.norm_reward:
            return np.asarray(reward, np.float32)
        out = np.asarray(reward) / np.sqrt(self.ret_rms.var + self.epsilon)
        return np.clip(out, -self.clip_reward, self.clip_reward).astype(np.float32)

    def state_dict(self) -> dict:
        return {"obs_rms": self.obs_rms.state_dict(), "ret_rms": self.ret_rms.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        """Restore both statistics; each is checked into a fresh copy first, so a refused state changes nothing."""
        if not isinstance(state, dict) or not {"obs_rms", "ret_rms"} <= set(state):
            raise ValueError("normaliser state needs 'obs_rms' and 'ret_rms'")
        obs_rms, ret_rms = RunningMeanStd(self.obs_shape), RunningMeanStd(())
        obs_rms.load_state_dict(state["obs_rms"])
        ret_rms.load_state_dict(state["ret_rms"])
        self.obs_rms, self.ret_rms = obs_rms, ret_rms
