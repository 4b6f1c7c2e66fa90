"""rl.data: datasets in Minari's format (ours read by minari, minari's read by us), the flat view, validation
errors, the replay-buffer conversion, reference scores and `python -m rl collect`."""

import json
import os

import gymnasium as gym
import numpy as np
import pytest

import corenn
from rl.core.replay_buffer import ReplayBuffer
from rl.data import (
    DatasetError,
    Episode,
    episodes_from_replay_buffer,
    flat_view,
    load_dataset,
    normalized_score,
    random_policy,
    reference_scores,
    run_policy,
    write_dataset,
)
from rl.data.scores import env_normalized_score

h5py = pytest.importorskip("h5py")
FIELDS = ("observations", "actions", "rewards", "terminations", "truncations")


def _random_episodes(env_id: str, max_steps: int, seed: int = 0):
    """3 whole random episodes (Pendulum's end truncated at max_steps) + 1 cut short by n_steps."""
    env = gym.make(env_id, max_episode_steps=max_steps)
    episodes = run_policy(env, random_policy(env.action_space, seed), n_episodes=3, seed=seed)
    episodes += run_policy(env, random_policy(env.action_space, seed + 1), n_steps=5, seed=seed + 10)
    return env, episodes


def _assert_same(ours, theirs):
    for name in FIELDS:
        a, b = np.asarray(getattr(ours, name)), np.asarray(getattr(theirs, name))
        assert a.dtype == b.dtype and np.array_equal(a, b), name


@pytest.mark.parametrize("env_id, max_steps", [("CartPole-v1", 500), ("Pendulum-v1", 30)])
def test_write_then_read_gives_identical_arrays(tmp_path, env_id, max_steps):
    env, episodes = _random_episodes(env_id, max_steps)
    assert episodes[-1].truncations[-1] and not episodes[-1].terminations[-1]
    path = write_dataset("test/random-v0", episodes, env.observation_space, env.action_space, env_spec=env_id,
                         metadata={"ref_min_score": -1.0, "ref_max_score": 2.0}, root=tmp_path)
    assert sorted(os.listdir(path)) == ["main_data.hdf5", "metadata.json"]
    data = load_dataset("test/random-v0", root=tmp_path)
    assert data.env_id == env_id and len(data) == 4 and data.total_steps == sum(len(e) for e in episodes)
    assert data.observation_space == env.observation_space and data.action_space == env.action_space
    assert (data.ref_min_score, data.ref_max_score) == (-1.0, 2.0)
    for ours, read in zip(episodes, data.episodes):
        _assert_same(ours, read)
        assert read.seed == ours.seed
    assert load_dataset(path).total_steps == data.total_steps  # by folder as well as by id
    meta = json.load(open(os.path.join(path, "metadata.json")))
    assert meta["dataset_id"] == "test/random-v0" and meta["data_format"] == "hdf5"
    assert json.loads(meta["env_spec"])["id"] == env_id


def test_minari_load_dataset_reads_ours(tmp_path, monkeypatch):
    minari = pytest.importorskip("minari")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    env, episodes = _random_episodes("Pendulum-v1", 30)
    write_dataset("corenn/pendulum/random-v0", episodes, env.observation_space, env.action_space,
                  env_spec="Pendulum-v1", metadata={"ref_min_score": -1200.0, "ref_max_score": -150.0})
    dataset = minari.load_dataset("corenn/pendulum/random-v0")
    assert dataset.total_episodes == 4 and dataset.total_steps == sum(len(e) for e in episodes)
    assert dataset.observation_space == env.observation_space and dataset.action_space == env.action_space
    assert dataset.env_spec.id == "Pendulum-v1"
    for ours, theirs in zip(episodes, dataset.iterate_episodes()):
        _assert_same(ours, theirs)
    returns = np.array([e.episode_return for e in episodes])
    np.testing.assert_allclose(100 * minari.get_normalized_score(dataset, returns),
                               normalized_score(returns, -1200.0, -150.0))
    assert "corenn/pendulum/random-v0" in minari.list_local_datasets()


def _train_bc_briefly(data):
    from rl.bc import BC

    model = BC("MlpPolicy", dataset=data, seed=0, batch_size=16, policy_kwargs=dict(net_arch=[16]))
    model.learn(20, log_interval=0)
    actions, _ = model.predict(data.observations[:8], deterministic=True)
    assert all(data.action_space.contains(a) for a in actions)
    return model


def test_minari_writer_output_loads_into_our_training(tmp_path, monkeypatch):
    minari = pytest.importorskip("minari")
    from minari.data_collector import EpisodeBuffer

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    env, episodes = _random_episodes("CartPole-v1", 500)
    buffers = [EpisodeBuffer(observations=list(e.observations), actions=list(e.actions), rewards=list(e.rewards),
                             terminations=list(e.terminations), truncations=list(e.truncations)) for e in episodes]
    minari.create_dataset_from_buffers("minari/cartpole/random-v0", buffers, env="CartPole-v1", algorithm_name="r",
                                       author="a", author_email="e", code_permalink="c", description="d")
    data = load_dataset("minari/cartpole/random-v0")
    for ours, read in zip(episodes, data.episodes):
        np.testing.assert_array_equal(read.observations, ours.observations)
        np.testing.assert_array_equal(read.actions, ours.actions)
        np.testing.assert_array_equal(read.rewards, ours.rewards)
    flat = flat_view(data)
    assert len(flat) == data.total_steps
    _train_bc_briefly(flat)


def test_minari_data_collector_output_loads_into_our_training(tmp_path, monkeypatch):
    minari = pytest.importorskip("minari")
    pytest.importorskip("jax", reason="minari's DataCollector needs jax (minari[create])")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    env = minari.DataCollector(gym.make("CartPole-v1"))
    env.reset(seed=0)
    for _ in range(3):
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            done = terminated or truncated
        env.reset()
    env.create_dataset("collector/cartpole/random-v0", algorithm_name="random", author="a", author_email="e",
                       code_permalink="c", description="d")
    _train_bc_briefly(flat_view(load_dataset("collector/cartpole/random-v0")))


def test_flat_view_marks_terminals_and_timeouts_at_episode_ends():
    space = gym.spaces.Box(-10, 10, (2,), np.float32)
    actions = gym.spaces.Discrete(3)

    def episode(n, terminated, truncated, start):
        obs = (start + np.arange(n + 1, dtype=np.float32))[:, None].repeat(2, axis=1)
        flags = np.zeros(n, bool)
        return Episode(obs, np.arange(n) % 3, np.ones(n), np.r_[flags[:-1], terminated],
                       np.r_[flags[:-1], truncated])

    eps = [episode(3, True, False, 0), episode(2, False, True, 100), episode(2, False, False, 200),
           episode(1, True, True, 300)]
    from rl.data.minari_format import OfflineDataset

    flat = flat_view(OfflineDataset("t", "", space, actions, eps, {}))
    assert len(flat) == 8 and flat.observations.dtype == np.float32 and flat.actions.dtype == np.int64
    np.testing.assert_array_equal(flat.terminals, [0, 0, 1, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(flat.timeouts, [0, 0, 0, 0, 1, 0, 1, 0])  # no flag at the end: cut there
    np.testing.assert_array_equal(flat.observations[:, 0], [0, 1, 2, 100, 101, 200, 201, 300])
    np.testing.assert_array_equal(flat.next_observations[:, 0], [1, 2, 3, 101, 102, 201, 202, 301])
    np.testing.assert_array_equal(flat.episode_ids, [0, 0, 0, 1, 1, 2, 2, 3])
    np.testing.assert_array_equal(flat.episode_returns(), [3, 2, 2, 1])
    batch = flat.sample(5, np.random.default_rng(0))
    assert set(batch) == {"observations", "actions", "rewards", "next_observations", "terminals", "timeouts"}
    np.testing.assert_array_equal(batch["next_observations"][:, 0] - batch["observations"][:, 0], np.ones(5))


@pytest.fixture
def written(tmp_path):
    env, episodes = _random_episodes("CartPole-v1", 500)
    path = write_dataset("tt/c-v0", episodes, env.observation_space, env.action_space, env_spec="CartPole-v1",
                         root=tmp_path)
    return path, os.path.join(path, "main_data.hdf5")


def _edit(file, fn):
    with h5py.File(file, "a") as fh:
        fn(fh)


@pytest.mark.parametrize("edit, message", [
    (lambda fh: fh["episode_1"].__delitem__("actions"), "episode_1/actions: missing"),
    (lambda fh: (fh["episode_0"].__delitem__("rewards"), fh["episode_0"].create_dataset("rewards", data=np.ones(3))),
     "episode_0/observations: has shape"),
    (lambda fh: fh["episode_2/observations"].__setitem__((1, 0), np.nan), "episode_2/observations: holds NaN"),
    (lambda fh: fh["episode_0/terminations"].__setitem__(0, True), "episode_0/terminations: is True at step 0"),
    (lambda fh: fh["episode_1/actions"].__setitem__(0, 7), "episode_1/actions: has values outside Discrete(2)"),
    (lambda fh: fh.__delitem__("episode_3"), "holds 3 episodes; metadata.json says total_episodes=4"),
])
def test_corrupted_datasets_name_the_episode_and_field(written, edit, message):
    path, file = written
    _edit(file, edit)
    with pytest.raises(DatasetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_dataset(path)


def test_bad_metadata_and_files_are_clear_errors(written, tmp_path):
    path, file = written
    meta_file = os.path.join(path, "metadata.json")
    meta = json.load(open(meta_file))
    json.dump(dict(meta, total_steps=meta["total_steps"] + 1), open(meta_file, "w"))
    with pytest.raises(DatasetError, match="metadata.json says total_steps"):
        load_dataset(path)
    json.dump(dict(meta, data_format="arrow"), open(meta_file, "w"))
    with pytest.raises(DatasetError, match="data_format 'arrow'"):
        load_dataset(path)
    json.dump(meta, open(meta_file, "w"))
    open(file, "wb").write(b"not hdf5")
    with pytest.raises(DatasetError, match="not a readable HDF5 file"):
        load_dataset(path)
    with pytest.raises(FileNotFoundError, match="no dataset 'nobody/none-v0'"):
        load_dataset("nobody/none-v0", root=tmp_path)


def test_writer_refuses_bad_input(tmp_path, monkeypatch):
    env, episodes = _random_episodes("CartPole-v1", 500)
    spaces = (env.observation_space, env.action_space)
    write_dataset("ab/b-v0", episodes, *spaces, root=tmp_path)
    with pytest.raises(FileExistsError, match="already exists"):
        write_dataset("ab/b-v0", episodes, *spaces, root=tmp_path)
    assert load_dataset("ab/b-v0", root=tmp_path)  # the refused write left it intact
    write_dataset("ab/b-v0", episodes[:1], *spaces, root=tmp_path, overwrite=True)
    assert len(load_dataset("ab/b-v0", root=tmp_path)) == 1
    with pytest.raises(ValueError, match="malformed dataset id"):
        write_dataset("no version", episodes, *spaces, root=tmp_path)
    bad = Episode(episodes[0].observations[:-1], episodes[0].actions, episodes[0].rewards,
                  episodes[0].terminations, episodes[0].truncations)
    with pytest.raises(DatasetError, match="episode_1/observations: has shape"):
        write_dataset("ab/c-v0", [episodes[0], bad], *spaces, root=tmp_path)
    assert not os.path.exists(tmp_path / "ab" / "c-v0")
    monkeypatch.setitem(__import__("sys").modules, "h5py", None)
    with pytest.raises(ImportError, match=r"corenn\[offline\]"):
        write_dataset("ab/d-v0", episodes, *spaces, root=tmp_path)


def test_replay_buffer_converts_to_the_episodes_that_filled_it(tmp_path):
    env = gym.make("Pendulum-v1", max_episode_steps=7)
    episodes = run_policy(env, random_policy(env.action_space, 0), n_steps=17, seed=0)  # 7 + 7 + 3 steps
    low, high = env.action_space.low, env.action_space.high
    buffer = ReplayBuffer(100, env.observation_space, env.action_space)
    for ep in episodes:
        for t in range(len(ep)):
            scaled = 2.0 * (ep.actions[t] - low) / (high - low) - 1.0  # what SAC / TD3 store
            buffer.add(ep.observations[t][None], ep.observations[t + 1][None], scaled[None], [ep.rewards[t]],
                       [ep.terminations[t] or ep.truncations[t]], truncated=[ep.truncations[t]])
    path = str(tmp_path / "buffer.npz")
    corenn.save({"format": "corenn-replay-buffer", "algo": "SAC", "state": buffer.state_dict()}, path)
    converted = episodes_from_replay_buffer(path, env.observation_space, env.action_space)
    assert [len(e) for e in converted] == [7, 7, 3]
    for ours, back in zip(episodes, converted):
        np.testing.assert_allclose(back.observations, ours.observations, rtol=1e-6)
        np.testing.assert_allclose(back.actions, ours.actions, atol=1e-5)
        np.testing.assert_allclose(back.rewards, ours.rewards, rtol=1e-6)
        assert back.truncations[-1] and not back.terminations.any()
    with pytest.raises(DatasetError, match="not a replay buffer"):
        corenn.save({"format": "other"}, str(tmp_path / "x.npz"))
        episodes_from_replay_buffer(str(tmp_path / "x.npz"), env.observation_space, env.action_space)


def test_normalized_score_is_d4rls_definition_times_100():
    assert normalized_score(10.0, 10.0, 110.0) == 0.0
    assert normalized_score(110.0, 10.0, 110.0) == 100.0
    np.testing.assert_allclose(normalized_score(np.array([60.0, -40.0]), 10.0, 110.0), [50.0, -50.0])
    with pytest.raises(ValueError, match="must be finite and differ"):
        normalized_score(1.0, 5.0, 5.0)
    for env_id in ("CartPole-v1", "Pendulum-v1"):  # measured and committed in rl/data/reference_scores.json
        low, high = reference_scores(env_id)
        assert low < high
        assert env_normalized_score(env_id, high) == pytest.approx(100.0)
    assert reference_scores("NoSuchEnv-v0") is None and env_normalized_score("NoSuchEnv-v0", 1.0) is None


def test_collect_cli_writes_a_dataset_minari_format(tmp_path, monkeypatch, capsys):
    from rl.cli import main

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    assert main(["collect", "--env", "CartPole-v1", "--kind", "random", "--steps", "60", "--seed", "3"]) == 0
    data = load_dataset("corenn/cartpole/random-v0")
    assert data.total_steps == 60 and data.episodes[0].seed == 3
    assert data.metadata["corenn_kind"] == "random"
    assert (data.ref_min_score, data.ref_max_score) == reference_scores("CartPole-v1")
    assert "normalised score" in capsys.readouterr().out
    assert main(["collect", "--env", "CartPole-v1", "--kind", "random", "--steps", "60"]) == 2  # exists
    assert main(["collect", "--env", "CartPole-v1", "--kind", "expert", "--episodes", "1"]) == 2  # no --algo
    assert main(["collect", "--env", "CartPole-v1", "--kind", "medium", "--algo", "ppo", "--episodes", "1"]) == 2
    assert main(["collect", "--env", "CartPole-v1", "--kind", "medium-replay"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "give --algo" in err and "--action-noise" in err and "--replay-buffer" in err
