"""SB3's Monitor, monitor.csv and load_results, used as SB3's guide shows (only the package renamed)."""

import json
import os

import gymnasium as gym
import numpy as np
import pytest

from rl import PPO
from rl.common.monitor import LoadMonitorResultsError, Monitor, get_monitor_files, load_results
from rl.common.results_plotter import X_EPISODES, X_TIMESTEPS, X_WALLTIME, ts2xy


def play(env, n_steps, seed=0):
    """Random actions for n_steps, resetting at each episode's end; returns the episodes' (return, length)."""
    env.action_space.seed(seed)
    env.reset(seed=seed)
    episodes, ret, length = [], 0.0, 0
    for _ in range(n_steps):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        ret, length = ret + reward, length + 1
        if terminated or truncated:
            assert info["episode"]["r"] == pytest.approx(ret) and info["episode"]["l"] == length
            episodes.append((ret, length))
            ret, length = 0.0, 0
            env.reset()
    return episodes


def test_monitor_csv_header_rows_and_getters(tmp_path):
    env = Monitor(gym.make("CartPole-v1"), str(tmp_path))
    episodes = play(env, 200)
    env.close()
    path = tmp_path / "monitor.csv"
    lines = path.read_text().splitlines()
    assert lines[0].startswith("#")
    header = json.loads(lines[0][1:])
    assert header["env_id"] == "CartPole-v1" and header["t_start"] == pytest.approx(env.t_start)
    assert lines[1] == "r,l,t"
    rows = [line.split(",") for line in lines[2:]]
    assert [(float(r), int(n)) for r, n, _ in rows] == [(float(r), n) for r, n in episodes]
    times = [float(t) for _, _, t in rows]
    assert times == sorted(times) and times[0] >= 0
    assert env.get_episode_rewards() == pytest.approx([r for r, _ in episodes])
    assert env.get_episode_lengths() == [n for _, n in episodes]
    assert len(env.get_episode_times()) == len(episodes)
    assert env.get_total_steps() == 200
    assert get_monitor_files(str(tmp_path)) == [str(path)]


def test_file_naming_and_keywords(tmp_path):
    Monitor(gym.make("CartPole-v1"), str(tmp_path / "run0"), info_keywords=("kind",)).close()
    assert (tmp_path / "run0.monitor.csv").exists()  # 'name' -> 'name.monitor.csv', a folder -> its monitor.csv

    class Tagged(gym.Wrapper):
        def step(self, action):
            obs, reward, terminated, truncated, info = self.env.step(action)
            return obs, reward, terminated, truncated, dict(info, kind="cart")

    tagged = Monitor(Tagged(gym.make("CartPole-v1")), str(tmp_path / "tagged"), info_keywords=("kind",))
    play(tagged, 60)
    tagged.close()
    text = (tmp_path / "tagged.monitor.csv").read_text().splitlines()
    assert text[1] == "r,l,t,kind" and all(line.endswith(",cart") for line in text[2:]) and len(text) > 2
    data = load_results(str(tmp_path))  # both files, the empty one contributes no rows
    assert set(data["kind"]) == {"cart"}

    bad = Monitor(gym.make("CartPole-v1"), info_keywords=("missing_key",))
    with pytest.raises(KeyError, match="missing_key"):
        play(bad, 60)


def test_reset_keywords_and_resets(tmp_path):
    env = Monitor(gym.make("CartPole-v1"), allow_early_resets=False)
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="reset an environment before done"):
        env.reset()
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        done = terminated or truncated
    with pytest.raises(RuntimeError, match="needs reset"):
        env.step(0)
    env.reset()  # allowed once the episode is over

    keyed = Monitor(gym.make("CartPole-v1"), str(tmp_path), reset_keywords=("options",))
    with pytest.raises(ValueError, match="options"):
        keyed.reset()
    keyed.reset(options={"x": 1})


def test_override_existing_false_appends(tmp_path):
    for _ in range(2):
        env = Monitor(gym.make("CartPole-v1"), str(tmp_path), override_existing=False)
        play(env, 50)
        env.close()
    lines = (tmp_path / "monitor.csv").read_text().splitlines()
    assert sum(line.startswith("#") for line in lines) == 1 and lines.count("r,l,t") == 1
    first = Monitor(gym.make("CartPole-v1"), str(tmp_path))  # the default starts the file anew
    first.close()
    assert (tmp_path / "monitor.csv").read_text().splitlines()[2:] == []


def test_load_results_merges_files_in_time_order(tmp_path):
    for i, rows in enumerate([[(1.0, 10, 0.5), (2.0, 20, 2.5)], [(3.0, 30, 1.0)]]):
        with open(tmp_path / f"{i}.monitor.csv", "w") as fh:
            fh.write("#" + json.dumps({"t_start": 100.0 + i, "env_id": "X"}) + "\nr,l,t\n")
            fh.writelines(f"{r},{n},{t}\n" for r, n, t in rows)
    data = load_results(str(tmp_path))
    assert len(data) == 3 and data.columns[:3] == ["r", "l", "t"]
    # t is relative to the earliest t_start: 100.5, 101 + 1.0, 102.5 -> 0.5, 2.0, 2.5
    np.testing.assert_allclose(data["t"], [0.5, 2.0, 2.5])
    np.testing.assert_allclose(data["r"], [1.0, 3.0, 2.0])
    assert data["l"].dtype.kind == "i" and list(data["l"]) == [10, 30, 20]
    assert data.values.shape == (3, 3) and list(data.index) == [0, 1, 2]
    assert list(data.l.cumsum()) == [10, 40, 60] and data.r is data["r"] and len(data.head(2)) == 2
    with pytest.raises(AttributeError, match="rr"):
        getattr(data, "rr")  # noqa: B009

    x, y = ts2xy(data, X_TIMESTEPS)
    assert list(x) == [10, 40, 60] and list(y) == [1.0, 3.0, 2.0]
    x, _ = ts2xy(data, X_EPISODES)
    assert list(x) == [0, 1, 2]
    x, _ = ts2xy(data, X_WALLTIME)
    np.testing.assert_allclose(x, np.array([0.5, 2.0, 2.5]) / 3600)
    with pytest.raises(ValueError, match="x_axis"):
        ts2xy(data, "hours")


def test_load_results_errors(tmp_path):
    with pytest.raises(LoadMonitorResultsError, match="No monitor files"):
        load_results(str(tmp_path))
    (tmp_path / "bad.monitor.csv").write_text("r,l,t\n1,2,3\n")
    with pytest.raises(LoadMonitorResultsError, match="header"):
        load_results(str(tmp_path))


def test_training_on_a_monitored_env_writes_its_episodes(tmp_path):
    """SB3's guide: wrap the env in a Monitor, train, read the learning curve back."""
    env = Monitor(gym.make("CartPole-v1"), str(tmp_path))
    model = PPO("MlpPolicy", env, n_steps=128, batch_size=64, n_epochs=1, seed=0, verbose=0)
    model.learn(total_timesteps=256)
    data = load_results(str(tmp_path))
    assert len(data) == len(env.get_episode_rewards()) > 0
    assert data["l"].sum() <= 256 and env.get_total_steps() == model.num_timesteps
    np.testing.assert_allclose(data["r"], env.get_episode_rewards())
    x, y = ts2xy(data, X_TIMESTEPS)
    assert x[-1] == data["l"].sum() and len(y) == len(data)
    env.close()
    assert os.path.getsize(tmp_path / "monitor.csv") > 0


def test_sb3_guide_save_on_best_training_reward(tmp_path):
    """SB3's guide 'Using Callback: Monitoring Training': the best model by the monitor's mean reward."""
    from rl.common.callbacks import BaseCallback

    class SaveOnBestTrainingRewardCallback(BaseCallback):
        def __init__(self, check_freq: int, log_dir: str, verbose: int = 0):
            super().__init__(verbose)
            self.check_freq, self.log_dir = check_freq, log_dir
            self.save_path = os.path.join(log_dir, "best_model")
            self.best_mean_reward, self.saved_at = -np.inf, []

        def _on_step(self) -> bool:
            if self.n_calls % self.check_freq == 0:
                x, y = ts2xy(load_results(self.log_dir), "timesteps")
                if len(x) > 0:
                    mean_reward = np.mean(y[-100:])
                    if mean_reward > self.best_mean_reward:
                        self.best_mean_reward = mean_reward
                        self.saved_at.append(int(x[-1]))
                        self.model.save(self.save_path)
            return True

    log_dir = str(tmp_path)
    env = Monitor(gym.make("CartPole-v1"), log_dir)
    callback = SaveOnBestTrainingRewardCallback(check_freq=100, log_dir=log_dir)
    model = PPO("MlpPolicy", env, n_steps=100, batch_size=50, n_epochs=1, seed=0)
    model.learn(total_timesteps=400, callback=callback)
    # recompute from the final file what each check (every 100 steps) saw: the episodes finished by then
    x, y = ts2xy(load_results(log_dir), "timesteps")
    means = [np.mean(y[x <= step][-100:]) for step in (100, 200, 300, 400) if np.any(x <= step)]
    assert callback.best_mean_reward == pytest.approx(max(means))
    assert callback.saved_at and set(callback.saved_at) <= set(x.tolist())
    assert os.path.exists(os.path.join(log_dir, "best_model.npz"))
