"""Pretrained agents, trained through our own CLI by `python -m agents_zoo build` (agents_zoo.build).

    import agents_zoo
    model = agents_zoo.load("ppo", "CartPole-v1")
    agents_zoo.list()     # one metadata dict per agent
    print(agents_zoo.table())

`python -m rl enjoy/eval` fall back to these agents and `python -m rl zoo` prints the table:
agents_zoo declares itself an agent source of `rl` (agents_zoo.source, entry point group
"rl.agent_sources" in pyproject.toml).

Layout: ``agents_zoo/<algo>/<env folder>/model.npz`` (the normal agent checkpoint) and
``metadata.json`` (algorithm, env id, steps, seed, hyperparameters, the training command,
training time and the measured deterministic return).
"""
import json
import os

ROOT = os.path.dirname(os.path.abspath(__file__))
_REQUIRED = ("algo", "env_id", "n_timesteps", "seed", "command", "mean_reward", "std_reward", "n_eval_episodes")


def env_folder(env_id):
    """Folder name for an env id ('corenn/ArmReach-v0' -> 'corenn-ArmReach-v0')."""
    return env_id.replace("/", "-")


def agent_dir(algo, env_id):
    return os.path.join(ROOT, algo.lower(), env_folder(env_id))


def metadata(algo, env_id):
    """The metadata record of one zoo agent; KeyError naming what exists if it is absent."""
    path = os.path.join(agent_dir(algo, env_id), "metadata.json")
    if not os.path.exists(path):
        have = ", ".join(f"{m['algo']}/{m['env_id']}" for m in list()) or "none"
        raise KeyError(f"no zoo agent for algo {algo!r} on {env_id!r}; the zoo has: {have}")
    with open(path, encoding="utf-8") as f:
        meta = json.load(f)
    missing = [k for k in _REQUIRED if k not in meta]
    if missing:
        raise ValueError(f"{path} is missing the fields {missing}")
    return meta


def list():
    """Metadata of every agent in the zoo, sorted by algorithm and env."""
    entries = []
    for algo in sorted(os.listdir(ROOT)):
        algo_dir = os.path.join(ROOT, algo)
        if not os.path.isdir(algo_dir) or algo.startswith(("_", ".")):
            continue
        for env in sorted(os.listdir(algo_dir)):
            meta_path = os.path.join(algo_dir, env, "metadata.json")
            if os.path.exists(meta_path):
                with open(meta_path, encoding="utf-8") as f:
                    entries.append(json.load(f))
    return entries


def load(algo, env_id, env=None, **kwargs):
    """A ready agent: ``rl.ALGOS[algo].load`` on the zoo checkpoint (``env`` optional)."""
    import rl
    if env_id.startswith("corenn/"):
        import envs  # noqa: F401  (registers our environments)
    meta = metadata(algo, env_id)
    algo_cls = rl.ALGOS.get(algo.lower())
    if algo_cls is None:
        raise KeyError(f"unknown algorithm {algo!r}; known: {sorted(rl.ALGOS)}")
    path = os.path.join(agent_dir(algo, env_id), meta.get("model_file", "model.npz"))
    return algo_cls.load(path, env=env, **kwargs)


def table(entries=None):
    """Markdown table of the zoo (what ``python -m rl zoo`` and ``python -m agents_zoo list`` print)."""
    entries = list() if entries is None else entries
    if not entries:
        return "The agents zoo is empty."
    rows = ["| algo | env | mean return | std | eval episodes | training steps | training time | seed |",
            "|---|---|---|---|---|---|---|---|"]
    for m in entries:
        minutes = m.get("training_time_s")
        when = f"{minutes / 60:.1f} min" if minutes is not None else "-"
        rows.append(f"| {m['algo']} | {m['env_id']} | {m['mean_reward']:.2f} | {m['std_reward']:.2f} | "
                    f"{m['n_eval_episodes']} | {m['n_timesteps']:,} | {when} | {m['seed']} |")
    return "\n".join(rows)
