"""Hyperparameter validation: one table of rules (rl.core.validation), checked by every constructor
and by `check_hyperparameters` on a checkpoint's saved (JSON) hyperparameters, and every YAML
entry in rl/hyperparams still constructs."""
import inspect
import json
import math
import re

import pytest

import rl
from rl.core.base_algorithm import BaseAlgorithm
from rl.core.noise import NormalActionNoise
from rl.core.off_policy_algorithm import OffPolicyAlgorithm
from rl.core.on_policy_algorithm import OnPolicyAlgorithm
from rl.core.schedules import linear_schedule
from rl.core.validation import ALGORITHM_PARAMS, NESTED, OVERRIDES, RULES, check_hyperparameters
from rl.core.vec_env import register_project_envs
from rl.hyperparams import read_yaml, resolve
from rl.tabular import QLearning, ValueIteration

NAN, INF = float("nan"), float("inf")
CLASSES = sorted(set(rl.ALGOS.values()), key=lambda cls: cls.__name__)
POLICY_ALGOS = [cls for cls in CLASSES if "policy" in inspect.signature(cls).parameters]
ENV = {"DDPG": "Pendulum-v1", "TD3": "Pendulum-v1", "SAC": "Pendulum-v1", "CQL": "Pendulum-v1",
       "MBPO": "corenn/PointMassLine-v0"}
NO_ENV_ARGS = ("BC",)  # offline without gamma, normalize or n_envs: COMMON_BAD's other cases still apply


def build(cls, **kwargs):
    """Construct without building the model (validation runs first thing in the constructor)."""
    if cls in (QLearning, ValueIteration):
        return cls("FrozenLake-v1", **kwargs)
    policy = "MlpPolicy" if "MlpPolicy" in cls.policy_aliases else next(iter(cls.policy_aliases))  # MlpLstmPolicy
    return cls(policy, ENV.get(cls.__name__, "CartPole-v1"), _init_setup_model=False, **kwargs)


@pytest.mark.parametrize("cls", CLASSES + [BaseAlgorithm, OnPolicyAlgorithm, OffPolicyAlgorithm],
                         ids=lambda cls: cls.__name__)
def test_the_table_lists_exactly_each_constructors_arguments(cls):
    params = set(inspect.signature(cls).parameters) - {"policy", "env", "_init_setup_model"}
    assert set(ALGORITHM_PARAMS[cls.__name__]) == params
    assert all(name in RULES for name in params)
    for algo, rules in OVERRIDES.items():
        assert set(rules) <= set(ALGORITHM_PARAMS[algo])
    assert set(NESTED) <= set(RULES)


COMMON_BAD = [  # (arguments, message) refused by every algorithm with a policy
    (dict(gamma=2.0), "gamma must be in [0, 1], got 2.0"),
    (dict(gamma=NAN), "gamma must be in [0, 1], got nan"),
    (dict(gamma="0.99"), "gamma must be in [0, 1], got str '0.99'"),
    (dict(learning_rate=INF), "learning_rate must be a finite number > 0"),
    (dict(learning_rate=0.0), "learning_rate must be a finite number > 0"),
    (dict(learning_rate="lin_-0.1"), "learning_rate must be a finite number > 0 (or a schedule such as 'lin_0.001' "
                                     "starting there), got a schedule starting at -0.1"),
    (dict(learning_rate="fast"), "cannot read schedule 'fast'"),
    (dict(learning_rate=lambda progress: -1.0), "got a schedule starting at -1.0"),
    (dict(n_envs=0), "n_envs must be an int in [1, 4096] (one env object per sub-env), got 0"),
    (dict(n_envs=2.5), "n_envs must be an int in [1, 4096]"),
    (dict(verbose=5), "verbose must be an int in [0, 2], got 5"),
    (dict(stats_window_size=0), "stats_window_size must be an int in [1, 1,000,000], got 0"),
    (dict(blas_num_threads=0), "blas_num_threads must be an int in [1, 1024], or 'auto', or None, got 0"),
    (dict(seed=-1), "seed must be an int >= 0, or None, got -1"),
    (dict(seed="7"), "seed must be an int >= 0, or None, got str '7'"),
    (dict(policy_kwargs=[64, 64]), "policy_kwargs must be a dict or None, got list [64, 64]"),
    (dict(normalize="yes"), "normalize must be a dict or a bool, got str 'yes'"),
    (dict(normalize=dict(clip_obs=-1.0)), "normalize['clip_obs'] must be a finite number > 0, got -1.0"),
]
SPECIFIC_BAD = {
    "PPO": [(dict(n_epochs=0), "n_epochs must be an int in [1, 10,000], got 0"),
            (dict(clip_range=-0.2), "clip_range must be a finite number > 0 (or a schedule such as 'lin_0.001' "
                                    "starting there), got -0.2"),
            (dict(clip_range_vf=0.0), "clip_range_vf must be a finite number > 0"),
            (dict(batch_size=1, normalize_advantage=True), "batch_size must be > 1 when normalize_advantage=True"),
            (dict(batch_size=64.5), "batch_size must be an int in [1, 1,000,000]"),
            (dict(n_steps="2048"), "n_steps must be an int in [1, 1,000,000] (the rollout buffer holds n_steps x "
                                   "n_envs steps), got str '2048'"),
            (dict(n_steps=1_000_000, n_envs=100), "n_steps * n_envs must be <= 10,000,000"),
            (dict(n_steps=1, n_envs=1, batch_size=2, normalize_advantage=True), "n_steps * n_envs must be > 1"),
            (dict(gae_lambda=1.5), "gae_lambda must be in [0, 1], got 1.5"),
            (dict(target_kl=0.0), "target_kl must be a finite number > 0, or None, got 0.0"),
            (dict(max_grad_norm=0.0), "max_grad_norm must be a finite number > 0, got 0.0"),
            (dict(ent_coef=-0.01), "ent_coef must be a finite number >= 0, got -0.01"),
            (dict(vf_coef=INF), "vf_coef must be a finite number >= 0, got inf"),
            (dict(normalize_advantage="yes"), "normalize_advantage must be True or False, got str 'yes'")],
    "A2C": [(dict(n_steps=0), "n_steps must be an int in [1, 1,000,000]"),
            (dict(rms_prop_eps=0.0), "rms_prop_eps must be a finite number > 0, got 0.0"),
            (dict(use_rms_prop=1), "use_rms_prop must be True or False, got int 1"),
            (dict(max_grad_norm=-1.0), "max_grad_norm must be a finite number > 0")],
    "REINFORCE": [(dict(max_grad_norm=-1.0), "max_grad_norm must be a finite number >= 0, or None, got -1.0"),
                  (dict(use_baseline=None), "use_baseline must be True or False, got NoneType None")],
    "DQN": [(dict(tau=5.0), "tau must be in [0, 1], got 5.0"),
            (dict(target_update_interval=0), "target_update_interval must be an int in [1, "),
            (dict(exploration_fraction=1.5), "exploration_fraction must be in [0, 1], got 1.5"),
            (dict(exploration_final_eps=-0.1), "exploration_final_eps must be in [0, 1], got -0.1"),
            (dict(exploration_initial_eps=NAN), "exploration_initial_eps must be in [0, 1], got nan"),
            (dict(gradient_steps=0), "gradient_steps must be an int in [1, 100,000], or -1, got 0"),
            (dict(learning_starts=-1), "learning_starts must be an int in [0, "),
            (dict(buffer_size=10**9), "buffer_size must be an int in [1, 10,000,000] (the replay buffer allocates "
                                      "every row up front), got 1,000,000,000"),
            (dict(batch_size=0), "batch_size must be an int in [1, 1,000,000]"),
            (dict(train_freq=0), "train_freq must be an int in [1, "),
            (dict(train_freq="4"), "train_freq must be an int or (n, 'step' | 'episode'), got str '4'"),
            (dict(max_grad_norm=INF), "max_grad_norm must be a finite number > 0, got inf")],
    "TD3": [(dict(policy_delay=0), "policy_delay must be an int in [1, 1,000,000], got 0"),
            (dict(target_policy_noise=-0.2), "target_policy_noise must be a finite number >= 0, got -0.2"),
            (dict(target_noise_clip=INF), "target_noise_clip must be a finite number >= 0, got inf"),
            (dict(tau=5.0), "tau must be in [0, 1], got 5.0"),
            (dict(train_freq=(1, "epoch")), "train_freq's unit must be 'step' or 'episode', got 'epoch'"),
            (dict(action_noise="normal"), "action_noise must be an ActionNoise"),
            (dict(action_noise={"type": "normal", "mean": [0.0], "sigma": [-0.1]}),
             "action_noise['sigma'] must be finite and >= 0, got [-0.1]")],
    "DDPG": [(dict(tau=-0.1), "tau must be in [0, 1], got -0.1"),
             (dict(learning_starts=1.5), "learning_starts must be an int")],
    "SAC": [(dict(gamma=2.0), "gamma must be in [0, 1], got 2.0"),
            (dict(tau=5.0), "tau must be in [0, 1], got 5.0"),
            (dict(ent_coef=-0.1), "ent_coef must be 'auto', 'auto_<initial value > 0>' or a finite number >= 0, "
                                  "got -0.1"),
            (dict(ent_coef="auto_0"), "ent_coef must be 'auto'"),
            (dict(ent_coef="automatic"), "ent_coef must be 'auto'"),
            (dict(target_entropy="high"), "target_entropy must be 'auto' or a finite number, got str 'high'"),
            (dict(target_update_interval=0), "target_update_interval must be an int in [1, "),
            (dict(replay_buffer_class="Nope"), "unknown replay_buffer_class 'Nope'"),
            (dict(replay_buffer_kwargs=dict(n_sampled_goal=-1)),
             "replay_buffer_kwargs['n_sampled_goal'] must be an int in [0, 1000], got -1")],
    "QLearning": [(dict(learning_rate=0.0), "learning_rate must be in (0, 1], got 0.0"),
                  (dict(learning_rate=2.0), "learning_rate must be in (0, 1], got 2.0"),
                  (dict(gamma=2.0), "gamma must be in [0, 1], got 2.0"),
                  (dict(exploration_fraction=INF), "exploration_fraction must be in [0, 1], got inf"),
                  (dict(seed=1.5), "seed must be an int >= 0, or None, got 1.5")],
    "ValueIteration": [(dict(gamma=-0.1), "gamma must be in [0, 1], got -0.1"),
                       (dict(theta=0.0), "theta must be a finite number > 0, got 0.0"),
                       (dict(max_iterations=0), "max_iterations must be an int in [1, 1,000,000,000], got 0")],
}
SPECIFIC_BAD["BC"] = [(dict(loss="huber"), "loss must be one of 'auto', 'mse', 'nll', got str 'huber'"),
                      (dict(batch_size=0), "batch_size must be an int in [1, 1,000,000]"),
                      (dict(learning_rate=0.0), "learning_rate must be a finite number > 0"),
                      (dict(dataset=42), "dataset must be a dataset id, a dataset folder")]
SPECIFIC_BAD["CQL"] = [(dict(n_action_samples=0), "n_action_samples must be an int in [1, 1000]"),
                       (dict(cql_alpha=-1.0), "cql_alpha must be a finite number >= 0, got -1.0"),
                       (dict(cql_temperature=0.0), "cql_temperature must be a finite number > 0, got 0.0"),
                       (dict(policy_learning_rate=INF), "policy_learning_rate must be a finite number > 0"),
                       (dict(lagrange="yes"), "lagrange must be True or False"),
                       (dict(lagrange=True, target_action_gap=-1.0), "target_action_gap, which must then be >= 0"),
                       (dict(bc_steps=-1), "bc_steps must be an int in [0, "),
                       (dict(ent_coef="auto_0"), "ent_coef must be 'auto'"),
                       (dict(dataset=42), "dataset must be a dataset id, a dataset folder")]
SPECIFIC_BAD["GAIL"] = SPECIFIC_BAD["PPO"] + [
    (dict(n_disc_updates=-1), "n_disc_updates must be an int in [0, 10,000], got -1"),
    (dict(demo_batch_size=0), "demo_batch_size must be an int in [1, 1,000,000]"),
    (dict(disc_learning_rate=0.0), "disc_learning_rate must be a finite number > 0, got 0.0"),
    (dict(discriminator_net_arch=[64, 0]), "discriminator_net_arch must be a list of 1 to 8 layer widths"),
    (dict(bc_warm_start=-5), "bc_warm_start must be an int in [0, "),
    (dict(demonstrations=3.5), "demonstrations must be a dataset id, a dataset folder")]
SPECIFIC_BAD["MBPO"] = [(dict(ensemble_size=0), "ensemble_size must be an int in [1, 100], got 0"),
                        (dict(real_data_ratio=1.5), "real_data_ratio must be in [0, 1], got 1.5"),
                        (dict(model_learning_rate=0.0), "model_learning_rate must be a finite number > 0, got 0.0"),
                        (dict(model_holdout_ratio=1.0), "model_holdout_ratio must be in [0, 1), got 1.0"),
                        (dict(learn_logvar_bounds="yes"), "learn_logvar_bounds must be True or False")]
SPECIFIC_BAD["DoubleDQN"] = SPECIFIC_BAD["DQN"]
SPECIFIC_BAD["RecurrentPPO"] = SPECIFIC_BAD["PPO"]
CASES = [(cls, kwargs, msg) for cls in POLICY_ALGOS for kwargs, msg in COMMON_BAD
         if cls.__name__ not in NO_ENV_ARGS or not {"gamma", "normalize", "n_envs"} & set(kwargs)] + [
    (cls, kwargs, msg) for cls in CLASSES for kwargs, msg in SPECIFIC_BAD[cls.__name__]]


@pytest.mark.parametrize("cls, kwargs, message", CASES,
                         ids=[f"{c.__name__}-{next(iter(k))}-{i}" for i, (c, k, _) in enumerate(CASES)])
def test_invalid_values_are_refused_naming_the_parameter_and_its_range(cls, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build(cls, **kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):  # what a checkpoint loader calls
        check_hyperparameters(cls.__name__, kwargs)


def test_the_five_cases_of_the_issue():
    for cls, kwargs, message in [(rl.PPO, dict(gamma=2.0), "gamma must be in [0, 1], got 2.0"),
                                 (rl.PPO, dict(n_epochs=0), "n_epochs must be an int in [1, 10,000], got 0"),
                                 (rl.PPO, dict(clip_range=-0.2), "clip_range must be a finite number > 0"),
                                 (rl.SAC, dict(gamma=2.0), "gamma must be in [0, 1], got 2.0"),
                                 (rl.SAC, dict(tau=5.0), "tau must be in [0, 1], got 5.0")]:
        with pytest.raises(ValueError, match=re.escape(message)):
            cls("MlpPolicy", ENV.get(cls.__name__, "CartPole-v1"), **kwargs)


def test_unknown_names_and_algorithms():
    with pytest.raises(ValueError, match="PPO does not take the hyperparameter 'tau'"):
        check_hyperparameters("PPO", dict(tau=0.5))
    with pytest.raises(ValueError, match="unknown algorithm 'XYZ'"):
        check_hyperparameters("XYZ", {})
    check_hyperparameters("double_dqn", {})  # registry names work too
    check_hyperparameters("qlearning", dict(learning_rate=0.5))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_defaults_are_valid(cls):
    defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items()
                if p.default is not inspect.Parameter.empty and not k.startswith("_") and k != "env"}
    check_hyperparameters(cls.__name__, defaults)


def test_accepted_forms():
    check_hyperparameters("PPO", dict(learning_rate=lambda p: 3e-4 * p, clip_range="lin_0.2", clip_range_vf=None,
                                      n_steps=1e3, seed=None, tensorboard_log=None, normalize=dict(gamma=0.9)))
    check_hyperparameters("PPO", dict(learning_rate=lambda p: 1 / 0))  # unreadable callables are left to training
    check_hyperparameters("SAC", dict(ent_coef="auto_0.1", target_entropy=-3, buffer_size=1e6, gradient_steps=-1,
                                      train_freq=(1, "episode"), action_noise=NormalActionNoise([0.0], [0.1]),
                                      replay_buffer_class="HerReplayBuffer",
                                      replay_buffer_kwargs=dict(n_sampled_goal=4, goal_selection_strategy="future")))


@pytest.mark.parametrize("cls", POLICY_ALGOS, ids=lambda cls: cls.__name__)
def test_saved_hyperparameters_pass_in_their_json_form(cls):
    kwargs = dict(learning_rate=linear_schedule(0.001))
    if cls.__name__ in ("DDPG", "TD3", "SAC"):
        kwargs["action_noise"] = NormalActionNoise([0.0], [0.1])
    if "train_freq" in inspect.signature(cls).parameters:
        kwargs["train_freq"] = (2, "step")
    model = build(cls, **kwargs)
    saved = json.loads(json.dumps(model._hyperparameters()))
    assert isinstance(saved["learning_rate"], dict)
    check_hyperparameters(model.algo_name, saved)
    check_hyperparameters(model.algo_name, dict(saved, learning_rate={"schedule": "constant", "value": 1e-3,
                                                                      "frozen_callable": True}))
    with pytest.raises(ValueError, match="learning_rate"):
        check_hyperparameters(model.algo_name, dict(saved, learning_rate={"schedule": "linear", "initial": -1.0}))


def _entries():
    for algo in ("a2c", "ddpg", "dqn", "ppo", "reinforce", "sac", "td3", "qlearning", "value_iteration", "ppo_lstm"):
        for env_id in read_yaml(algo):
            if env_id != "default":
                yield algo, env_id


@pytest.mark.parametrize("algo, env_id", list(_entries()))
def test_every_yaml_entry_passes_and_constructs(algo, env_id):
    cls = rl.ALGOS[algo]
    register_project_envs(env_id)
    hp = resolve(algo, env_id)
    if hp.policy is None:
        check_hyperparameters(cls.__name__, hp.kwargs)
        cls(env_id, **hp.kwargs)
        return
    check_hyperparameters(cls.__name__, dict(hp.kwargs, n_envs=hp.n_envs))
    model = cls(hp.policy, None, n_envs=hp.n_envs, _init_setup_model=False, **hp.kwargs)
    assert math.isfinite(model.lr_schedule(1.0)) and model.lr_schedule(1.0) > 0
