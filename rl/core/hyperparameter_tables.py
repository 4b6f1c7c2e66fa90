"""The hyperparameter tables that `rl.core.validation.check_hyperparameters` reads.

RULES: what each hyperparameter name accepts (a `Rule`); NESTED: rules for keys inside dict-valued ones;
OVERRIDES: per-algorithm rules that replace RULES' entry; MBPO_RULES: MBPO's own (also in RULES);
ALGORITHM_PARAMS: the names each algorithm's constructor takes. Data only: the checks live in validation.py,
which re-exports every public name here.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Rule", "RULES", "NESTED", "OVERRIDES", "MBPO_RULES", "ALGORITHM_PARAMS", "MAX_BUFFER_SIZE",
           "MAX_ROLLOUT", "MAX_BATCH_SIZE", "MAX_N_ENVS", "MAX_COUNT", "MAX_NET_WIDTH", "MAX_NET_DEPTH"]

MAX_BUFFER_SIZE = 10_000_000  # replay buffers allocate every row up front
MAX_ROLLOUT = 10_000_000  # n_steps * n_envs rows of the rollout buffer
MAX_BATCH_SIZE = 1_000_000
MAX_N_ENVS = 4096  # one env object (and its memory) per sub-env
MAX_COUNT = 10**12  # step and update counts (learning_starts, intervals)


class Rule(NamedTuple):
    """What one hyperparameter accepts.

    kind: int, float, bool, str, dict, path, schedule (a number, 'lin_X', a schedule's JSON or a
    callable; its initial value is range-checked), any, none, choice (one of `also`), or a special kind:
    train_freq, action_noise, ent_coef, target_entropy, replay_buffer_class, normalize, dataset (an
    offline dataset: an id or folder, or a loaded `rl.data` dataset), net_arch (a list of layer widths).
    low/high are inclusive unless open_low/open_high; `optional` accepts None; `also` lists other accepted values; `why`
    is added to the error.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    optional: bool = False
    also: tuple = ()
    why: str = ""


_PROB = Rule("float", 0, 1)
_POSITIVE = Rule("float", 0, open_low=True)
_NON_NEGATIVE = Rule("float", 0)
_BOOL = Rule("bool")

RULES: dict[str, Rule] = {
    # every algorithm (BaseAlgorithm's own arguments included)
    "learning_rate": Rule("schedule", 0, open_low=True),
    "gamma": _PROB,
    "seed": Rule("int", 0, optional=True),
    "verbose": Rule("int", 0, 2),
    "stats_window_size": Rule("int", 1, 1_000_000),
    "policy_kwargs": Rule("dict", optional=True), "normalize": Rule("normalize"),
    "tensorboard_log": Rule("path", optional=True), "device": Rule("str"),
    "n_envs": Rule("int", 1, MAX_N_ENVS, why="one env object per sub-env"),
    "blas_num_threads": Rule("int", 1, 1024, optional=True, also=("auto",)),
    "use_sde": _BOOL, "sde_sample_freq": Rule("int", -1, MAX_COUNT), "use_sde_at_warmup": _BOOL,
    # on-policy
    "n_steps": Rule("int", 1, 1_000_000, why="the rollout buffer holds n_steps x n_envs steps"),
    "batch_size": Rule("int", 1, MAX_BATCH_SIZE, why="a batch is held in memory at once"),
    "n_epochs": Rule("int", 1, 10_000),
    "gae_lambda": _PROB,
    "clip_range": Rule("schedule", 0, open_low=True),
    "clip_range_vf": Rule("schedule", 0, open_low=True, optional=True),
    "normalize_advantage": _BOOL,
    "ent_coef": _NON_NEGATIVE, "vf_coef": _NON_NEGATIVE,
    "max_grad_norm": _POSITIVE,
    "target_kl": Rule("float", 0, open_low=True, optional=True),
    "rollout_buffer_class": Rule("any"), "rollout_buffer_kwargs": Rule("any"),  # refused unless None
    "rms_prop_eps": _POSITIVE, "use_rms_prop": _BOOL,
    "use_baseline": _BOOL,
    # off-policy
    "buffer_size": Rule("int", 1, MAX_BUFFER_SIZE, why="the replay buffer allocates every row up front"),
    "learning_starts": Rule("int", 0, MAX_COUNT),
    "tau": _PROB,
    "train_freq": Rule("train_freq"),
    "gradient_steps": Rule("int", 1, 100_000, also=(-1,)),
    "action_noise": Rule("action_noise", optional=True),
    "replay_buffer_class": Rule("replay_buffer_class", optional=True),
    "replay_buffer_kwargs": Rule("dict", optional=True),
    "optimize_memory_usage": _BOOL,
    "target_update_interval": Rule("int", 1, MAX_COUNT),
    "exploration_fraction": _PROB, "exploration_initial_eps": _PROB, "exploration_final_eps": _PROB,
    "policy_delay": Rule("int", 1, 1_000_000),
    "target_policy_noise": _NON_NEGATIVE, "target_noise_clip": _NON_NEGATIVE,
    "target_entropy": Rule("target_entropy"),
    # tabular
    "theta": _POSITIVE,
    "max_iterations": Rule("int", 1, 1_000_000_000),
    # offline data and imitation (rl/bc, rl/cql, rl/gail)
    "dataset": Rule("dataset", optional=True), "demonstrations": Rule("dataset", optional=True),
    "loss": Rule("choice", also=("auto", "mse", "nll")),
    "policy_learning_rate": _POSITIVE,
    "n_action_samples": Rule("int", 1, 1000, why="each sampled action is one more critic pass per state"),
    "cql_alpha": _NON_NEGATIVE, "cql_temperature": _POSITIVE, "target_action_gap": Rule("float"),
    "importance_sampling": _BOOL, "lagrange": _BOOL, "backup_entropy": _BOOL,
    "bc_steps": Rule("int", 0, MAX_COUNT), "bc_warm_start": Rule("int", 0, MAX_COUNT),
    "demo_batch_size": Rule("int", 1, MAX_BATCH_SIZE, why="a batch is held in memory at once"),
    "n_disc_updates": Rule("int", 0, 10_000), "disc_learning_rate": _POSITIVE,
    "discriminator_net_arch": Rule("net_arch"),
    # HerReplayBuffer (replay_buffer_kwargs)
    "n_sampled_goal": Rule("int", 0, 1000), "copy_info_dict": _BOOL, "handle_timeout_termination": _BOOL,
}

# keys checked inside dict-valued hyperparameters (others are left to the class that takes them)
NESTED: dict[str, dict[str, Rule]] = {
    "replay_buffer_kwargs": {k: RULES[k] for k in ("n_sampled_goal", "copy_info_dict", "handle_timeout_termination")},
    "normalize": {"norm_obs": _BOOL, "norm_reward": _BOOL, "clip_obs": _POSITIVE, "clip_reward": _POSITIVE,
                  "gamma": _PROB, "epsilon": _POSITIVE},
}

OVERRIDES: dict[str, dict[str, Rule]] = {
    "OnPolicyAlgorithm": {"max_grad_norm": Rule("float", 0, optional=True)},  # each subclass sets its own rule
    "REINFORCE": {"max_grad_norm": Rule("float", 0, optional=True)},  # None or 0: no clipping
    "SAC": {"ent_coef": Rule("ent_coef")},
    "DQN": {"action_noise": Rule("none", why="DQN explores epsilon-greedily; action noise is for Box actions "
                                             "(DDPG, TD3, SAC)")},
    "QLearning": {"learning_rate": Rule("float", 0, 1, open_low=True)},
}
OVERRIDES["DoubleDQN"] = OVERRIDES["DQN"]
OVERRIDES["CQL"] = OVERRIDES["SAC"]
# MBPO (rl/model_based): SAC's rules plus the dynamics model's and the model rollouts'
MBPO_RULES: dict[str, Rule] = {
    "model_train_freq": Rule("int", 1, 10**9), "epoch_length": Rule("int", 1, 10**9),
    "rollouts_per_step": Rule("int", 1, 100_000), "rollout_schedule": Rule("any"),
    "num_sac_updates_per_step": Rule("int", 1, 100_000), "real_data_ratio": _PROB,
    "model_retain_epochs": Rule("int", 1, 1000), "ensemble_size": Rule("int", 1, 100),
    "num_elites": Rule("int", 1, 100), "dynamics_hidden_size": Rule("int", 1, 4096),
    "dynamics_num_layers": Rule("int", 1, 16), "learn_logvar_bounds": _BOOL,
    "model_learning_rate": _POSITIVE, "model_weight_decay": _NON_NEGATIVE,
    "model_batch_size": Rule("int", 1, MAX_BATCH_SIZE), "model_holdout_ratio": Rule("float", 0, 1, open_high=True),
    "model_patience": Rule("int", 1, 100_000), "model_max_epochs": Rule("int", 1, 10**6, optional=True),
    "termination_fn": Rule("str", optional=True),
}
RULES.update(MBPO_RULES)
OVERRIDES["MBPO"] = OVERRIDES["SAC"]

_BASE = ("learning_rate", "policy_kwargs", "stats_window_size", "tensorboard_log", "verbose", "seed", "device",
         "normalize", "n_envs", "blas_num_threads")
_SDE = ("use_sde", "sde_sample_freq")
_ON = _BASE + ("n_steps", "gamma", "ent_coef", "vf_coef", "max_grad_norm")
_ROLLOUT = _SDE + ("gae_lambda", "rollout_buffer_class", "rollout_buffer_kwargs")
_OFF = _BASE + ("buffer_size", "learning_starts", "batch_size", "tau", "gamma", "train_freq", "gradient_steps",
                "action_noise", "replay_buffer_class", "replay_buffer_kwargs", "optimize_memory_usage", "n_steps")
_DQN = _OFF + ("target_update_interval", "exploration_fraction", "exploration_initial_eps",
               "exploration_final_eps", "max_grad_norm")

ALGORITHM_PARAMS: dict[str, tuple] = {
    "BaseAlgorithm": _BASE + _SDE,
    "OnPolicyAlgorithm": _ON + _ROLLOUT,
    "OffPolicyAlgorithm": _OFF + _SDE + ("use_sde_at_warmup",),
    "PPO": _ON + _ROLLOUT + ("batch_size", "n_epochs", "clip_range", "clip_range_vf", "normalize_advantage",
                             "target_kl"),
    "A2C": _ON + _ROLLOUT + ("rms_prop_eps", "use_rms_prop", "normalize_advantage"),
    "REINFORCE": _ON + ("use_baseline", "normalize_advantage"),
    "DQN": _DQN,
    "DoubleDQN": _DQN,
    "DDPG": _OFF,
    "TD3": _OFF + ("policy_delay", "target_policy_noise", "target_noise_clip"),
    "SAC": _OFF + _SDE + ("use_sde_at_warmup", "ent_coef", "target_update_interval", "target_entropy"),
    "QLearning": ("learning_rate", "gamma", "exploration_initial_eps", "exploration_final_eps",
                  "exploration_fraction", "seed", "verbose"),
    "ValueIteration": ("gamma", "theta", "max_iterations"),
}
# offline and imitation learning. BC and CQL learn from `dataset`; GAIL is PPO with a discriminator's reward
_OFFLINE = ("learning_rate", "policy_kwargs", "stats_window_size", "tensorboard_log", "verbose", "seed", "device",
            "blas_num_threads", "dataset")
ALGORITHM_PARAMS["BC"] = _OFFLINE + ("batch_size", "loss")
ALGORITHM_PARAMS["CQL"] = _OFFLINE + ("normalize", "n_envs", "policy_learning_rate", "batch_size", "tau", "gamma",
                                      "ent_coef", "target_update_interval", "target_entropy", "n_action_samples",
                                      "cql_alpha", "cql_temperature", "importance_sampling", "lagrange",
                                      "target_action_gap", "backup_entropy", "bc_steps")
ALGORITHM_PARAMS["GAIL"] = ALGORITHM_PARAMS["PPO"] + ("demonstrations", "demo_batch_size", "n_disc_updates",
                                                      "disc_learning_rate", "discriminator_net_arch", "bc_warm_start")
ALGORITHM_PARAMS["MBPO"] = _BASE + ("buffer_size", "learning_starts", "batch_size", "tau", "gamma", "action_noise",
                                    "ent_coef", "target_update_interval", "target_entropy") + tuple(MBPO_RULES)
# sb3-contrib's RecurrentPPO: PPO's arguments without the custom rollout buffer ones
ALGORITHM_PARAMS["RecurrentPPO"] = tuple(p for p in ALGORITHM_PARAMS["PPO"]
                                         if p not in ("rollout_buffer_class", "rollout_buffer_kwargs"))
_CANONICAL = {name.lower(): name for name in ALGORITHM_PARAMS}
_ON_POLICY = ("OnPolicyAlgorithm", "PPO", "A2C", "REINFORCE", "RecurrentPPO", "GAIL")
MAX_NET_WIDTH, MAX_NET_DEPTH = 4096, 8
