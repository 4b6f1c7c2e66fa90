"""Agent checkpoints fuzzed with hypothesis: metadata values, array contents and raw bytes.

Every outcome either loads a valid agent (it predicts) or raises CheckpointError; nothing else is
raised, loading never grows the peak resident memory beyond a small multiple of what the file
declares, and a refused set_parameters leaves the agent exactly as it was.
"""
import copy
import json
import math
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import corenn
from rl import DQN, PPO, SAC
from rl.core.checkpoint import CheckpointError
from tests.corenn.test_serialization_safety import peak_rss_growth_mb
from tests.rl.identity_envs import IdentityEnv, IdentityEnvBox
from tests.rl.test_checkpoint_schema import declared_mb, resign, set_path
from tests.rl.test_checkpoint_tensors import _same, _snapshot

FUZZ = settings(max_examples=60, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SMALL = dict(policy_kwargs=dict(net_arch=[8]))
ALGOS = {"PPO": PPO, "SAC": SAC, "DQN": DQN}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    ppo = PPO("MlpPolicy", IdentityEnvBox(), n_steps=16, batch_size=16, n_epochs=1, seed=0, normalize=True, **SMALL)
    sac = SAC("MlpPolicy", IdentityEnvBox(), learning_starts=10, batch_size=8, buffer_size=64, seed=0, **SMALL)
    dqn = DQN("MlpPolicy", IdentityEnv(), learning_starts=10, batch_size=8, buffer_size=64, seed=0, **SMALL)
    return {"PPO": str(ppo.learn(32).save(root / "ppo")),
            "SAC": str(sac.learn(30).save(root / "sac", include_replay_buffer=True)),
            "DQN": str(dqn.learn(30).save(root / "dqn", include_replay_buffer=True))}


def _paths(tree, prefix=()):
    """Every path into a JSON-like tree (containers included, so whole sections get replaced too)."""
    out = [prefix] if prefix else []
    if isinstance(tree, dict):
        for k, v in tree.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out += _paths(v, prefix + (i,))
    return out


JSON = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=12),
    st.sampled_from([10**12, 2**63, 10**400, -(10**400), -1, 0, 1, 1e308, -1e308, math.nan, math.inf, "auto",
                     "auto_-1", "auto_1e400", "lin_0.001", "lin_nan",
                     "HerReplayBuffer", "rl.PPO", "os.system", "Box", "Dict", [], {}, [10**9], [0], [-1, 2]]),
    st.lists(st.integers(-3, 10**7), max_size=4),
    st.dictionaries(st.sampled_from(["type", "n", "shape", "schedule", "value", "pi", "x"]),
                    st.integers(-2, 10**6), max_size=3),
)


def check_outcome(algo: str, path: str) -> None:
    """Load `path`: a valid agent or a CheckpointError, within a bounded peak memory growth."""
    try:
        budget = 4 * declared_mb(path) + 64
    except corenn.CheckpointError:
        budget = 64
    result, growth = peak_rss_growth_mb(lambda: ALGOS[algo].load(path))
    if isinstance(result, Exception) and not isinstance(result, CheckpointError):
        raise result
    assert growth < budget, f"load grew the peak resident memory by {growth:.0f} MB (budget {budget:.0f} MB)"
    if not isinstance(result, Exception):
        obs = result.observation_space.sample()
        action, _ = result.predict(obs, deterministic=True)
        assert np.all(np.isfinite(np.asarray(action, np.float64)))


@FUZZ
@given(data=st.data())
def test_fuzzed_metadata_loads_or_raises_checkpoint_error(files, data):
    algo = data.draw(st.sampled_from(sorted(ALGOS)))
    meta = json.loads(corenn.load(files[algo])["metadata"])
    meta.pop("checksum")
    path = data.draw(st.sampled_from(_paths(meta)))
    value = data.draw(JSON)
    with tempfile.TemporaryDirectory() as tmp:
        out = resign(files[algo], f"{tmp}/f.npz", meta_fn=lambda m: set_path(m, path, value))
        check_outcome(algo, out)


def _array_paths(tree, prefix=()):
    if isinstance(tree, dict):
        return [p for k, v in tree.items() for p in _array_paths(v, prefix + (k,))]
    if isinstance(tree, list):
        return [p for i, v in enumerate(tree) for p in _array_paths(v, prefix + (i,))]
    return [prefix]


@FUZZ
@given(data=st.data())
def test_fuzzed_arrays_load_or_raise_checkpoint_error(files, data):
    algo = data.draw(st.sampled_from(sorted(ALGOS)))
    tree = corenn.load(files[algo])["data"]
    path = data.draw(st.sampled_from(_array_paths(tree)))
    old = np.asarray(_get(tree, path))
    same_shape = data.draw(st.booleans())
    shape = old.shape if same_shape else data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=5))
    dtype = data.draw(st.sampled_from([old.dtype, np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64),
                                       np.dtype(np.bool_)]))
    new = data.draw(hnp.arrays(dtype, shape))
    value = data.draw(st.sampled_from([new, None, new.tolist() if new.ndim else new.item(), "x"]))

    def edit(d):
        if value is None and data.draw(st.booleans()):
            node = d
            for key in path[:-1]:
                node = node[key]
            del node[path[-1]]
        else:
            set_path(d, path, value)

    with tempfile.TemporaryDirectory() as tmp:
        out = resign(files[algo], f"{tmp}/f.npz", data_fn=edit)
        check_outcome(algo, out)


def _get(tree, path):
    for key in path:
        tree = tree[key]
    return tree


@FUZZ
@given(data=st.data())
def test_fuzzed_bytes_load_or_raise_checkpoint_error(files, data):
    algo = data.draw(st.sampled_from(sorted(ALGOS)))
    raw = bytearray(open(files[algo], "rb").read())
    op = data.draw(st.sampled_from(["flip", "truncate", "overwrite", "splice"]))
    pos = data.draw(st.integers(0, len(raw) - 1))
    if op == "flip":
        for p in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=8)):
            raw[p] ^= data.draw(st.integers(1, 255))
    elif op == "truncate":
        raw = raw[:pos]
    elif op == "overwrite":
        chunk = data.draw(st.binary(min_size=1, max_size=64))
        raw[pos:pos + len(chunk)] = chunk
    else:
        end = data.draw(st.integers(pos, min(len(raw), pos + 4096)))
        raw[pos:pos] = raw[pos:end]
    with tempfile.TemporaryDirectory() as tmp:
        with open(f"{tmp}/f.npz", "wb") as fh:
            fh.write(bytes(raw))
        check_outcome(algo, f"{tmp}/f.npz")


@pytest.fixture(scope="module")
def live_model(files):
    model = SAC.load(files["SAC"])
    return model, copy.deepcopy(model.get_parameters())


@FUZZ
@given(data=st.data())
def test_fuzzed_set_parameters_is_all_or_nothing(live_model, data):
    live_model, original = live_model
    live_model.set_parameters(copy.deepcopy(original))  # every example starts from the same agent
    params = copy.deepcopy(original)
    path = data.draw(st.sampled_from(_paths(params)))
    new = data.draw(st.one_of(JSON, hnp.arrays(st.sampled_from([np.float32, np.float64]),
                                               hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))))
    set_path(params, path, new)
    before = _snapshot(live_model)
    try:
        live_model.set_parameters(params)
    except CheckpointError:
        assert _same(_snapshot(live_model), before), "a refused set_parameters changed the agent"
