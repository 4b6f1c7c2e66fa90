import inspect

import pytest

from rl.hyperparams import available_algos, check_schedule, load_hyperparams, parse_cli_value, parse_literal, read_yaml

ALGOS = ["a2c", "ddpg", "dqn", "ppo", "reinforce", "sac", "td3"]
TABULAR = ["qlearning", "value_iteration"]
MUJOCO = ["HalfCheetah", "Hopper", "Walker2d", "Ant", "InvertedPendulum", "InvertedDoublePendulum", "Reacher",
          "Swimmer", "Humanoid"]
SCHEDULED = ("learning_rate", "clip_range", "clip_range_vf")
KNOWN_CLI_KEYS = {"n_timesteps", "policy", "n_envs", "normalize", "policy_kwargs", "noise_type", "noise_std",
                  "replay_buffer_class", "replay_buffer_kwargs"}


def names_only(dotted):
    return f"<{dotted}>"


def all_entries(algos=ALGOS):
    for algo in algos:
        for env_id, hp in read_yaml(algo).items():
            yield algo, env_id, hp


def test_every_algo_has_a_file_with_default():
    assert set(ALGOS + TABULAR) <= set(available_algos())
    for algo in ALGOS + TABULAR:
        assert "default" in read_yaml(algo)


@pytest.mark.parametrize("algo,env_id,hp", list(all_entries()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_entry_parses(algo, env_id, hp):
    assert isinstance(hp, dict) and hp.get("policy") in ("MlpPolicy", "CnnPolicy", "MultiInputPolicy")
    assert float(hp["n_timesteps"]) >= 1000
    assert int(hp.get("n_envs", 1)) >= 1
    for key in ("policy_kwargs", "replay_buffer_kwargs"):
        if key in hp:
            assert isinstance(parse_literal(hp[key], resolve=names_only), dict)
    if isinstance(hp.get("normalize"), str):
        assert isinstance(parse_literal(hp["normalize"]), dict)
    for key in SCHEDULED:
        if key in hp:
            assert check_schedule(hp[key]) > 0
    if "noise_type" in hp:
        assert hp["noise_type"] in ("normal", "ornstein-uhlenbeck") and hp["noise_std"] > 0


@pytest.mark.parametrize("algo,env_id,hp", list(all_entries(TABULAR)), ids=lambda v: v if isinstance(v, str) else "")
def test_tabular_entries(algo, env_id, hp):
    from rl.tabular import QLearning, ValueIteration

    cls = {"qlearning": QLearning, "value_iteration": ValueIteration}[algo]
    params = inspect.signature(cls.__init__).parameters
    assert set(hp) - {"n_timesteps"} <= set(params)


def test_policy_kwargs_resolve_to_corenn_classes():
    import corenn

    for _algo, _env_id, hp in all_entries():
        if "policy_kwargs" in hp:
            kwargs = parse_literal(hp["policy_kwargs"])
            if "activation_fn" in kwargs:
                assert kwargs["activation_fn"] is corenn.nn.ReLU


def test_required_entries_mirror_rl_zoo3():
    ppo, _ = load_hyperparams("ppo", "CartPole-v1")
    assert ppo == dict(n_envs=8, n_timesteps=1e5, policy="MlpPolicy", n_steps=32, batch_size=256, gae_lambda=0.8,
                       gamma=0.98, n_epochs=20, ent_coef=0.0, learning_rate="lin_0.001", clip_range="lin_0.2")
    pend, _ = load_hyperparams("ppo", "Pendulum-v1")
    assert ((pend["n_envs"], pend["n_steps"], pend["gae_lambda"], pend["gamma"], pend["n_epochs"])
            == (4, 1024, 0.95, 0.9, 10))
    assert (pend["learning_rate"], pend["clip_range"], pend["ent_coef"]) == (1e-3, 0.2, 0.0)
    a2c, _ = load_hyperparams("a2c", "CartPole-v1")
    assert (a2c["n_envs"], a2c["ent_coef"]) == (8, 0.0)
    dqn, _ = load_hyperparams("dqn", "CartPole-v1")
    assert ((dqn["learning_rate"], dqn["train_freq"], dqn["gradient_steps"], dqn["target_update_interval"])
            == (2.3e-3, 256, 128, 10))
    for name in MUJOCO:
        env_id = f"{name}-v5"
        sac, entry = load_hyperparams("sac", env_id)
        assert entry == env_id
        if name != "InvertedPendulum":
            assert sac["learning_starts"] == 10000
        td3, _ = load_hyperparams("td3", env_id)
        assert ((td3["noise_type"], td3["noise_std"], td3["learning_rate"], td3["learning_starts"])
                == ("normal", 0.1, 1e-3, 10000))
        assert parse_literal(td3["policy_kwargs"], resolve=names_only) == {"net_arch": [400, 300]}
        for algo in ("ppo", "a2c", "ddpg"):
            assert load_hyperparams(algo, env_id)[1] == env_id
    for algo in ("sac", "td3", "ddpg"):
        her, _ = load_hyperparams(algo, "corenn/ArmReach-v0")
        assert her["replay_buffer_class"] == "HerReplayBuffer" and her["policy"] == "MultiInputPolicy"
        assert parse_literal(her["replay_buffer_kwargs"]) == {"goal_selection_strategy": "future", "n_sampled_goal": 4}
        assert ((her["gamma"], her["learning_rate"], her["learning_starts"], her["normalize"])
                == (0.95, 1e-3, 1000, True))
    assert load_hyperparams("ppo", "Acrobot-v1")[1] == "default"


def test_safe_parser_accepts_zoo_strings():
    text = """dict(
                    log_std_init=-2,
                    ortho_init=False,
                    activation_fn=nn.ReLU,
                    net_arch=dict(pi=[256, 256], vf=[256, 256])
                  )"""
    out = parse_literal(text, resolve=names_only)
    assert out == {"log_std_init": -2, "ortho_init": False, "activation_fn": "<nn.ReLU>",
                   "net_arch": {"pi": [256, 256], "vf": [256, 256]}}
    assert parse_literal("{'norm_obs': True, 'norm_reward': False}") == {"norm_obs": True, "norm_reward": False}
    assert parse_literal("(1, 'episode')") == (1, "episode")
    assert parse_literal("dict(optimizer_class=th.optim.RMSprop, optimizer_kwargs=dict(eps=1e-5))",
                         resolve=names_only)["optimizer_kwargs"] == {"eps": 1e-5}


@pytest.mark.parametrize("evil", [
    "__import__('os').system('echo hi')", "dict(a=open('x'))", "[x for x in range(3)]", "1 + 2",
    "dict(**{'a': 1})", "lambda: 0", "os.system", "dict(a=nn.ReLU())", "getattr(nn, 'ReLU')",
])
def test_safe_parser_rejects_code(evil):
    with pytest.raises(ValueError):
        parse_literal(evil)


def test_cli_values_and_schedules():
    assert parse_cli_value("64") == 64 and parse_cli_value("1e-3") == 1e-3
    assert parse_cli_value("[64, 64]") == [64, 64] and parse_cli_value("True") is True
    assert parse_cli_value("lin_0.001") == "lin_0.001" and parse_cli_value("auto") == "auto"
    assert parse_cli_value("dict(net_arch=[8])") == "dict(net_arch=[8])"  # read later, safely
    assert check_schedule("lin_0.001") == 0.001 and check_schedule(3e-4) == 3e-4
    for bad in ("lin_fast", "cosine_0.1", True):
        with pytest.raises(ValueError):
            check_schedule(bad)


def test_schedules_work_with_the_algorithms_reader():
    schedules = pytest.importorskip("rl.core.schedules")
    for _algo, _env_id, hp in all_entries():
        for key in SCHEDULED:
            if key in hp:
                fn = schedules.get_schedule_fn(hp[key])
                assert fn(1.0) == pytest.approx(check_schedule(hp[key]))
                if isinstance(hp[key], str) and hp[key].startswith("lin_"):
                    assert fn(0.0) == pytest.approx(0.0)


def test_keys_are_accepted_by_the_algorithms():
    """Each YAML key is a constructor argument of its algorithm, whose signature lists them all."""
    import rl
    from rl.hyperparams import accepted_kwargs

    for algo, env_id, hp in all_entries(ALGOS + TABULAR):
        accepted = accepted_kwargs(rl.ALGOS[algo])
        assert accepted is not None, f"{rl.ALGOS[algo].__name__}'s constructor takes **kwargs: list the arguments"
        allowed = accepted | {"n_timesteps", "policy", "n_envs", "noise_type", "noise_std"}
        assert set(hp) <= allowed, f"{algo} {env_id}: {sorted(set(hp) - allowed)}"


def test_preprocess_hyperparams():
    import gymnasium as gym
    import numpy as np

    import rl
    from rl.core.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
    from rl.hyperparams import HyperparameterError, preprocess_hyperparams

    box = gym.spaces.Box(-1.0, 1.0, (3,), dtype=np.float32)
    out = preprocess_hyperparams({"noise_type": "normal", "noise_std": 0.2, "train_freq": [1, "episode"],
                                  "normalize": "{'norm_obs': True, 'norm_reward': False}",
                                  "policy_kwargs": "dict(net_arch=[400, 300])"}, box)
    assert isinstance(out["action_noise"], NormalActionNoise) and out["action_noise"]._sigma.tolist() == [0.2] * 3
    assert out["train_freq"] == (1, "episode") and out["normalize"] == {"norm_obs": True, "norm_reward": False}
    assert out["policy_kwargs"] == {"net_arch": [400, 300]} and "noise_std" not in out
    ou = preprocess_hyperparams({"noise_type": "ornstein-uhlenbeck", "noise_std": 0.5}, box)["action_noise"]
    assert isinstance(ou, OrnsteinUhlenbeckActionNoise)
    with pytest.raises(HyperparameterError, match="Box"):
        preprocess_hyperparams({"noise_type": "normal"}, gym.spaces.Discrete(2))
    with pytest.raises(HyperparameterError, match="not supported"):
        preprocess_hyperparams({"use_sde": True}, box)
    her = preprocess_hyperparams({"replay_buffer_class": "HerReplayBuffer"})
    assert her["replay_buffer_class"] is rl.HerReplayBuffer
    with pytest.raises(HyperparameterError, match="NoSuchBuffer"):
        preprocess_hyperparams({"replay_buffer_class": "NoSuchBuffer"})


def test_resolve_reads_the_entry_once_with_overrides():
    from rl import PPO
    from rl.hyperparams import ResolvedHyperparams, resolve

    hp = resolve("ppo", "CartPole-v1", {"n_steps": 64, "n_envs": 2})
    assert isinstance(hp, ResolvedHyperparams) and hp.entry == "CartPole-v1"
    assert (hp.n_timesteps, hp.n_envs, hp.policy) == (100_000, 2, "MlpPolicy")
    assert hp.kwargs == dict(n_steps=64, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0,
                             learning_rate="lin_0.001", clip_range="lin_0.2")
    assert hp.config == dict(hp.kwargs, n_timesteps=100_000, n_envs=2, policy="MlpPolicy")
    # -params strings work too, and the explicit n_timesteps / n_envs (the CLI's -n, --n-envs) win
    hp = resolve("ppo", "CartPole-v1", ["n_timesteps:500", "n_envs:3"], n_timesteps=64, n_envs=1, algo_cls=PPO)
    assert (hp.n_timesteps, hp.n_envs) == (64, 1) and "n_timesteps" not in hp.kwargs and "n_envs" not in hp.kwargs


def test_resolve_builds_action_noise_and_policy_from_the_env_spaces():
    import gymnasium as gym
    import numpy as np

    import rl
    from rl.core.noise import NormalActionNoise
    from rl.hyperparams import resolve

    hp = resolve("td3", "Pendulum-v1")  # spaces from one gym.make
    assert isinstance(hp.kwargs["action_noise"], NormalActionNoise)
    assert hp.kwargs["policy_kwargs"] == {"net_arch": [400, 300]}
    assert hp.config["noise_type"] == "normal" and hp.config["policy_kwargs"] == "dict(net_arch=[400, 300])"
    box = gym.spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
    hp = resolve("td3", "NotAnEnv-v0", observation_space=box, action_space=box)  # given spaces: no gym.make
    assert hp.entry == "default" and hp.kwargs["action_noise"]._sigma.tolist() == [0.1, 0.1]
    goal_env = gym.spaces.Dict({"observation": box, "desired_goal": box, "achieved_goal": box})
    assert resolve("ppo", "NotAnEnv-v0", observation_space=goal_env).policy == "MultiInputPolicy"
    assert resolve("ppo", "NotAnEnv-v0", observation_space=box).policy == "MlpPolicy"
    her = resolve("sac", "corenn/ArmReach-v0")  # its own entry names MultiInputPolicy and HER
    assert her.policy == "MultiInputPolicy" and her.kwargs["replay_buffer_class"] is rl.HerReplayBuffer


def test_resolve_tabular_and_missing_files():
    from rl import DoubleDQN
    from rl.hyperparams import resolve

    hp = resolve("qlearning", "FrozenLake-v1", {"gamma": 0.9})
    assert (hp.n_timesteps, hp.n_envs, hp.policy) == (200_000, 1, None)
    assert hp.kwargs == {"learning_rate": 0.05, "gamma": 0.9} and hp.config == dict(hp.kwargs, n_timesteps=200_000)
    assert resolve("value_iteration", "Taxi-v4").policy is None
    hp = resolve("double_dqn", "CartPole-v1", {"learning_starts": 10}, algo_cls=DoubleDQN)
    assert hp.entry == "none" and hp.kwargs == {"learning_starts": 10} and hp.n_timesteps == 1_000_000


def test_resolve_rejects_what_the_algorithm_cannot_take():
    from rl.hyperparams import HyperparameterError, resolve

    with pytest.raises(HyperparameterError, match="SAC does not take bogus; it takes .*learning_rate"):
        resolve("sac", "Pendulum-v1", {"bogus": 1})
    with pytest.raises(HyperparameterError, match="QLearning does not take n_envs"):
        resolve("qlearning", "FrozenLake-v1", {"n_envs": 2})
    with pytest.raises(HyperparameterError, match="policy_kwargs"):
        resolve("ppo", "CartPole-v1", {"policy_kwargs": "dict(a=__import__('os'))"})
    with pytest.raises(HyperparameterError, match="unknown algorithm 'nope'"):
        resolve("nope", "CartPole-v1")
    with pytest.raises(HyperparameterError, match="key:value"):
        resolve("ppo", "CartPole-v1", ["n_steps"])


@pytest.mark.parametrize("overrides, message", [
    ({"n_timesteps": "abc"}, "n_timesteps must be a positive whole number, got 'abc'"),
    ({"n_timesteps": 0}, "n_timesteps must be a positive whole number, got 0"),
    ({"n_timesteps": 2.5}, "n_timesteps must be a positive whole number, got 2.5"),
    ({"n_envs": -2}, "n_envs must be a positive whole number, got -2"),
    ({"n_envs": True}, "n_envs must be a positive whole number, got True"),
    ({"policy": ["MlpPolicy"]}, "policy must be a policy name"),
])
def test_resolve_rejects_counts_and_policies_that_are_not(overrides, message):
    from rl.hyperparams import HyperparameterError, resolve

    with pytest.raises(HyperparameterError, match=message.replace("[", r"\[")):
        resolve("ppo", "CartPole-v1", overrides)
    hp = resolve("ppo", "CartPole-v1", {"n_timesteps": "1e3", "n_envs": 2.0})  # YAML-style counts still work
    assert (hp.n_timesteps, hp.n_envs) == (1000, 2)


def test_check_kwargs_reads_the_constructor_signature():
    from rl.hyperparams import HyperparameterError, accepted_kwargs, check_kwargs

    class Base:
        def __init__(self, policy, env, learning_rate=1e-3, _init_setup_model=True):
            pass

    class Explicit(Base):
        def __init__(self, policy, env, learning_rate=1e-3, n_steps=8):
            super().__init__(policy, env, learning_rate)

    assert accepted_kwargs(Explicit) == {"policy", "env", "learning_rate", "n_steps"}
    check_kwargs(Explicit, {"n_steps": 4})
    with pytest.raises(HyperparameterError, match="Explicit does not take gamma; it takes learning_rate, n_steps"):
        check_kwargs(Explicit, {"gamma": 0.9})

    class Forwarding(Base):  # **kwargs: anything goes, the constructor itself will complain
        def __init__(self, policy, env, n_steps=8, **kwargs):
            super().__init__(policy, env, **kwargs)

    assert accepted_kwargs(Forwarding) is None
    check_kwargs(Forwarding, {"gamma": 0.9})
