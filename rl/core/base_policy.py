"""SB3's `BasePolicy` surface, shared by ActorCriticPolicy, DQNPolicy, SACPolicy and TD3Policy.

    policy.predict(obs, state=None, episode_start=None, deterministic=False) -> (actions, state)
    policy.save(path)  /  PolicyClass.load(path)       .npz + JSON, never pickle (see below)
    policy.parameters_to_vector() -> (P,) float32       policy.load_from_vector(vector)
    policy.set_training_mode(mode)

`predict` takes raw observations as the env gives them (one or a batch of n; images channel-last or
channel-first; dicts for Dict spaces) and returns env-scale actions. It applies no observation
normalisation: as with SB3's VecNormalize, normalising is the env's (or the agent's) job.

A policy file is an agent-style checkpoint (`rl.core.checkpoint.save_agent`: atomic write, sha256
checksum, finite values) with `algo` "policy": metadata holds the policy class name, both spaces and the
constructor's `policy_kwargs` (`policy.config()`); data holds `policy` (the state dict). `load` validates
the metadata with the agents' rules, builds `cls(observation_space, action_space, lr_schedule,
**policy_kwargs)`, compares every declared tensor with it before reading any, then assigns. A custom
features extractor must be registered (`rl.core.feature_extractors.register_features_extractor`) to be
saved: the file names it, and loading looks the name up in the registry.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np

from corenn import nn

from .checkpoint import CheckpointError, load_agent, save_agent, space_from_json, space_to_json
from .checkpoint_fields import check_text, space
from .checkpoint_schema import _policy_kwargs as validate_policy_kwargs
from .checkpoint_tensors import check_module_state
from .preprocessing import predict_input

__all__ = ["BasePolicy", "POLICY_FILE_ALGO"]

POLICY_FILE_ALGO = "policy"


def _dummy_schedule(progress_remaining: float) -> float:
    """Learning rate of a loaded policy's optimizer (SB3 also rebuilds it with a placeholder rate)."""
    return 0.0


class BasePolicy(nn.Module):
    """nn.Module with SB3's policy methods. Subclasses set `observation_space`, `action_space`,
    `preprocessor` (an ObsPreprocessor) and implement `predict_actions(stored_obs, deterministic, rng)`
    and `config()`."""

    def predict_actions(self, obs, deterministic: bool = False, rng=None) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define predict_actions()")

    def config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must define config()")

    # ------------------------------------------------------------------ acting
    def predict(self, observation, state=None, episode_start=None, deterministic: bool = False):
        """Raw observation(s) -> (actions, state): actions (n, *action_shape) for a batch, one action for
        one observation; `state` is returned as given (no recurrent policies)."""
        obs = predict_input(observation, self.observation_space, f"{type(self).__name__}.predict")
        batched = self.preprocessor.is_batched(obs)
        stored = self.preprocessor(obs, batched=batched)
        if not hasattr(self, "_predict_rng"):
            self._predict_rng = np.random.default_rng()
        actions = self.predict_actions(stored, deterministic, self._predict_rng)
        return (actions if batched else actions[0]), state

    def set_training_mode(self, mode: bool) -> None:
        """Train / eval mode of every submodule (SB3's name for `train(mode)`)."""
        self.train(mode)

    # ------------------------------------------------------------------ flat parameter vector
    def parameters_to_vector(self) -> np.ndarray:
        """Every parameter (in `parameters()` order, target networks included) as one float32 vector (P,)."""
        params = list(self.parameters())
        if not params:
            return np.zeros(0, np.float32)
        return np.concatenate([p.data.reshape(-1) for p in params]).astype(np.float32, copy=False)

    def load_from_vector(self, vector) -> None:
        """Assign `vector` (P,) (what `parameters_to_vector` returns) to the parameters, in place."""
        vec = np.asarray(vector)
        params = list(self.parameters())
        total = sum(p.data.size for p in params)
        if vec.ndim != 1 or vec.shape[0] != total:
            raise ValueError(f"load_from_vector expects a vector of {total} values (this policy's parameters), "
                             f"got shape {vec.shape}")
        if vec.dtype.kind not in "fiu" or not np.all(np.isfinite(vec)):
            raise ValueError("load_from_vector expects finite real numbers")
        start = 0
        for p in params:
            n = p.data.size
            p.data[...] = vec[start:start + n].reshape(p.data.shape)
            start += n

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> str:
        """Write the policy (constructor config + weights) to `path` (".npz" appended when missing);
        returns the path written. An unregistered custom features extractor is a ValueError."""
        meta = {"algo": POLICY_FILE_ALGO, "policy": type(self).__name__,
                "observation_space": space_to_json(self.observation_space),
                "action_space": space_to_json(self.action_space), "policy_kwargs": self.config()}
        return save_agent(path, {"policy": self.state_dict()}, meta)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str = "auto"):
        """A `cls` policy from a file written by `save` (`device` is accepted; everything runs on the CPU).
        Every problem is a CheckpointError naming the field or tensor."""
        built = {}

        def prepare(meta: dict, skeleton) -> None:
            check_text("policy", meta.get("policy"), optional=False)
            if meta["policy"] != cls.__name__:
                raise CheckpointError(f"{path} holds a {meta['policy'][:80]} policy; load it with "
                                      f"{meta['policy'][:80]}.load(...), not {cls.__name__}.load(...)")
            space("observation_space", meta.get("observation_space"))
            space("action_space", meta.get("action_space"))
            validate_policy_kwargs({"policy": "policy", "policy_kwargs": meta.get("policy_kwargs")},
                                   SimpleNamespace(policy_aliases={"policy": cls}))
            try:
                policy = cls(space_from_json(meta["observation_space"]), space_from_json(meta["action_space"]),
                             _dummy_schedule, **(meta.get("policy_kwargs") or {}))
            except (ValueError, TypeError) as e:
                raise CheckpointError(f"{path}: cannot build {cls.__name__} from the saved settings ({e})") from e
            if not isinstance(skeleton, dict):
                raise CheckpointError(f"{path}: data must be a dict")
            check_module_state("policy", skeleton.get("policy"), policy.state_dict())
            built["policy"] = policy

        data, _ = load_agent(path, expected_algo=POLICY_FILE_ALGO, prepare=prepare)
        policy = built["policy"]
        policy.load_state_dict(data["policy"], strict=True)
        return policy
