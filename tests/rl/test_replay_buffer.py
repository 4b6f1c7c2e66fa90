import numpy as np
import pytest
from gymnasium import spaces

from rl.core.dict_replay_buffer import DictReplayBuffer
from rl.core.replay_buffer import ReplayBuffer, resolve_replay_buffer_class
from rl.multi_goal import HerReplayBuffer

BOX_OBS = spaces.Box(-np.inf, np.inf, shape=(3,), dtype=np.float32)
BOX_ACT = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)


def fill(buffer, n_steps, n_envs=1, truncate_every=None, terminate_every=None):
    """obs = step index (per env: + 1000 * env), next_obs = obs + 1, reward = obs."""
    for t in range(n_steps):
        base = t + 1000 * np.arange(n_envs)
        obs = np.repeat(base[:, None], 3, axis=1).astype(np.float32)
        action = np.repeat(base[:, None], 2, axis=1) * 0.001
        terminated = np.full(n_envs, terminate_every is not None and t % terminate_every == terminate_every - 1)
        truncated = np.full(n_envs, truncate_every is not None and t % truncate_every == truncate_every - 1)
        buffer.add(obs, obs + 1, action, base.astype(np.float32), terminated | truncated,
                   infos=[{"TimeLimit.truncated": bool(tr)} for tr in truncated])


def test_ring_buffer_wraps_and_samples_consistent_transitions():
    buf = ReplayBuffer(10, BOX_OBS, BOX_ACT, seed=0)
    fill(buf, 4)
    assert buf.size() == 4 and not buf.full and buf.pos == 4
    fill(buf, 13)  # 17 adds in total into 10 slots
    assert buf.full and buf.size() == 10 and len(buf) == 10
    batch = buf.sample(256)
    assert batch.observations.shape == (256, 3) and batch.actions.shape == (256, 2)
    assert batch.rewards.shape == (256, 1) and batch.dones.shape == (256, 1)
    for arr in batch:
        assert arr.dtype == np.float32
    np.testing.assert_array_equal(batch.next_observations, batch.observations + 1)
    np.testing.assert_array_equal(batch.rewards[:, 0], batch.observations[:, 0])
    # the oldest transitions were overwritten: only steps 3..12 of the second fill remain
    assert set(np.unique(batch.observations[:, 0])) <= set(range(3, 13))


def test_truncation_is_not_termination():
    buf = ReplayBuffer(100, BOX_OBS, BOX_ACT)
    fill(buf, 20, truncate_every=5, terminate_every=7)
    dones = buf.dones[:20, 0]
    # steps 6 and 13 terminate (t % 7 == 6); steps 4, 9, 14, 19 are truncated: stored done = 0
    assert np.flatnonzero(dones).tolist() == [6, 13]
    # truncation also via the kwarg and via a dict of arrays (Gymnasium vector infos)
    buf2 = ReplayBuffer(10, BOX_OBS, BOX_ACT, n_envs=2)
    obs = np.zeros((2, 3))
    buf2.add(obs, obs, np.zeros((2, 2)), np.zeros(2), np.array([True, True]), truncated=np.array([True, False]))
    buf2.add(obs, obs, np.zeros((2, 2)), np.zeros(2), np.array([True, True]),
             infos={"TimeLimit.truncated": np.array([False, True]), "_TimeLimit.truncated": np.array([True, True])})
    assert buf2.dones[:2].tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_multi_env_sampling_uses_all_envs():
    buf = ReplayBuffer(40, BOX_OBS, BOX_ACT, n_envs=4, seed=1)
    assert buf.buffer_size == 10
    fill(buf, 8, n_envs=4)
    batch = buf.sample(2000)
    envs = (batch.observations[:, 0] // 1000).astype(int)
    assert set(envs.tolist()) == {0, 1, 2, 3}
    np.testing.assert_array_equal(batch.next_observations, batch.observations + 1)


def test_optimize_memory_usage_matches_semantics():
    buf = ReplayBuffer(8, BOX_OBS, BOX_ACT, optimize_memory_usage=True, seed=2)
    assert buf.next_observations is None
    fill(buf, 5)
    batch = buf.sample(500)
    np.testing.assert_array_equal(batch.next_observations, batch.observations + 1)
    fill(buf, 20)  # wraps several times
    batch = buf.sample(2000)
    np.testing.assert_array_equal(batch.next_observations, batch.observations + 1)
    # only buffer_size - 1 transitions are valid once full
    assert len(np.unique(batch.observations[:, 0])) == 7


def test_discrete_spaces_and_shapes():
    buf = ReplayBuffer(16, spaces.Discrete(5), spaces.Discrete(3), n_envs=2)
    buf.add(np.array([1, 2]), np.array([2, 3]), np.array([0, 2]), np.array([1.0, 0.0]), np.array([False, True]))
    batch = buf.sample(4)
    assert batch.observations.shape == (4, 1) and batch.actions.shape == (4, 1)


def test_bad_inputs_raise_clear_errors():
    buf = ReplayBuffer(8, BOX_OBS, BOX_ACT)
    with pytest.raises(ValueError, match="empty"):
        buf.sample(4)
    with pytest.raises(ValueError, match="obs has shape"):
        buf.add(np.zeros((1, 4)), np.zeros((1, 3)), np.zeros((1, 2)), np.zeros(1), np.zeros(1))
    with pytest.raises(ValueError, match="NaN"):
        buf.add(np.full((1, 3), np.nan), np.zeros((1, 3)), np.zeros((1, 2)), np.zeros(1), np.zeros(1))
    with pytest.raises(TypeError, match="Dict observation"):
        ReplayBuffer(8, spaces.Dict({"a": BOX_OBS}), BOX_ACT)
    with pytest.raises(ValueError, match="positive"):
        ReplayBuffer(0, BOX_OBS, BOX_ACT)


@pytest.mark.parametrize("optimize", [False, True])
def test_state_dict_round_trip(tmp_path, optimize):
    buf = ReplayBuffer(12, BOX_OBS, BOX_ACT, n_envs=2, optimize_memory_usage=optimize)
    fill(buf, 9, n_envs=2, terminate_every=4)
    state = buf.state_dict()
    np.savez(tmp_path / "rb.npz", **state)
    loaded = dict(np.load(tmp_path / "rb.npz", allow_pickle=False))
    other = ReplayBuffer(12, BOX_OBS, BOX_ACT, n_envs=2, optimize_memory_usage=optimize)
    other.load_state_dict(loaded)
    assert (other.pos, other.full, other.size()) == (buf.pos, buf.full, buf.size())
    a, b = buf.sample(64, rng=np.random.default_rng(3)), other.sample(64, rng=np.random.default_rng(3))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="slots"):
        ReplayBuffer(20, BOX_OBS, BOX_ACT, n_envs=2, optimize_memory_usage=optimize).load_state_dict(loaded)


def test_sampling_is_vectorised_and_fast():
    import time

    buf = ReplayBuffer(100_000, spaces.Box(-1, 1, (17,)), spaces.Box(-1, 1, (6,)))
    buf.observations[:] = 1.0
    buf.pos, buf.full = 0, True
    start = time.perf_counter()
    for _ in range(100):
        buf.sample(256)
    assert (time.perf_counter() - start) / 100 < 5e-3


def test_resolve_replay_buffer_class_knows_only_replay_buffers():
    assert resolve_replay_buffer_class(None) is None
    assert resolve_replay_buffer_class(ReplayBuffer) is ReplayBuffer
    assert resolve_replay_buffer_class("ReplayBuffer") is ReplayBuffer
    assert resolve_replay_buffer_class("DictReplayBuffer") is DictReplayBuffer
    assert resolve_replay_buffer_class("HerReplayBuffer") is HerReplayBuffer
    assert resolve_replay_buffer_class("stable_baselines3.HerReplayBuffer") is HerReplayBuffer
    for name in ("PPO", "evaluate_policy", "os.system", ""):
        with pytest.raises(ValueError, match="unknown replay_buffer_class"):
            resolve_replay_buffer_class(name)
    with pytest.raises(ValueError, match="replay_buffer_class must be"):
        resolve_replay_buffer_class(3)
