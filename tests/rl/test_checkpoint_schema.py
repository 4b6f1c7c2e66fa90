"""Item 1 of the reliability report: checkpoint metadata is validated against a schema before anything is built.

Each case rewrites a saved agent's metadata as an attacker would (the checksum recomputed, since
anyone can), and loading must raise one CheckpointError that names the field. The helpers here
(`resign`, `declared_mb`, `set_path`) are shared with the other test_checkpoint_* files.
"""
import json
import math
import os

import gymnasium as gym
import numpy as np
import pytest

import corenn
from rl import DQN, PPO, SAC
from rl.core.checkpoint import CheckpointError, _digest
from tests.corenn.test_serialization_safety import peak_rss_growth_mb
from tests.rl.identity_envs import IdentityEnv, IdentityEnvBox

SMALL = dict(policy_kwargs=dict(net_arch=[8]))


# ----------------------------------------------------------------------------- shared helpers
def resign(src, dst, meta_fn=None, data_fn=None) -> str:
    """Rewrite an agent file: edit its metadata and/or arrays, then recompute the checksum."""
    obj = corenn.load(src)
    meta, data = json.loads(obj["metadata"]), obj["data"]
    if meta_fn is not None:
        meta = meta_fn(meta) or meta
    if data_fn is not None:
        data = data_fn(data) or data
    meta.pop("checksum", None)
    meta["checksum"] = _digest(meta, data)
    corenn.save({"metadata": json.dumps(meta, sort_keys=True), "data": data}, dst)
    return str(dst)


def declared_mb(path) -> float:
    """Bytes of all arrays the file's header declares, in MB (what the file says it holds)."""
    total = 0
    skeleton = {}
    corenn.load(path, check=lambda s: skeleton.update(s=s))
    stack = [skeleton["s"]]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)) and not hasattr(node, "dtype"):
            stack.extend(node)
        elif hasattr(node, "nbytes"):
            total += node.nbytes
    return total / 2**20


def set_path(tree, path: tuple, value):
    node = tree
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("schema")
    ppo = PPO("MlpPolicy", IdentityEnv(), n_steps=16, batch_size=16, n_epochs=1, seed=0, normalize=True, **SMALL)
    sac = SAC("MlpPolicy", IdentityEnvBox(), learning_starts=10, batch_size=8, buffer_size=100, seed=0, **SMALL)
    dqn = DQN("MlpPolicy", IdentityEnv(), learning_starts=10, batch_size=8, buffer_size=100, seed=0, **SMALL)
    return {"PPO": ppo.learn(32).save(root / "ppo"),
            "SAC": sac.learn(30).save(root / "sac", include_replay_buffer=True),
            "DQN": dqn.learn(30).save(root / "dqn", include_replay_buffer=True)}


ALGOS = {"PPO": PPO, "SAC": SAC, "DQN": DQN}
BIG = 10**12
NAN, INF = math.nan, math.inf

# (algo, path in the metadata, new value, text the error must contain)
CASES = [
    ("PPO", ("hyperparameters", "gamma"), 2.0, "hyperparameters.gamma: gamma must be in [0, 1], got 2.0"),
    ("PPO", ("hyperparameters", "gamma"), 1e308, "hyperparameters.gamma"),
    ("PPO", ("hyperparameters", "learning_rate"), NAN, "hyperparameters.learning_rate"),
    ("PPO", ("hyperparameters", "learning_rate"), {"schedule": "linear", "initial": INF}, "learning_rate"),
    ("PPO", ("hyperparameters", "n_steps"), BIG, "hyperparameters.n_steps"),
    ("PPO", ("hyperparameters", "n_steps"), "abc", "hyperparameters.n_steps"),
    ("PPO", ("hyperparameters", "batch_size"), 1.5, "hyperparameters.batch_size"),
    ("PPO", ("hyperparameters", "evil"), 1, "hyperparameters.evil"),
    ("PPO", ("policy_kwargs", "net_arch"), [BIG], "policy_kwargs.net_arch"),
    ("PPO", ("policy_kwargs", "net_arch"), {"pi": [64] * 100, "vf": [8]}, "policy_kwargs.net_arch.pi"),
    ("PPO", ("policy_kwargs", "net_arch"), [1024, 1024], "file holds"),  # legal widths, more than the file has
    ("PPO", ("policy_kwargs", "net_arch"), [4096, 4096], "more than 16777216 weights"),
    ("PPO", ("policy_kwargs", "net_arch"), "64", "policy_kwargs.net_arch"),
    ("PPO", ("policy_kwargs", "activation_fn"), "os.system", "policy_kwargs.activation_fn"),
    ("PPO", ("policy_kwargs", "optimizer_class"), "builtins.eval", "policy_kwargs.optimizer_class"),
    ("PPO", ("policy_kwargs", "optimizer_kwargs"), {"eps": -1.0}, "policy_kwargs.optimizer_kwargs.eps"),
    ("PPO", ("policy_kwargs", "optimizer_kwargs"), {"params": 1}, "policy_kwargs.optimizer_kwargs.params"),
    ("PPO", ("policy_kwargs", "features_extractor_class"), "os.system", "policy_kwargs.features_extractor_class"),
    ("PPO", ("policy_kwargs", "log_std_init"), NAN, "policy_kwargs.log_std_init"),
    ("PPO", ("observation_space", "n"), BIG, "observation_space.n"),
    ("PPO", ("observation_space", "type"), "Tuple", "observation_space.type"),
    ("PPO", ("observation_space",), "Box", "observation_space"),
    ("PPO", ("action_space", "n"), 0, "action_space.n"),
    ("PPO", ("n_envs",), 10**9, "n_envs"),
    ("PPO", ("num_timesteps",), -1, "num_timesteps"),
    ("PPO", ("num_timesteps",), "12", "num_timesteps"),
    ("PPO", ("seed",), "0", "seed"),
    ("PPO", ("verbose",), 99, "verbose"),
    ("PPO", ("rng_state", "bit_generator"), "MT19937", "rng_state.bit_generator"),
    ("PPO", ("rng_state", "state", "state"), -5, "rng_state.state.state"),
    ("PPO", ("normalize", "clip_obs"), -1.0, "normalize"),
    ("PPO", ("normalize", "evil"), 1, "normalize.evil"),
    ("PPO", ("evil",), 1, "metadata.evil"),
    ("PPO", ("policy",), "CnnLstmPolicy", "policy"),
    ("PPO", ("tensorboard_log",), 5, "tensorboard_log"),
    ("PPO", ("optimizer_state",), "yes", "optimizer_state"),
    ("PPO", ("resume", "progress_remaining"), NAN, "resume.progress_remaining"),
    ("PPO", ("format_version",), 99, "format_version"),
    ("SAC", ("hyperparameters", "replay_buffer_class"), "BaseAlgorithm", "hyperparameters.replay_buffer_class"),
    ("SAC", ("hyperparameters", "replay_buffer_class"), "os.system", "hyperparameters.replay_buffer_class"),
    ("SAC", ("hyperparameters", "replay_buffer_kwargs"), {"evil": 1}, "hyperparameters.replay_buffer_kwargs.evil"),
    ("SAC", ("hyperparameters", "buffer_size"), BIG, "hyperparameters.buffer_size"),
    ("SAC", ("hyperparameters", "batch_size"), BIG, "hyperparameters.batch_size"),
    ("SAC", ("hyperparameters", "ent_coef"), "auto_-1", "hyperparameters.ent_coef"),
    ("SAC", ("hyperparameters", "tau"), NAN, "hyperparameters.tau"),
    ("SAC", ("hyperparameters", "train_freq"), [0, "step"], "hyperparameters.train_freq"),
    ("SAC", ("hyperparameters", "action_noise"), {"type": "normal", "mean": [0, 0, 0], "sigma": [1, 1, 1]},
     "hyperparameters.action_noise.mean"),
    ("SAC", ("policy_kwargs", "n_critics"), 1000, "policy_kwargs.n_critics"),
    ("SAC", ("action_space", "low"), [-INF], "action_space.low"),
    ("SAC", ("observation_space", "low"), [NAN], "observation_space.low"),
    ("SAC", ("observation_space", "shape"), [10**6, 10**6], "observation_space.shape"),
    ("DQN", ("hyperparameters", "exploration_final_eps"), 5.0, "hyperparameters.exploration_final_eps"),
    ("DQN", ("hyperparameters", "target_update_interval"), 0, "hyperparameters.target_update_interval"),
    ("DQN", ("action_space", "type"), "Box", "action_space"),
    ("DQN", ("action_space",), {"type": "Box", "shape": [1], "dtype": "float32", "low": [0], "high": [1]},
     "action_space.type: DQN supports ['Discrete']"),
]


@pytest.mark.parametrize("algo, path, value, expected", CASES, ids=lambda v: None)
def test_tampered_metadata_names_the_field(files, tmp_path, algo, path, value, expected):
    bad = resign(files[algo], tmp_path / "bad.npz", meta_fn=lambda meta: set_path(meta, path, value))
    with pytest.raises(CheckpointError) as info:
        ALGOS[algo].load(bad)
    assert expected in str(info.value)


def test_every_shipped_field_is_known(files):
    """The schema accepts what save() writes today, for every family."""
    for algo, path in files.items():
        model = ALGOS[algo].load(path)
        assert model.num_timesteps > 0


def test_legal_but_large_buffer_size_touches_little_memory(files, tmp_path):
    path = resign(files["SAC"], tmp_path / "big.npz",
                  meta_fn=lambda meta: set_path(meta, ("hyperparameters", "buffer_size"), 10_000_000))
    with pytest.raises(CheckpointError, match="replay buffer has 100 slots"):  # the saved buffer no longer fits
        SAC.load(path)

    def drop_buffer(data):
        del data["replay_buffer"]

    path = resign(files["SAC"], tmp_path / "big2.npz", data_fn=drop_buffer,
                  meta_fn=lambda meta: set_path(meta, ("hyperparameters", "buffer_size"), 10_000_000))
    model, growth = peak_rss_growth_mb(lambda: SAC.load(path))
    assert model.replay_buffer.buffer_size == 10_000_000  # 10M rows of address space, allocated lazily
    assert growth < 64, f"loading touched {growth:.0f} MB"

    wide = SAC("MlpPolicy", WideEnv(), learning_starts=10, batch_size=8, buffer_size=100, seed=0, **SMALL)
    path = resign(wide.save(tmp_path / "wide"), tmp_path / "wide_big.npz",
                  meta_fn=lambda meta: set_path(meta, ("hyperparameters", "buffer_size"), 10_000_000))
    model, growth = peak_rss_growth_mb(lambda: SAC.load(path))  # 2 x 2.4 GiB of observations, untouched
    if isinstance(model, CheckpointError):  # a machine whose memory cannot even map them
        assert "not enough memory" in str(model)
    else:
        assert model.replay_buffer.observations.nbytes == 10_000_000 * 64 * 4
    assert growth < 64, f"loading touched {growth:.0f} MB"


class WideEnv(gym.Env):
    """64 observation values per step: a replay buffer of 10M rows maps 2.4 GiB per array."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (64,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(64, np.float32), {}

    def step(self, action):
        return np.zeros(64, np.float32), 0.0, False, False, {}


def test_rollout_rows_are_bounded(files, tmp_path):
    def many(meta):
        meta["hyperparameters"]["n_steps"], meta["n_envs"] = 1_000_000, 64

    with pytest.raises(CheckpointError, match=r"hyperparameters: n_steps \* n_envs must be <= 10,000,000"):
        PPO.load(resign(files["PPO"], tmp_path / "rows.npz", meta_fn=many))


def test_buffer_beyond_the_address_space_limit_is_refused(files, tmp_path):
    def wide(meta):
        meta["hyperparameters"]["buffer_size"] = 10_000_000
        meta["observation_space"].update(shape=[4096], low=[-1.0] * 4096, high=[1.0] * 4096)

    with pytest.raises(CheckpointError, match=r"hyperparameters.buffer_size: .* GiB; the limit"):
        SAC.load(resign(files["SAC"], tmp_path / "wide.npz", meta_fn=wide))


def test_unknown_replay_buffer_names_are_never_looked_up(files, tmp_path, monkeypatch):
    import rl

    called = []
    monkeypatch.setattr(rl, "Evil", lambda *a, **k: called.append(1), raising=False)
    bad = resign(files["SAC"], tmp_path / "evil.npz",
                 meta_fn=lambda meta: set_path(meta, ("hyperparameters", "replay_buffer_class"), "rl.Evil"))
    with pytest.raises(CheckpointError, match="replay_buffer_class"):
        SAC.load(bad)
    assert not called


def test_untouched_file_is_not_modified(files):
    before = os.path.getmtime(files["PPO"])
    PPO.load(files["PPO"])
    assert os.path.getmtime(files["PPO"]) == before
    assert np.isfinite(PPO.load(files["PPO"]).predict(np.array(0))[0])
