"""What resuming training needs beyond weights and counters, kept as arrays and JSON in the agent file.

`collect(model)` -> (arrays for data["resume"], JSON for meta["resume"]):
- arrays: the last observation and its (normalised) features, the episode-start flags, the recurrent
  policies' LSTM states of the training envs (RecurrentPPO: (4, n_lstm_layers, n_envs, H)), the
  normaliser's running discounted returns, Ornstein-Uhlenbeck noise state, the episode-statistics
  window (returns, lengths, successes);
- JSON: the predict RNG, the action-noise RNGs, training progress, DQN's exploration rate and
  step counter (`_n_calls`).

`check_arrays` checks declared shapes against the agent before anything is read; `restore` sets
them. The last observation (and the running returns) come back only with `force_reset=False` and
the same number of sub-envs: handing the same env object over then continues exactly where the
saved run stopped; a new env is reset, as in SB3.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from .checkpoint import CheckpointError
from .checkpoint_tensors import is_array

__all__ = ["collect", "check_arrays", "restore", "set_rng"]


def _noises(model) -> list:
    noise = getattr(model, "action_noise", None)
    if noise is None:
        return []
    return list(noise.noises) if hasattr(noise, "noises") else [noise]


def _pcg64(rng) -> dict | None:
    state = getattr(getattr(rng, "bit_generator", None), "state", None)
    return state if isinstance(state, dict) and state.get("bit_generator") == "PCG64" else None


def collect(model) -> tuple[dict, dict]:
    """(arrays, JSON) describing `model`'s run state (see the module docstring)."""
    arrays: dict = {}
    meta: dict = {"progress_remaining": float(model._current_progress_remaining)}
    if _pcg64(model._predict_rng) is not None:
        meta["predict_rng_state"] = _pcg64(model._predict_rng)
    if hasattr(model, "exploration_rate"):
        meta["exploration_rate"] = float(model.exploration_rate)
    if hasattr(model, "_n_calls"):
        meta["n_calls"] = int(model._n_calls)
    noises = _noises(model)
    states = [_pcg64(getattr(n, "_rng", None)) for n in noises]
    if noises and all(s is not None for s in states):
        meta["noise_rng_states"] = states
    prev = [getattr(n, "noise_prev", None) for n in noises]
    if noises and all(p is not None for p in prev):
        arrays["noise_prev"] = np.stack([np.asarray(p, np.float64) for p in prev])
    meta["has_last_obs"] = model._last_obs is not None
    if model._last_obs is not None:
        obs = model._last_obs
        arrays["last_obs"] = {k: np.array(v) for k, v in obs.items()} if isinstance(obs, dict) else np.array(obs)
        if not model.preprocessor.raw:  # raw observations are their own features (recomputed on restore)
            arrays["last_features"] = np.asarray(model._last_features, np.float32).copy()
        if model._last_episode_starts is not None:
            arrays["last_episode_starts"] = np.asarray(model._last_episode_starts, np.float32).copy()
        if getattr(model, "_last_lstm_states", None) is not None:
            arrays["last_lstm_states"] = model.lstm_states_array()
    if model.obs_normalizer is not None:
        arrays["normalizer_returns"] = np.asarray(model.obs_normalizer.returns, np.float64).copy()
    arrays["ep_info"] = np.array([[e["r"], e["l"]] for e in model.ep_info_buffer], np.float64).reshape(-1, 2)
    arrays["ep_success"] = np.array(list(model.ep_success_buffer), np.float64)
    return arrays, meta


def _obs_shapes(space: gym.Space) -> dict | tuple:
    if isinstance(space, gym.spaces.Dict):
        return {k: _obs_shapes(s) for k, s in space.spaces.items()}
    return tuple(space.shape)


def _got(value) -> str:
    return f"{np.dtype(value.dtype)} {tuple(value.shape)}" if is_array(value) else type(value).__name__


def _check(where: str, value, shape: tuple, kinds: str = "f") -> None:
    if not is_array(value) or tuple(value.shape) != tuple(shape) or np.dtype(value.dtype).kind not in kinds \
            or np.dtype(value.dtype).itemsize > 8:
        raise CheckpointError(f"tensor {where} is {_got(value)}; this agent expects shape {tuple(shape)}")


def _check_rows(where: str, value, max_rows: int, row: tuple) -> None:
    """(m, *row) float with m <= max_rows."""
    ok = is_array(value) and len(value.shape) == 1 + len(row) and value.shape[0] <= max_rows \
        and tuple(value.shape[1:]) == row and np.dtype(value.dtype).kind == "f" and np.dtype(value.dtype).itemsize <= 8
    if not ok:
        raise CheckpointError(f"tensor {where} is {_got(value)}; this agent expects shape "
                              f"(at most {max_rows}{''.join(f', {d}' for d in row)})")


def check_arrays(model, n_envs: int, saved) -> None:
    """Declared resume arrays must fit `model` saved with `n_envs` sub-envs."""
    where = "resume"
    allowed = {"last_obs", "last_features", "last_episode_starts", "normalizer_returns", "noise_prev", "ep_info",
               "ep_success", "last_lstm_states"}
    if not isinstance(saved, dict) or set(saved) - allowed:
        extra = sorted(map(str, set(saved) - allowed)) if isinstance(saved, dict) else saved
        raise CheckpointError(f"{where} has unexpected entries {str(extra)[:80]}")
    shapes = _obs_shapes(model.observation_space)
    if "last_obs" in saved:
        obs = saved["last_obs"]
        if isinstance(shapes, dict):
            if not isinstance(obs, dict) or set(obs) != set(shapes):
                raise CheckpointError(f"{where}/last_obs must hold the keys {sorted(shapes)}")
            for k, shape in shapes.items():
                _check(f"{where}/last_obs/{k}", obs[k], (n_envs, *shape), "biuf")
        else:
            _check(f"{where}/last_obs", obs, (n_envs, *shapes), "biuf")
    if "last_features" in saved:
        if model.preprocessor.raw:
            raise CheckpointError(f"{where}/last_features: this agent's policy reads raw observations and keeps no "
                                  "separate features")
        _check(f"{where}/last_features", saved["last_features"], (n_envs, model.preprocessor.features_dim))
    for name in ("last_episode_starts", "normalizer_returns"):
        if name in saved:
            _check(f"{where}/{name}", saved[name], (n_envs,))
    if "last_lstm_states" in saved:
        if not hasattr(model, "lstm_states_array"):
            raise CheckpointError(f"{where}/last_lstm_states: this agent has no recurrent policy")
        _check(f"{where}/last_lstm_states", saved["last_lstm_states"], (4, model.policy.n_lstm_layers, n_envs,
                                                                         model.policy.lstm_hidden_size))
    if "noise_prev" in saved:
        act_shape = tuple(getattr(model.action_space, "shape", ()) or ())
        _check_rows(f"{where}/noise_prev", saved["noise_prev"], n_envs, act_shape)
    window = model.ep_info_buffer.maxlen or 0
    if "ep_info" in saved:
        _check_rows(f"{where}/ep_info", saved["ep_info"], window, (2,))
    if "ep_success" in saved:
        _check_rows(f"{where}/ep_success", saved["ep_success"], window, ())


def set_rng(rng, state: dict, what: str) -> None:
    try:
        rng.bit_generator.state = state
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"checkpoint field {what}: not a valid RNG state ({e})") from e


def restore(model, arrays: dict, meta: dict, n_envs: int, force_reset: bool) -> None:
    """Set `model`'s run state from `collect`'s output (arrays already checked and read)."""
    if "predict_rng_state" in meta:
        set_rng(model._predict_rng, meta["predict_rng_state"], "resume.predict_rng_state")
    model._current_progress_remaining = float(meta.get("progress_remaining", model._current_progress_remaining))
    if "exploration_rate" in meta and hasattr(model, "exploration_rate"):
        model.exploration_rate = float(meta["exploration_rate"])
    if "n_calls" in meta and hasattr(model, "_n_calls"):
        model._n_calls = int(meta["n_calls"])
    noises = _noises(model)
    states = meta.get("noise_rng_states", [])
    if noises and len(states) == len(noises):
        for i, (noise, state) in enumerate(zip(noises, states)):
            if _pcg64(getattr(noise, "_rng", None)) is not None:
                set_rng(noise._rng, state, f"resume.noise_rng_states[{i}]")
    prev = arrays.get("noise_prev")
    if prev is not None and len(prev) == len(noises) and all(hasattr(n, "noise_prev") for n in noises):
        for noise, value in zip(noises, prev):
            noise.noise_prev = np.array(value, np.float64)
    if "ep_info" in arrays:
        model.ep_info_buffer.clear()
        model.ep_info_buffer.extend({"r": float(r), "l": int(n)} for r, n in arrays["ep_info"])
    if "ep_success" in arrays:
        model.ep_success_buffer.clear()
        model.ep_success_buffer.extend(float(s) for s in arrays["ep_success"])
    if force_reset or n_envs != model.n_envs:
        return
    if meta.get("has_last_obs") and "last_obs" in arrays and ("last_features" in arrays or model.preprocessor.raw):
        obs = arrays["last_obs"]
        model._last_obs = {k: np.array(v) for k, v in obs.items()} if isinstance(obs, dict) else np.array(obs)
        model._last_features = (model._features(model._last_obs) if model.preprocessor.raw
                                else np.array(arrays["last_features"], np.float32))
        starts = arrays.get("last_episode_starts")
        model._last_episode_starts = None if starts is None else np.array(starts, np.float32)
        if "last_lstm_states" in arrays and hasattr(model, "set_lstm_states_array"):
            model.set_lstm_states_array(arrays["last_lstm_states"])
    if model.obs_normalizer is not None and "normalizer_returns" in arrays:
        model.obs_normalizer.returns = np.array(arrays["normalizer_returns"], np.float64)
