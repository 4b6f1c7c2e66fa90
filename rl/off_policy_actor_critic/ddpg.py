"""Deep Deterministic Policy Gradient (Lillicrap et al. 2016), as SB3 defines it: TD3 with one
critic, no target policy smoothing and an actor update after every critic update.

    y = r + gamma (1 - d) Q'(s', mu'(s'));  critic loss mean_B (Q(s, a) - y)^2;  actor loss -mean_B Q(s, mu(s))
"""

from __future__ import annotations

from ..core.off_policy_algorithm import OffPolicyAlgorithm
from ..core.validation import check_hyperparameters, constructor_args
from .td3 import TD3

__all__ = ["DDPG"]


class DDPG(TD3):
    """DDPG for Box action spaces; exploration via `action_noise` (NormalActionNoise or OU noise).
    policy_kwargs defaults to one critic (n_critics=1)."""

    algo_name = "DDPG"
    _hparam_names = OffPolicyAlgorithm._hparam_names  # TD3's without policy_delay and the target policy noise

    def __init__(self, policy, env, learning_rate=1e-3, buffer_size: int = 1_000_000, learning_starts: int = 100,
                 batch_size: int = 256, tau: float = 0.005, gamma: float = 0.99, train_freq=1,
                 gradient_steps: int = 1, action_noise=None, replay_buffer_class=None,
                 replay_buffer_kwargs: dict | None = None, optimize_memory_usage: bool = False, n_steps: int = 1,
                 stats_window_size: int = 100, tensorboard_log: str | None = None, policy_kwargs: dict | None = None,
                 verbose: int = 0, seed: int | None = None, device: str = "auto", normalize: bool | dict = False,
                 n_envs: int = 1, blas_num_threads: int | str | None = "auto", _init_setup_model: bool = True):
        check_hyperparameters("DDPG", constructor_args(locals()))
        policy_kwargs = dict(policy_kwargs or {})
        policy_kwargs.setdefault("n_critics", 1)
        super().__init__(policy, env, learning_rate=learning_rate, buffer_size=buffer_size,
                         learning_starts=learning_starts, batch_size=batch_size, tau=tau, gamma=gamma,
                         train_freq=train_freq, gradient_steps=gradient_steps, action_noise=action_noise,
                         replay_buffer_class=replay_buffer_class, replay_buffer_kwargs=replay_buffer_kwargs,
                         optimize_memory_usage=optimize_memory_usage, n_steps=n_steps, policy_delay=1,
                         target_policy_noise=0.0, target_noise_clip=0.0, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, policy_kwargs=policy_kwargs, verbose=verbose, seed=seed,
                         device=device, normalize=normalize, n_envs=n_envs, blas_num_threads=blas_num_threads,
                         _init_setup_model=_init_setup_model)

    def learn(self, total_timesteps: int, callback=None, log_interval: int = 4, tb_log_name: str = "DDPG",
              reset_num_timesteps: bool = True, progress_bar: bool = False):
        return super().learn(total_timesteps, callback, log_interval, tb_log_name, reset_num_timesteps,
                             progress_bar)
