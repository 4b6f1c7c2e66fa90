"""Every zoo agent loads and still earns its recorded return (rl-zoo3's trained-agent check).

Tolerance: the mean over a few deterministic episodes must be at least
recorded_mean - max(2 * recorded_std, 10% of |recorded_mean|, 5).  MuJoCo agents run fewer
episodes in the fast suite; ``-m slow`` evaluates all of them over 10 episodes.
"""
import numpy as np
import pytest

import agents_zoo

ENTRIES = agents_zoo.list()
FAST_ENVS = ("CartPole-v1", "Pendulum-v1", "corenn/ArmReach-v0")


def tolerance(meta):
    return max(2.0 * meta["std_reward"], 0.1 * abs(meta["mean_reward"]), 5.0)


def check_agent(meta, episodes):
    from rl import evaluate_policy
    from rl.core.vec_env import make_vec_env
    model = agents_zoo.load(meta["algo"], meta["env_id"])
    assert model.num_timesteps == meta["n_timesteps"]
    env = make_vec_env(meta["env_id"], n_envs=1, seed=10_000 + meta["seed"])
    mean, _ = evaluate_policy(model, env, n_eval_episodes=episodes, deterministic=True)
    env.close()
    floor = meta["mean_reward"] - tolerance(meta)
    assert mean >= floor, (f"{meta['algo']} on {meta['env_id']}: mean return {mean:.2f} over {episodes} "
                           f"episodes is below {floor:.2f} (recorded {meta['mean_reward']:.2f})")


def test_zoo_metadata_is_complete():
    for meta in ENTRIES:
        for key in ("algo", "env_id", "n_timesteps", "seed", "command", "hyperparameters",
                    "mean_reward", "std_reward", "n_eval_episodes", "training_time_s"):
            assert key in meta, f"{meta.get('algo')}/{meta.get('env_id')} lacks {key}"
        assert meta["n_eval_episodes"] >= 10
        assert np.isfinite(meta["mean_reward"])


def test_zoo_files_are_compact_float32_and_small():
    """A few MB in all: no optimizer moments, no target networks, float32 weights."""
    import os

    from rl.core.checkpoint import load_agent

    total = 0
    for meta in ENTRIES:
        path = os.path.join(agents_zoo.agent_dir(meta["algo"], meta["env_id"]), "model.npz")
        total += os.path.getsize(path)
        data, file_meta = load_agent(path)
        assert file_meta["optimizer_state"] is False and file_meta.get("target_networks") is False, path
        assert not any(k.split(".")[0].endswith("_target") for k in data["params"]["policy"]), path
        assert all(v.dtype == np.float32 for v in data["params"]["policy"].values()), path
    assert total < 6e6, f"the zoo's model files take {total / 1e6:.1f} MB"


def test_unknown_agent_error_names_the_zoo():
    with pytest.raises(KeyError, match="no zoo agent"):
        agents_zoo.load("ppo", "NoSuchEnv-v0")


@pytest.mark.parametrize("meta", [m for m in ENTRIES if m["env_id"] in FAST_ENVS],
                         ids=lambda m: f"{m['algo']}-{m['env_id']}")
def test_fast_zoo_agents_reach_recorded_return(meta):
    check_agent(meta, episodes=3)


@pytest.mark.parametrize("meta", [m for m in ENTRIES if m["env_id"] not in FAST_ENVS],
                         ids=lambda m: f"{m['algo']}-{m['env_id']}")
def test_mujoco_zoo_agents_reach_recorded_return(meta):
    check_agent(meta, episodes=2)


@pytest.mark.slow
@pytest.mark.parametrize("meta", ENTRIES, ids=lambda m: f"{m['algo']}-{m['env_id']}")
def test_zoo_agents_full_evaluation(meta):
    check_agent(meta, episodes=10)


@pytest.mark.parametrize("algo, env_id, steps", [("ppo", "CartPole-v1", 600), ("sac", "HalfCheetah-v5", 1000)])
def test_enjoy_runs_a_zoo_agent_from_any_folder_without_a_display(tmp_path, algo, env_id, steps):
    """The README's `python -m rl enjoy` on a fresh install: no local runs, no window (CI, servers)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([sys.executable, "-m", "rl", "enjoy", "--algo", algo, "--env", env_id, "-n", str(steps)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "No display found" in done.stdout and "from the agents zoo" in done.stdout
    returns = [float(line.split("return=")[1].split()[0]) for line in done.stdout.splitlines() if "return=" in line]
    meta = next(m for m in ENTRIES if m["algo"] == algo and m["env_id"] == env_id)
    assert returns and returns[0] >= meta["mean_reward"] - tolerance(meta)
