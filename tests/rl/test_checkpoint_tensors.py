"""Items 2-4 of the reliability report, through the agent loader.

2. decompression bombs: every declared size is checked (zip directory, .npy header, JSON table, and
   the shapes the agent expects) before any array is read;
3. NaN / inf weights, optimizer states and normaliser statistics are refused at save and at load;
4. a refused set_parameters / load_replay_buffer / load_state_dict leaves the agent exactly as it was.
"""
import math
import os

import numpy as np
import pytest

import corenn
from rl import DQN, PPO, SAC, HerReplayBuffer, make_vec_env
from rl.core.checkpoint import CheckpointError, read_replay_buffer
from rl.core.normalization import ObsNormalizer
from tests.corenn.test_serialization_safety import GIB, bomb, peak_rss_growth_mb
from tests.rl.identity_envs import IdentityEnv, IdentityEnvBox
from tests.rl.test_checkpoint_schema import resign

SMALL = dict(policy_kwargs=dict(net_arch=[8]))
WEIGHT = "data.params.policy.mlp_extractor.policy_net.0.weight"  # (8, 1) in the fixture


@pytest.fixture(scope="module")
def ppo_file(tmp_path_factory):
    model = PPO("MlpPolicy", IdentityEnvBox(), n_steps=16, batch_size=16, n_epochs=1, seed=0, normalize=True, **SMALL)
    return model.learn(32).save(tmp_path_factory.mktemp("t") / "ppo")


@pytest.fixture(scope="module")
def sac_file(tmp_path_factory):
    model = SAC("MlpPolicy", IdentityEnvBox(), learning_starts=10, batch_size=8, buffer_size=100, seed=0, **SMALL)
    return model.learn(30).save(tmp_path_factory.mktemp("t") / "sac", include_replay_buffer=True)


def _snapshot(model) -> dict:
    """Deep copy of everything a load can change."""
    state = {"policy": model.policy.state_dict()}
    for key, opt in model._policy_optimizers().items():
        sd = opt.state_dict()
        state[key] = {i: {k: np.array(v) for k, v in entry.items()} for i, entry in sd["state"].items()}
        state[key + "/groups"] = [dict(g) for g in sd["param_groups"]]
    if model.obs_normalizer is not None:
        rms = model.obs_normalizer
        state["norm"] = [rms.obs_rms.mean.copy(), rms.obs_rms.var.copy(), rms.obs_rms.count, rms.ret_rms.var.copy()]
    buffer = getattr(model, "replay_buffer", None)
    if buffer is not None:
        obs = buffer.observations
        state["buffer"] = ({k: v.copy() for k, v in obs.items()} if isinstance(obs, dict) else obs.copy(),
                           buffer.rewards.copy(), buffer.pos, buffer.full)
    return state


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b


# ----------------------------------------------------------------------------- 2. bombs
@pytest.mark.parametrize("variant", ["table-small", "zip-large", "consistent"])
def test_weight_bomb_is_refused_before_reading(ppo_file, tmp_path, variant):
    """A ~1 MB file whose weight entry inflates to 1 GiB."""
    name = WEIGHT
    shape, table = {"table-small": ((16384, 16384), None), "zip-large": ((8, 1), None),
                    "consistent": ((16384, 16384), (16384, 16384))}[variant]
    path = bomb(ppo_file, tmp_path / "bomb.npz", name, shape, GIB, table_shape=table)
    assert os.path.getsize(path) < 1.2e6
    result, growth = peak_rss_growth_mb(lambda: PPO.load(path))
    assert isinstance(result, CheckpointError), result
    expected = {"table-small": "but the header says float32 and (8, 1)", "zip-large": "occupies 1073741",
                "consistent": "tensor params/policy/mlp_extractor.policy_net.0.weight is float32 (16384, 16384); "
                              "this agent expects float32 (8, 1)"}[variant]
    assert expected in str(result)
    assert growth < 48, f"refusing the bomb took {growth:.0f} MB"


def test_replay_buffer_bomb_is_refused_before_reading(sac_file, tmp_path):
    path = bomb(sac_file, tmp_path / "bomb.npz", "data.replay_buffer.observations", (2**28, 1, 1), GIB,
                table_shape=(2**28, 1, 1))
    result, growth = peak_rss_growth_mb(lambda: SAC.load(path))
    assert isinstance(result, CheckpointError), result
    assert "replay_buffer: saved replay buffer holds 268435456 slots; this one has 100" in str(result)
    assert growth < 48


# ----------------------------------------------------------------------------- 3. non-finite values
def _poison(path_in_data, value=math.nan):
    def fn(data):
        node = data
        for key in path_in_data[:-1]:
            node = node[key]
        arr = np.array(node[path_in_data[-1]], copy=True)
        arr.reshape(-1)[0] = value
        node[path_in_data[-1]] = arr
    return fn


@pytest.mark.parametrize("where, tensor", [
    (("params", "policy", "action_net.weight"), "params/policy/action_net.weight"),
    (("params", "policy.optimizer", "state", 0, "exp_avg"), "params/policy.optimizer/state/0/exp_avg"),
    (("normalizer", "obs_rms", "mean"), "normalizer/obs_rms/mean"),
    (("normalizer", "obs_rms", "var"), "normalizer/obs_rms/var"),
])
def test_non_finite_values_are_refused_at_load(ppo_file, tmp_path, where, tensor):
    bad = resign(ppo_file, tmp_path / "nan.npz", data_fn=_poison(where))
    with pytest.raises(CheckpointError, match=f"tensor {tensor} holds NaN or inf"):
        PPO.load(bad)


def test_non_finite_sac_and_buffer_values_are_refused_at_load(sac_file, tmp_path):
    bad = resign(sac_file, tmp_path / "a.npz", data_fn=_poison(("log_ent_coef",), math.inf))
    with pytest.raises(CheckpointError, match="tensor log_ent_coef holds NaN or inf"):
        SAC.load(bad)
    bad = resign(sac_file, tmp_path / "b.npz", data_fn=_poison(("replay_buffer", "rewards")))
    with pytest.raises(CheckpointError, match="tensor replay_buffer/rewards holds NaN or inf"):
        SAC.load(bad)

    def lr_nan(data):
        data["params"]["actor.optimizer"]["param_groups"][0]["lr"] = math.nan

    with pytest.raises(CheckpointError, match="actor.optimizer/param_groups/0/lr"):
        SAC.load(resign(sac_file, tmp_path / "c.npz", data_fn=lr_nan))


@pytest.mark.parametrize("part", ["weight", "optimizer", "normalizer"])
def test_non_finite_values_are_refused_at_save(tmp_path, part):
    model = PPO("MlpPolicy", IdentityEnvBox(), n_steps=16, batch_size=16, n_epochs=1, seed=0, normalize=True, **SMALL)
    model.learn(16)
    path = model.save(tmp_path / "agent")
    before = open(path, "rb").read()
    if part == "weight":
        model.policy.action_net.weight.data[0, 0] = math.nan
        tensor = "params/policy/action_net.weight"
    elif part == "optimizer":
        next(iter(model.policy.optimizer.state.values()))["exp_avg_sq"][...] = math.inf
        tensor = "params/policy.optimizer/state/0/exp_avg_sq"
    else:
        model.obs_normalizer.obs_rms.var[0] = math.nan
        tensor = "normalizer/obs_rms/var"
    with pytest.raises(CheckpointError, match=f"cannot save .*agent.npz: tensor {tensor} holds NaN or inf"):
        model.save(tmp_path / "agent")
    assert open(path, "rb").read() == before  # the previous file is intact
    assert os.listdir(tmp_path) == ["agent.npz"]


# ----------------------------------------------------------------------------- 4. half-done loads
def test_set_parameters_with_one_bad_tensor_changes_nothing(ppo_file):
    model = PPO.load(ppo_file)
    params = model.get_parameters()
    good = {k: v + 1.0 for k, v in params["policy"].items()}
    before = _snapshot(model)
    last = list(good)[-1]
    cases = {"shape": np.zeros((3, 3), np.float32), "nan": np.full_like(good[last], math.nan),
             "dtype": good[last].astype(np.float64)}
    for what, value in cases.items():
        bad = dict(params, policy=dict(good, **{last: value}))
        with pytest.raises(CheckpointError, match=f"{last}"):
            model.set_parameters(bad)
        assert _same(_snapshot(model), before), what
    opt = params["policy.optimizer"]
    bad_opt = {"state": {**opt["state"], 1: {**opt["state"][1], "exp_avg": np.zeros(7, np.float32)}},
               "param_groups": opt["param_groups"]}
    with pytest.raises(CheckpointError, match="policy.optimizer/state/1/exp_avg"):
        model.set_parameters(dict(params, policy=good, **{"policy.optimizer": bad_opt}))
    assert _same(_snapshot(model), before)
    model.set_parameters(dict(params, policy=good))  # the good part alone loads
    np.testing.assert_array_equal(model.policy.state_dict()[last], good[last])


def test_set_parameters_from_a_bad_file_changes_nothing(ppo_file, tmp_path):
    model = PPO.load(ppo_file)
    before = _snapshot(model)
    bad = resign(ppo_file, tmp_path / "bad.npz", data_fn=_poison(("params", "policy", "value_net.bias")))
    with pytest.raises(CheckpointError, match="value_net.bias holds NaN"):
        model.set_parameters(bad)
    assert _same(_snapshot(model), before)


@pytest.mark.parametrize("break_it", ["rewards-shape", "actions-range", "pos", "nan", "missing"])
def test_load_replay_buffer_refusal_changes_nothing(tmp_path, break_it):
    source = DQN("MlpPolicy", IdentityEnv(), learning_starts=10, batch_size=8, buffer_size=100, seed=0, **SMALL)
    source.learn(40)
    path = source.save_replay_buffer(tmp_path / "buffer")
    target = DQN("MlpPolicy", IdentityEnv(), learning_starts=10, batch_size=8, buffer_size=100, seed=1, **SMALL)
    target.learn(20)
    obj = corenn.load(path)
    state = obj["state"]
    if break_it == "rewards-shape":
        state["rewards"] = state["rewards"][:-1]
    elif break_it == "actions-range":
        state["actions"][-1] = 7.0  # IdentityEnv has 4 actions
    elif break_it == "pos":
        state["pos"] = np.array(3, np.int64)
    elif break_it == "nan":
        state["dones"][-1] = math.nan
    else:
        del state["dones"]
    corenn.save(obj, path)
    before = _snapshot(target)
    with pytest.raises(ValueError):
        target.load_replay_buffer(path)
    assert _same(_snapshot(target), before)


def test_her_buffer_refusal_changes_nothing():
    import envs  # noqa: F401  (corenn/BitFlipping-v0)

    model = DQN("MultiInputPolicy", make_vec_env("corenn/BitFlipping-v0", seed=0), replay_buffer_class=HerReplayBuffer,
                learning_starts=30, batch_size=8, buffer_size=200, seed=0, **SMALL).learn(60)
    state = model.replay_buffer.state_dict()
    buffer = model.replay_buffer
    before = (buffer.ep_length.copy(), buffer.observations["observation"].copy(), buffer._current_ep_len.copy())
    state["ep_length"][0, 0] = 10**6
    state["observations"]["observation"][:] = 1.0
    with pytest.raises(ValueError, match="ep_length"):
        buffer.load_state_dict(state)
    assert all(np.array_equal(a, b) for a, b in zip(before, (buffer.ep_length, buffer.observations["observation"],
                                                             buffer._current_ep_len)))


def test_normaliser_refusal_changes_nothing():
    norm = ObsNormalizer((3,))
    norm.update_obs(np.arange(6.0).reshape(2, 3))
    state = norm.state_dict()
    good_mean = norm.obs_rms.mean.copy()
    state["obs_rms"]["mean"] = state["obs_rms"]["mean"] + 5.0
    state["ret_rms"]["var"] = np.float64(-1.0)
    with pytest.raises(ValueError, match="var >= 0"):
        norm.load_state_dict(state)
    np.testing.assert_array_equal(norm.obs_rms.mean, good_mean)
    state["ret_rms"]["var"], state["ret_rms"]["count"] = np.float64(1.0), math.nan
    with pytest.raises(ValueError, match="count"):
        norm.load_state_dict(state)
    np.testing.assert_array_equal(norm.obs_rms.mean, good_mean)


def test_failed_agent_load_returns_nothing_half_built(sac_file, tmp_path):
    """Algo.load builds a fresh agent: a failure raises, so no half-loaded agent ever reaches the caller."""
    def shrink(data):
        data["params"]["policy"]["critic.net.layers.1.weight"] = np.zeros((2, 8, 2), np.float32)

    bad = resign(sac_file, tmp_path / "bad.npz", data_fn=shrink)
    with pytest.raises(CheckpointError, match=r"critic.net.layers.1.weight is float32 \(2, 8, 2\)"):
        SAC.load(bad)


def test_replay_buffer_file_is_checked_before_reading(tmp_path):
    """rl.core.checkpoint.read_replay_buffer: what OffPolicyAlgorithm.load_replay_buffer should read files with."""
    model = DQN("MlpPolicy", IdentityEnv(), learning_starts=10, batch_size=8, buffer_size=100, seed=0, **SMALL)
    path = model.learn(40).save_replay_buffer(tmp_path / "buffer")
    big = bomb(path, tmp_path / "bomb.npz", "state.observations", (2**28, 1, 1), GIB, table_shape=(2**28, 1, 1))
    result, growth = peak_rss_growth_mb(lambda: read_replay_buffer(big, model.replay_buffer))
    assert isinstance(result, CheckpointError) and "holds 268435456 slots; this one has 100" in str(result)
    assert growth < 48
    other = DQN("MlpPolicy", IdentityEnv(), learning_starts=10, batch_size=8, buffer_size=100, seed=1, **SMALL)
    other.replay_buffer.load_state_dict(read_replay_buffer(path, other.replay_buffer))
    np.testing.assert_array_equal(other.replay_buffer.actions, model.replay_buffer.actions)
    with pytest.raises(CheckpointError, match="not a replay buffer"):
        read_replay_buffer(model.save(tmp_path / "agent"), other.replay_buffer)
