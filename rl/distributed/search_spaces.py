"""rl-zoo3's hyperparameter search spaces (rl_zoo3/hyperparams_opt.py) for PPO, A2C, DQN, SAC, TD3 and
DDPG, written as Optuna define-by-run samplers.

    hyperparams = SEARCH_SPACES["ppo"](trial)   # {"n_steps": 256, ..., "policy_kwargs": "dict(...)"}

Each sampler returns the values in the form of a hyperparameter YAML entry (policy_kwargs as the
string `dict(net_arch=..., activation_fn=nn.Tanh)`, TD3/DDPG's exploration noise as noise_type /
noise_std), so the same dict goes to `rl.hyperparams.resolve` for a trial and into the YAML file of
the best trial. The parameter names Optuna records are rl-zoo3's (one_minus_gamma, net_arch, ...),
so its studies read the same. Left out: SAC's log_std_init (it only acts with gSDE, which this
package does not implement) and HER's parameters.
"""

from __future__ import annotations

__all__ = ["SEARCH_SPACES", "sample_ppo", "sample_a2c", "sample_dqn", "sample_sac", "sample_td3", "sample_ddpg"]

ACTIVATIONS = {"tanh": "nn.Tanh", "relu": "nn.ReLU"}
ACTOR_CRITIC_ARCHS = {"tiny": "dict(pi=[64], vf=[64])", "small": "dict(pi=[64, 64], vf=[64, 64])",
                      "medium": "dict(pi=[256, 256], vf=[256, 256])"}
OFF_POLICY_ARCHS = {"small": "[64, 64]", "medium": "[256, 256]", "big": "[400, 300]"}
GAMMAS = [0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999]
TRAIN_FREQS = [1, 4, 8, 16, 32, 64, 128, 256, 512]
TAUS = [0.001, 0.005, 0.01, 0.02, 0.05, 0.08]


def _actor_critic_common(trial, archs: dict) -> dict:
    """What A2C and PPO share: rollout length, discount and GAE as 1 - x on a log scale, learning rate,
    entropy bonus, gradient clipping, network."""
    n_steps = trial.suggest_categorical("n_steps", [32, 64, 128, 256, 512, 1024, 2048])
    one_minus_gamma = trial.suggest_float("one_minus_gamma", 0.0001, 0.03, log=True)
    one_minus_gae_lambda = trial.suggest_float("one_minus_gae_lambda", 0.0001, 0.1, log=True)
    learning_rate = trial.suggest_float("learning_rate", 1e-5, 0.002, log=True)
    ent_coef = trial.suggest_float("ent_coef", 1e-8, 0.1, log=True)
    max_grad_norm = trial.suggest_float("max_grad_norm", 0.3, 2.0)
    arch = trial.suggest_categorical("net_arch", list(archs))
    activation = trial.suggest_categorical("activation_fn", list(ACTIVATIONS))
    return {"n_steps": n_steps, "gamma": 1.0 - one_minus_gamma, "gae_lambda": 1.0 - one_minus_gae_lambda,
            "learning_rate": learning_rate, "ent_coef": ent_coef, "max_grad_norm": max_grad_norm,
            "policy_kwargs": f"dict(net_arch={archs[arch]}, activation_fn={ACTIVATIONS[activation]})"}


def sample_ppo(trial) -> dict:
    """PPO: the actor-critic space plus minibatch size, clip range and epochs per rollout."""
    batch_size = trial.suggest_categorical("batch_size", [32, 64, 128, 256, 512])
    hyperparams = _actor_critic_common(trial, ACTOR_CRITIC_ARCHS)
    clip_range = trial.suggest_categorical("clip_range", [0.1, 0.2, 0.3, 0.4])
    n_epochs = trial.suggest_categorical("n_epochs", [1, 5, 10, 20])
    return {**hyperparams, "batch_size": batch_size, "clip_range": clip_range, "n_epochs": n_epochs}


def sample_a2c(trial) -> dict:
    """A2C: the actor-critic space with the small and medium networks."""
    return _actor_critic_common(trial, {k: ACTOR_CRITIC_ARCHS[k] for k in ("small", "medium")})


def sample_dqn(trial) -> dict:
    """DQN: discount, learning rate, replay, exploration schedule, target updates, update ratio."""
    gamma = trial.suggest_categorical("gamma", GAMMAS)
    learning_rate = trial.suggest_float("learning_rate", 1e-5, 1.0, log=True)
    batch_size = trial.suggest_categorical("batch_size", [16, 32, 64, 100, 128, 256, 512])
    buffer_size = trial.suggest_categorical("buffer_size", [10_000, 50_000, 100_000, 1_000_000])
    exploration_final_eps = trial.suggest_float("exploration_final_eps", 0.0, 0.2)
    exploration_fraction = trial.suggest_float("exploration_fraction", 0.0, 0.5)
    target_update_interval = trial.suggest_categorical("target_update_interval", [1, 1000, 5000, 10000, 15000, 20000])
    learning_starts = trial.suggest_categorical("learning_starts", [0, 1000, 5000, 10000, 20000])
    train_freq = trial.suggest_categorical("train_freq", [1, 4, 8, 16, 128, 256, 1000])
    subsample_steps = trial.suggest_categorical("subsample_steps", [1, 2, 4, 8])
    arch = trial.suggest_categorical("net_arch", ["tiny", "small", "medium"])
    net_arch = {"tiny": "[64]", "small": "[64, 64]", "medium": "[256, 256]"}[arch]
    return {"gamma": gamma, "learning_rate": learning_rate, "batch_size": batch_size, "buffer_size": buffer_size,
            "train_freq": train_freq, "gradient_steps": max(train_freq // subsample_steps, 1),
            "exploration_fraction": exploration_fraction, "exploration_final_eps": exploration_final_eps,
            "target_update_interval": target_update_interval, "learning_starts": learning_starts,
            "policy_kwargs": f"dict(net_arch={net_arch})"}


def _off_policy_common(trial, batch_sizes: list) -> dict:
    """What SAC, TD3 and DDPG share: discount, learning rate, replay, Polyak tau, one gradient step per
    environment step (train_freq = gradient_steps), network."""
    gamma = trial.suggest_categorical("gamma", GAMMAS)
    learning_rate = trial.suggest_float("learning_rate", 1e-5, 1.0, log=True)
    batch_size = trial.suggest_categorical("batch_size", batch_sizes)
    buffer_size = trial.suggest_categorical("buffer_size", [10_000, 100_000, 1_000_000])
    return {"gamma": gamma, "learning_rate": learning_rate, "batch_size": batch_size, "buffer_size": buffer_size}


def _train_freq_tau_arch(trial) -> dict:
    train_freq = trial.suggest_categorical("train_freq", TRAIN_FREQS)
    tau = trial.suggest_categorical("tau", TAUS)
    return {"train_freq": train_freq, "gradient_steps": train_freq, "tau": tau}


def sample_sac(trial) -> dict:
    """SAC: the off-policy space plus learning_starts; automatic entropy coefficient and target."""
    hyperparams = _off_policy_common(trial, [16, 32, 64, 128, 256, 512, 1024, 2048])
    learning_starts = trial.suggest_categorical("learning_starts", [0, 1000, 10000, 20000])
    hyperparams.update(_train_freq_tau_arch(trial))
    arch = trial.suggest_categorical("net_arch", list(OFF_POLICY_ARCHS))
    return {**hyperparams, "learning_starts": learning_starts, "ent_coef": "auto", "target_entropy": "auto",
            "policy_kwargs": f"dict(net_arch={OFF_POLICY_ARCHS[arch]})"}


def _deterministic_actor(trial) -> dict:
    """TD3 and DDPG: the off-policy space plus the exploration noise (Gaussian, Ornstein-Uhlenbeck or none)."""
    hyperparams = _off_policy_common(trial, [16, 32, 64, 100, 128, 256, 512, 1024, 2048])
    hyperparams.update(_train_freq_tau_arch(trial))
    noise_type = trial.suggest_categorical("noise_type", ["ornstein-uhlenbeck", "normal", None])
    noise_std = trial.suggest_float("noise_std", 0.0, 1.0)
    arch = trial.suggest_categorical("net_arch", list(OFF_POLICY_ARCHS))
    noise = {"noise_type": noise_type, "noise_std": noise_std} if noise_type is not None else {"noise_type": None}
    return {**hyperparams, **noise, "policy_kwargs": f"dict(net_arch={OFF_POLICY_ARCHS[arch]})"}


def sample_td3(trial) -> dict:
    return _deterministic_actor(trial)


def sample_ddpg(trial) -> dict:
    return _deterministic_actor(trial)


SEARCH_SPACES = {"ppo": sample_ppo, "a2c": sample_a2c, "dqn": sample_dqn, "sac": sample_sac, "td3": sample_td3,
                 "ddpg": sample_ddpg}
