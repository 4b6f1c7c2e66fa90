"""Deep Deterministic Policy Gradient (Lillicrap et al. 2016), as SB3 defines it: TD3 with one
critic, no target policy smoothing and an actor update after every critic update.

    y = r + gamma (1 - d) Q'(s', mu'(s'));  critic loss mean_B (Q(s, a) - y)^2;  actor loss -mean_B Q(s, mu(s))
"""

from __future__ import annotations

from .td3 import TD3

__all__ = ["DDPG"]


class DDPG(TD3):
    """DDPG for Box action spaces; exploration via `action_noise` (NormalActionNoise or OU noise)."""

    algo_name = "DDPG"
    _hparam_names = TD3._hparam_names[:-3]

    def __init__(self, policy, env, learning_rate=1e-3, buffer_size: int = 1_000_000, learning_starts: int = 100,
                 batch_size: int = 256, tau: float = 0.005, gamma: float = 0.99, train_freq=1,
                 gradient_steps: int = 1, action_noise=None, replay_buffer_class=None,
                 replay_buffer_kwargs: dict | None = None, optimize_memory_usage: bool = False,
                 policy_kwargs: dict | None = None, _init_setup_model: bool = True, **kwargs):
        policy_kwargs = dict(policy_kwargs or {})
        policy_kwargs.setdefault("n_critics", 1)
        super().__init__(policy, env, learning_rate, buffer_size, learning_starts, batch_size, tau, gamma,
                         train_freq, gradient_steps, action_noise, replay_buffer_class, replay_buffer_kwargs,
                         optimize_memory_usage, policy_delay=1, target_policy_noise=0.0, target_noise_clip=0.0,
                         policy_kwargs=policy_kwargs, _init_setup_model=_init_setup_model, **kwargs)

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 4, tb_log_name: str = "DDPG",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps,
                             progress_bar)
