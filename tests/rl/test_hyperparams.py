import inspect

import pytest

from rl.hyperparams import (available_algos, check_schedule, load_hyperparams, parse_cli_value, parse_literal,
                            read_yaml)

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
    assert isinstance(hp, dict) and hp.get("policy") in ("MlpPolicy", "MultiInputPolicy")
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

    for algo, env_id, hp in all_entries():
        if "policy_kwargs" in hp:
            kwargs = parse_literal(hp["policy_kwargs"])
            if "activation_fn" in kwargs:
                assert kwargs["activation_fn"] is corenn.nn.ReLU


def test_required_entries_mirror_rl_zoo3():
    ppo, _ = load_hyperparams("ppo", "CartPole-v1")
    assert ppo == dict(n_envs=8, n_timesteps=1e5, policy="MlpPolicy", n_steps=32, batch_size=256, gae_lambda=0.8,
                       gamma=0.98, n_epochs=20, ent_coef=0.0, learning_rate="lin_0.001", clip_range="lin_0.2")
    pend, _ = load_hyperparams("ppo", "Pendulum-v1")
    assert (pend["n_envs"], pend["n_steps"], pend["gae_lambda"], pend["gamma"], pend["n_epochs"]) == (4, 1024, 0.95, 0.9, 10)
    assert (pend["learning_rate"], pend["clip_range"], pend["ent_coef"]) == (1e-3, 0.2, 0.0)
    a2c, _ = load_hyperparams("a2c", "CartPole-v1")
    assert (a2c["n_envs"], a2c["ent_coef"]) == (8, 0.0)
    dqn, _ = load_hyperparams("dqn", "CartPole-v1")
    assert (dqn["learning_rate"], dqn["train_freq"], dqn["gradient_steps"], dqn["target_update_interval"]) == (2.3e-3, 256, 128, 10)
    for name in MUJOCO:
        env_id = f"{name}-v5"
        sac, entry = load_hyperparams("sac", env_id)
        assert entry == env_id
        if name != "InvertedPendulum":
            assert sac["learning_starts"] == 10000
        td3, _ = load_hyperparams("td3", env_id)
        assert (td3["noise_type"], td3["noise_std"], td3["learning_rate"], td3["learning_starts"]) == ("normal", 0.1, 1e-3, 10000)
        assert parse_literal(td3["policy_kwargs"], resolve=names_only) == {"net_arch": [400, 300]}
        for algo in ("ppo", "a2c", "ddpg"):
            assert load_hyperparams(algo, env_id)[1] == env_id
    for algo in ("sac", "td3", "ddpg"):
        her, _ = load_hyperparams(algo, "corenn/ArmReach-v0")
        assert her["replay_buffer_class"] == "HerReplayBuffer" and her["policy"] == "MultiInputPolicy"
        assert parse_literal(her["replay_buffer_kwargs"]) == {"goal_selection_strategy": "future", "n_sampled_goal": 4}
        assert (her["gamma"], her["learning_rate"], her["learning_starts"], her["normalize"]) == (0.95, 1e-3, 1000, True)
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
    for algo, env_id, hp in all_entries():
        for key in SCHEDULED:
            if key in hp:
                fn = schedules.get_schedule_fn(hp[key])
                assert fn(1.0) == pytest.approx(check_schedule(hp[key]))
                if isinstance(hp[key], str) and hp[key].startswith("lin_"):
                    assert fn(0.0) == pytest.approx(0.0)


def test_keys_are_accepted_by_the_algorithms():
    """Each YAML key is a constructor argument of the algorithm (checked for algorithms that exist)."""
    import rl
    from rl.hyperparams import accepted_kwargs

    algos = getattr(rl, "ALGOS", {})
    checked = 0
    for algo, env_id, hp in all_entries():
        accepted = accepted_kwargs(algos[algo]) if algo in algos else None
        if accepted is None:
            continue
        allowed = accepted | {"n_timesteps", "policy", "n_envs", "noise_type", "noise_std"}
        assert set(hp) <= allowed, f"{algo} {env_id}: {sorted(set(hp) - allowed)}"
        checked += 1
    if not checked:
        pytest.skip("no algorithm of the YAML files is registered in rl.ALGOS yet")
