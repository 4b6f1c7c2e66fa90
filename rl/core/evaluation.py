"""evaluate_policy: run a trained agent for whole episodes and report the return.

The agent's `predict` applies its own observation normaliser, so the environment here is raw.
"""

from __future__ import annotations

import inspect

import gymnasium as gym
import numpy as np

from .sb3_vec_env.adapters import VecEnvAsGymVector
from .sb3_vec_env.base import is_sb3_vec_env
from .vec_env import register_project_envs

__all__ = ["evaluate_policy", "run_episodes", "as_vec_env"]


def as_vec_env(env, env_kwargs: dict | None = None) -> gym.vector.VectorEnv:
    """An env id, a gymnasium.Env, a Gymnasium vector env or an SB3 VecEnv -> a Gymnasium vector env
    (ids and Envs: 1 sub-env, same-step reset; SB3 VecEnvs: their same-step view)."""
    if is_sb3_vec_env(env):
        return VecEnvAsGymVector(env)
    if isinstance(env, gym.vector.VectorEnv):
        return env
    if isinstance(env, str):
        register_project_envs(env)
        env = gym.make(env, **(env_kwargs or {}))
    if not isinstance(env, gym.Env):
        raise TypeError(f"expected an env id, a gymnasium.Env or a gymnasium vector env, got {type(env).__name__}")
    return gym.vector.SyncVectorEnv([lambda: env], autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


def _episode_success(infos: dict, i: int, same_step: bool):
    """The 'is_success' flag of sub-env i's finished episode, or None if the env does not report one."""
    info = infos.get("final_info", {}) if same_step else infos
    if "is_success" in info and info.get("_is_success", np.ones(i + 1, bool))[i]:
        return bool(info["is_success"][i])
    return None


def run_episodes(model, env, n_eval_episodes: int = 10, deterministic: bool = True, render: bool = False,
                 callback=None):
    """Play `n_eval_episodes` episodes; returns (episode_rewards, episode_lengths, successes).

    Episodes are spread over the sub-envs as in SB3 (sub-env i plays (n + i) // n_envs of them),
    so short episodes are not over-represented. `successes` lists the info["is_success"] flags of
    episodes that reported one. `callback(locals_, globals_)` is called after every step.
    """
    if int(n_eval_episodes) <= 0:
        raise ValueError(f"n_eval_episodes must be positive, got {n_eval_episodes}")
    created = isinstance(env, str)  # close only what we made; a passed Env stays open
    env = as_vec_env(env)
    mode = env.metadata.get("autoreset_mode", gym.vector.AutoresetMode.NEXT_STEP)
    if mode == gym.vector.AutoresetMode.DISABLED:
        raise ValueError("evaluate_policy needs a vector env that resets itself (autoreset SAME_STEP or NEXT_STEP)")
    same_step = mode == gym.vector.AutoresetMode.SAME_STEP
    n_envs = env.num_envs
    targets = np.array([(int(n_eval_episodes) + i) // n_envs for i in range(n_envs)])
    counts = np.zeros(n_envs, dtype=int)
    current_rewards = np.zeros(n_envs)
    current_lengths = np.zeros(n_envs, dtype=int)
    skip = np.zeros(n_envs, dtype=bool)  # NEXT_STEP mode: the step after a done is a reset
    episode_rewards, episode_lengths, successes = [], [], []
    obs, _ = env.reset()
    states, episode_starts = None, np.ones(n_envs, dtype=bool)  # recurrent policies carry states (SB3)
    takes_state = "state" in inspect.signature(model.predict).parameters  # a bare predict(obs, deterministic) too
    try:
        while (counts < targets).any():
            if takes_state:
                actions, states = model.predict(obs, state=states, episode_start=episode_starts,
                                                deterministic=deterministic)
            else:
                actions, _ = model.predict(obs, deterministic=deterministic)
            obs, rewards, terminated, truncated, infos = env.step(actions)
            if render:
                env.render()  # SB3 VecEnvs render their tiled frames (render_mode "human" or "rgb_array")
            active = ~skip
            current_rewards += np.where(active, rewards, 0.0)
            current_lengths += active
            dones = (np.asarray(terminated) | np.asarray(truncated)) & active
            episode_starts = np.asarray(terminated) | np.asarray(truncated)
            for i in np.flatnonzero(dones):
                if counts[i] < targets[i]:
                    episode_rewards.append(float(current_rewards[i]))
                    episode_lengths.append(int(current_lengths[i]))
                    success = _episode_success(infos, i, same_step)
                    if success is not None:
                        successes.append(success)
                    counts[i] += 1
                current_rewards[i], current_lengths[i] = 0.0, 0
            skip = dones if not same_step else skip
            if callback is not None:
                callback(locals(), globals())
    finally:
        if created:
            env.close()
    return episode_rewards, episode_lengths, successes


def evaluate_policy(model, env, n_eval_episodes: int = 10, deterministic: bool = True, render: bool = False,
                    return_episode_rewards: bool = False, callback=None):
    """(mean_reward, std_reward) over `n_eval_episodes`, or (episode_rewards, episode_lengths) lists.

    env: an env id, a gymnasium.Env, a gymnasium vector env or an SB3 VecEnv (e.g. a VecNormalize with
    training=False, norm_reward=False, as SB3 users evaluate); `model.predict(obs, deterministic)`
    must accept a batch of observations (n_envs, *obs_shape).
    """
    rewards, lengths, _ = run_episodes(model, env, n_eval_episodes, deterministic, render, callback)
    if return_episode_rewards:
        return rewards, lengths
    return float(np.mean(rewards)), float(np.std(rewards))
