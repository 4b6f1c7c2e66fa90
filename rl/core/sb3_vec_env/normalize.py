"""VecNormalize: SB3's running observation / return normalisation wrapper, saved as .npz + JSON.

Observations are normalised with running mean/var: clip((obs - mean) / sqrt(var + epsilon), -clip_obs,
clip_obs) as float32; rewards are divided by the running std of the discounted return and clipped to
[-clip_reward, clip_reward]. With `training=True` every step updates the statistics; set
`training=False` (and usually `norm_reward=False`) to evaluate. `save(path)` writes the statistics and
settings with `corenn.save` (a zip of .npy members and a JSON header, never pickle) to exactly `path`,
whatever its name ("vec_normalize.pkl" included); `VecNormalize.load(path, venv)` reads it back.

This is the wrapper of SB3 scripts; the agents' own `normalize=` option does the same maths inside the
agent and saves the statistics in the agent's checkpoint (`rl.core.normalization.ObsNormalizer`).
"""

from __future__ import annotations

import copy
import json
import os

import numpy as np
from gymnasium import spaces

import corenn

from ..normalization import RunningMeanStd
from ..preprocessing import is_image_space
from .base import VecEnvWrapper, copy_rms

__all__ = ["VecNormalize"]

FORMAT = "corenn-vec-normalize"


class VecNormalize(VecEnvWrapper):
    """Normalises a VecEnv's observations (Box, or the Box keys `norm_obs_keys` of a Dict) and rewards."""

    def __init__(self, venv, training: bool = True, norm_obs: bool = True, norm_reward: bool = True,
                 clip_obs: float = 10.0, clip_reward: float = 10.0, gamma: float = 0.99, epsilon: float = 1e-8,
                 norm_obs_keys: list[str] | None = None):
        super().__init__(venv)
        for name, value in (("clip_obs", clip_obs), ("clip_reward", clip_reward), ("epsilon", epsilon)):
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"VecNormalize: {name} must be a positive finite number, got {value!r}")
        if not 0.0 <= float(gamma) <= 1.0:
            raise ValueError(f"VecNormalize: gamma must be in [0, 1], got {gamma!r}")
        self.norm_obs, self.norm_reward, self.training = bool(norm_obs), bool(norm_reward), bool(training)
        self.clip_obs, self.clip_reward = float(clip_obs), float(clip_reward)
        self.gamma, self.epsilon = float(gamma), float(epsilon)
        self.norm_obs_keys = norm_obs_keys
        self.observation_space = copy.deepcopy(venv.observation_space)
        self.obs_rms = self._make_obs_rms() if self.norm_obs else None
        self.ret_rms = RunningMeanStd(shape=())
        self.returns = np.zeros(self.num_envs)
        self.old_obs = None
        self.old_reward = None

    def _make_obs_rms(self):
        space = self.observation_space
        if isinstance(space, spaces.Dict):
            if self.norm_obs_keys is None:
                self.norm_obs_keys = list(space.spaces)
            for key in self.norm_obs_keys:
                if key not in space.spaces:
                    raise ValueError(f"VecNormalize: norm_obs_keys names {key!r}, which is not a key of {space}")
                if not isinstance(space.spaces[key], spaces.Box):
                    raise ValueError(f"VecNormalize only normalises Box observations, but {key!r} is "
                                     f"{space.spaces[key]}; leave it out of norm_obs_keys")
            for key in self.norm_obs_keys:  # as SB3: only image bounds change (float32 in [-clip_obs, clip_obs])
                if is_image_space(space.spaces[key], check_channels=False):
                    space.spaces[key] = spaces.Box(-self.clip_obs, self.clip_obs, space.spaces[key].shape, np.float32)
            return {key: RunningMeanStd(shape=space.spaces[key].shape) for key in self.norm_obs_keys}
        if not isinstance(space, spaces.Box):
            raise ValueError(f"VecNormalize only normalises Box and Dict observation spaces, got {space}; "
                             f"use norm_obs=False to normalise rewards only")
        if self.norm_obs_keys is not None:
            raise ValueError("norm_obs_keys is only for Dict observation spaces")
        if is_image_space(space, check_channels=False):  # SB3 keeps other Box bounds (saved agents rely on them)
            self.observation_space = spaces.Box(-self.clip_obs, self.clip_obs, space.shape, np.float32)
        return RunningMeanStd(shape=space.shape)

    # ------------------------------------------------------------------ stepping
    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        self.old_obs, self.old_reward = obs, rewards
        if self.training and self.norm_obs:
            self._update_obs(obs)
        obs = self.normalize_obs(obs)
        if self.training:
            self.returns = self.returns * self.gamma + rewards
            self.ret_rms.update(self.returns)
        rewards = self.normalize_reward(rewards)
        for i in np.flatnonzero(dones):
            if "terminal_observation" in infos[i]:
                infos[i]["terminal_observation"] = self.normalize_obs(infos[i]["terminal_observation"])
        self.returns[np.asarray(dones, bool)] = 0.0
        return obs, rewards, dones, infos

    def reset(self):
        obs = self.venv.reset()
        self.old_obs = obs
        self.returns = np.zeros(self.num_envs)
        if self.training and self.norm_obs:
            self._update_obs(obs)
        return self.normalize_obs(obs)

    def _update_obs(self, obs) -> None:
        if isinstance(self.obs_rms, dict):
            for key, rms in self.obs_rms.items():
                rms.update(obs[key])
        else:
            self.obs_rms.update(obs)

    # ------------------------------------------------------------------ maths
    def _normalize(self, obs, rms: RunningMeanStd) -> np.ndarray:
        return np.clip((obs - rms.mean) / np.sqrt(rms.var + self.epsilon), -self.clip_obs, self.clip_obs)

    def _unnormalize(self, obs, rms: RunningMeanStd) -> np.ndarray:
        return obs * np.sqrt(rms.var + self.epsilon) + rms.mean

    def normalize_obs(self, obs):
        """Observations (batch or one) normalised with the current statistics (float32); not updated."""
        if not self.norm_obs:
            return copy.deepcopy(obs)
        if isinstance(self.obs_rms, dict):
            out = copy.deepcopy(obs)
            for key, rms in self.obs_rms.items():
                out[key] = self._normalize(np.asarray(obs[key]), rms).astype(np.float32)
            return out
        return self._normalize(np.asarray(obs), self.obs_rms).astype(np.float32)

    def unnormalize_obs(self, obs):
        if not self.norm_obs:
            return copy.deepcopy(obs)
        if isinstance(self.obs_rms, dict):
            out = copy.deepcopy(obs)
            for key, rms in self.obs_rms.items():
                out[key] = self._unnormalize(np.asarray(obs[key]), rms)
            return out
        return self._unnormalize(np.asarray(obs), self.obs_rms)

    def normalize_reward(self, reward: np.ndarray) -> np.ndarray:
        """reward / sqrt(var of the discounted return + epsilon), clipped; unchanged when norm_reward=False."""
        if self.norm_reward:
            dtype = np.asarray(reward).dtype
            reward = np.clip(reward / np.sqrt(self.ret_rms.var + self.epsilon), -self.clip_reward, self.clip_reward)
            reward = reward.astype(dtype if dtype.kind == "f" else np.float32)  # float32 stays float32
        return reward

    def unnormalize_reward(self, reward: np.ndarray) -> np.ndarray:
        return reward * np.sqrt(self.ret_rms.var + self.epsilon) if self.norm_reward else reward

    def get_original_obs(self):
        """The observations of the last reset/step before normalisation."""
        return copy.deepcopy(self.old_obs)

    def get_original_reward(self) -> np.ndarray:
        """The rewards of the last step before normalisation."""
        return None if self.old_reward is None else np.array(self.old_reward, copy=True)

    # ------------------------------------------------------------------ venv and files
    def set_venv(self, venv) -> None:
        """Wrap `venv` (same spaces and number of envs as the statistics were built for)."""
        if venv.num_envs != self.num_envs:
            raise ValueError(f"VecNormalize was built for {self.num_envs} envs, the new venv has {venv.num_envs}")
        if venv.action_space != self.action_space:
            raise ValueError(f"the new venv's action space {venv.action_space} differs from {self.action_space}")
        self.venv = venv
        self.returns = np.zeros(self.num_envs)

    def _settings(self) -> dict:
        return {"format": FORMAT, "version": 1, "training": self.training, "norm_obs": self.norm_obs,
                "norm_reward": self.norm_reward, "clip_obs": self.clip_obs, "clip_reward": self.clip_reward,
                "gamma": self.gamma, "epsilon": self.epsilon, "norm_obs_keys": self.norm_obs_keys}

    def save(self, save_path) -> None:
        """Write settings (JSON) and running statistics (arrays) to `save_path`, atomically, no pickle."""
        obs = None
        if self.obs_rms is not None:
            obs = ({k: rms.state_dict() for k, rms in self.obs_rms.items()} if isinstance(self.obs_rms, dict)
                   else self.obs_rms.state_dict())
        corenn.save({"settings": json.dumps(self._settings()), "obs_rms": obs,
                     "ret_rms": self.ret_rms.state_dict()}, os.fspath(save_path))

    @classmethod
    def load(cls, load_path, venv) -> VecNormalize:
        """A VecNormalize around `venv` with the settings and statistics saved by `save`."""
        data = corenn.load(os.fspath(load_path))
        try:
            settings = json.loads(data["settings"])
            if settings.get("format") != FORMAT:
                raise ValueError(f"not a VecNormalize statistics file (format {settings.get('format')!r})")
            kwargs = {k: settings[k] for k in ("training", "norm_obs", "norm_reward", "clip_obs", "clip_reward",
                                               "gamma", "epsilon", "norm_obs_keys")}
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{load_path}: not a VecNormalize statistics file ({exc})") from None
        out = cls(venv, **kwargs)
        if out.obs_rms is not None:
            if isinstance(out.obs_rms, dict):
                for key, rms in out.obs_rms.items():
                    rms.load_state_dict(data["obs_rms"][key])
            else:
                out.obs_rms.load_state_dict(data["obs_rms"])
        out.ret_rms.load_state_dict(data["ret_rms"])
        return out

    def copy_statistics_from(self, other: VecNormalize) -> None:
        """Take `other`'s running statistics (as sync_envs_normalization does)."""
        self.obs_rms, self.ret_rms = copy_rms(other.obs_rms), copy_rms(other.ret_rms)
