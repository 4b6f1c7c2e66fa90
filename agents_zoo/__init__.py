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
import re

ROOT = os.path.dirname(os.path.abspath(__file__))
_REQUIRED = ("algo", "env_id", "n_timesteps", "seed", "command", "mean_reward", "std_reward", "n_eval_episodes")


def env_folder(env_id):
    """Folder name for an env id ('corenn/ArmReach-v0' -> 'corenn-ArmReach-v0')."""
    return env_id.replace("/", "-")


def _is_real_dir(path):
    return os.path.isdir(path) and not os.path.islink(path)


def _index():
    """{(algo folder, env folder): agent folder} for every <algo>/<env>/metadata.json under ROOT.

    Symlinks are not followed (neither folders nor metadata.json), so the index never leaves the zoo.
    """
    index = {}
    for algo in sorted(os.listdir(ROOT)):
        algo_dir = os.path.join(ROOT, algo)
        if algo.startswith(("_", ".")) or not _is_real_dir(algo_dir):
            continue
        for env in sorted(os.listdir(algo_dir)):
            folder = os.path.join(algo_dir, env)
            meta_path = os.path.join(folder, "metadata.json")
            if _is_real_dir(folder) and os.path.isfile(meta_path) and not os.path.islink(meta_path):
                index[(algo, env)] = folder
    return index


def agent_dir(algo, env_id):
    """The folder of a zoo agent; KeyError naming the zoo's agents unless (algo, env_id) is one of them."""
    index = _index()
    key = (algo.lower(), env_folder(env_id)) if isinstance(algo, str) and isinstance(env_id, str) else None
    if key not in index:
        have = ", ".join(f"{a}/{e}" for a, e in index) or "none"
        raise KeyError(f"no zoo agent for algo {algo!r} on {env_id!r}; the zoo has: {have}")
    return index[key]


def new_agent_dir(algo, env_id):
    """The folder where `python -m agents_zoo build` stores a new agent (plain names only)."""
    names = (algo.lower(), env_folder(env_id))
    if not all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", n) for n in names):
        raise ValueError(f"cannot store a zoo agent named {algo!r} / {env_id!r}: use plain algo and env ids")
    return os.path.join(ROOT, *names)


def _read_metadata(folder):
    path = os.path.join(folder, "metadata.json")
    with open(path, encoding="utf-8") as f:
        meta = json.load(f)
    if not isinstance(meta, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return meta


def metadata(algo, env_id):
    """The metadata record of one zoo agent; KeyError naming what exists if it is absent."""
    folder = agent_dir(algo, env_id)
    meta = _read_metadata(folder)
    missing = [k for k in _REQUIRED if k not in meta]
    if missing:
        raise ValueError(f"{os.path.join(folder, 'metadata.json')} is missing the fields {missing}")
    return meta


def model_path(algo, env_id):
    """The checkpoint of a zoo agent: metadata's model_file, which must be a file inside the agent's folder."""
    folder = agent_dir(algo, env_id)
    name = metadata(algo, env_id).get("model_file", "model.npz")
    path = os.path.join(folder, name) if isinstance(name, str) else ""
    real_folder = os.path.realpath(folder)
    if (not isinstance(name, str) or os.path.basename(name) != name or name in ("", ".", "..")
            or os.path.dirname(os.path.realpath(path)) != real_folder or not os.path.isfile(path)):
        raise ValueError(f"{os.path.join(folder, 'metadata.json')}: model_file {name!r} is not a file "
                         "inside the agent's folder")
    return path


def list():
    """Metadata of every agent in the zoo, sorted by algorithm and env."""
    return [_read_metadata(folder) for folder in _index().values()]


def load(algo, env_id, env=None, **kwargs):
    """A ready agent: ``rl.ALGOS[algo].load`` on the zoo checkpoint (``env`` optional)."""
    import rl
    path = model_path(algo, env_id)
    if env_id.startswith("corenn/"):
        import envs  # noqa: F401  (registers our environments)
    algo_cls = rl.ALGOS.get(algo.lower())
    if algo_cls is None:
        raise KeyError(f"unknown algorithm {algo!r}; known: {sorted(rl.ALGOS)}")
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
