"""results_plotter (SB3's plotting helpers) and `python -m rl plot` (rl-zoo3's plot_train)."""

import json
import os
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

from rl import A2C
from rl.cli import main
from rl.common import results_plotter
from rl.common.monitor import Monitor
from rl.common.results_plotter import X_EPISODES, X_TIMESTEPS, plot_results, rolling_window, window_func


def write_monitor(folder, returns, lengths, t_start=1000.0):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "0.monitor.csv"), "w") as fh:
        fh.write("#" + json.dumps({"t_start": t_start, "env_id": "CartPole-v1"}) + "\nr,l,t\n")
        for i, (r, n) in enumerate(zip(returns, lengths)):
            fh.write(f"{r},{n},{0.1 * (i + 1)}\n")


def test_rolling_window_and_window_func():
    x = np.arange(10.0)
    windows = rolling_window(x, 3)
    assert windows.shape == (8, 3) and list(windows[2]) == [2.0, 3.0, 4.0]
    xs, means = window_func(x, x ** 2, 4, np.mean)
    assert list(xs) == list(x[3:])
    np.testing.assert_allclose(means, [np.mean((x ** 2)[i:i + 4]) for i in range(7)])
    with pytest.raises(ValueError, match="window"):
        rolling_window(x, 11)


def test_plot_results_draws_the_curves(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    returns = rng.normal(size=150).cumsum()
    write_monitor(str(tmp_path / "a"), returns, np.full(150, 10))
    fig = plot_results([str(tmp_path / "a")], 1000, X_TIMESTEPS, "CartPole")
    ax = fig.axes[0]
    points = ax.collections[0].get_offsets()
    assert len(points) == 100  # cut at num_timesteps: 100 episodes of 10 steps
    np.testing.assert_allclose(points[:, 1], returns[:100])
    line = ax.lines[0]  # the 100-episode moving mean (EPISODES_WINDOW)
    np.testing.assert_allclose(line.get_ydata(), [returns[:100].mean()])
    assert ax.get_title() == "CartPole" and ax.get_xlabel() == X_TIMESTEPS
    out = tmp_path / "curve.png"
    plt.savefig(out)
    assert out.stat().st_size > 1000
    plt.close("all")

    fig = plot_results([str(tmp_path / "a")], None, X_EPISODES, "every episode")
    assert len(fig.axes[0].collections[0].get_offsets()) == 150
    plt.close("all")


def test_sb3_guide_monitor_then_plot(tmp_path):
    """SB3's guide 'Monitor training': Monitor(env, log_dir), learn, results_plotter.plot_results."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    log_dir = str(tmp_path)
    env = Monitor(gym.make("CartPole-v1"), log_dir)
    model = A2C("MlpPolicy", env, seed=0, verbose=0)
    model.learn(total_timesteps=300)
    results_plotter.plot_results([log_dir], 300, results_plotter.X_TIMESTEPS, "A2C CartPole")
    plt.savefig(tmp_path / "a2c.png")
    plt.close("all")
    x, y = results_plotter.ts2xy(results_plotter.load_results(log_dir), "timesteps")
    assert len(x) == len(env.get_episode_rewards()) > 0 and (tmp_path / "a2c.png").exists()


def test_cli_plot_from_monitor_files(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    logs = tmp_path / "logs"
    write_monitor(str(logs / "ppo" / "CartPole-v1_1"), np.arange(30.0), np.full(30, 5))
    write_monitor(str(logs / "ppo" / "CartPole-v1_2"), np.arange(30.0) * 2, np.full(30, 5))
    out = tmp_path / "plots" / "curves.png"
    code = main(["plot", "--algo", "ppo", "--env", "CartPole-v1", "-f", str(logs), "-w", "10",
                 "-x", "episodes", "-o", str(out)])
    assert code == 0 and out.stat().st_size > 1000
    assert "2 curves" in capsys.readouterr().out

    from rl.cli_plot import run_curves

    curves = run_curves(str(logs), "ppo", "CartPole-v1", "steps", "reward", 10)
    assert [name for name, _, _ in curves] == ["ppo CartPole-v1_1", "ppo CartPole-v1_2"]
    _, x, y = curves[1]
    assert x[0] == 50 and x[-1] == 150  # cumulative timesteps, from the 10th episode on
    np.testing.assert_allclose(y[0], np.mean(np.arange(10.0) * 2))
    _, x, _ = run_curves(str(logs), "ppo", "CartPole-v1", "steps", "reward", 10, max_timesteps=100)[0]
    assert x[-1] == 100


def test_cli_plot_errors(tmp_path, capsys):
    assert main(["plot", "--algo", "ppo", "--env", "CartPole-v1", "-f", str(tmp_path), "-o", "x.png"]) == 2
    assert "no monitor files for ppo on CartPole-v1" in capsys.readouterr().err
    assert main(["plot", "--algo", "ppo", "--env", "CartPole-v1", "-w", "0"]) == 2
    write_monitor(str(tmp_path / "ppo" / "CartPole-v1_1"), [1.0], [5])
    code = main(["plot", "--algo", "ppo", "--env", "CartPole-v1", "-f", str(tmp_path), "-y", "success",
                 "-o", str(tmp_path / "s.png")])
    assert code == 2 and "is_success" in capsys.readouterr().err


def test_cli_train_writes_monitor_files_then_plot(tmp_path):
    """A tiny `python -m rl train` run writes {i}.monitor.csv; `python -m rl plot` draws it."""
    pytest.importorskip("matplotlib")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root, SDL_VIDEODRIVER="dummy")
    train = [sys.executable, "-m", "rl", "train", "--algo", "a2c", "--env", "CartPole-v1", "-n", "400",
             "--n-envs", "2", "--eval-freq", "-1", "-v", "0", "--seed", "1", "-f", "logs"]
    subprocess.run(train, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
    run = tmp_path / "logs" / "a2c" / "CartPole-v1_1"
    assert sorted(p.name for p in run.glob("*.monitor.csv")) == ["0.monitor.csv", "1.monitor.csv"]
    assert main(["plot", "--algo", "a2c", "--env", "CartPole-v1", "-f", str(tmp_path / "logs"),
                 "-o", str(tmp_path / "a2c.png")]) == 0
    from rl.common.monitor import load_results

    data = load_results(str(run))
    assert len(data) > 0 and data["l"].sum() <= 400


def test_missing_matplotlib_is_one_clear_error(tmp_path, capsys, monkeypatch):
    write_monitor(str(tmp_path / "ppo" / "CartPole-v1_1"), [1.0, 2.0], [5, 5])
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install -e \"\.\[plot\]\""):
        plot_results([str(tmp_path / "ppo" / "CartPole-v1_1")], None, X_TIMESTEPS, "x")
    code = main(["plot", "--algo", "ppo", "--env", "CartPole-v1", "-f", str(tmp_path), "-o", str(tmp_path / "a.png")])
    assert code == 2 and "plotting needs matplotlib" in capsys.readouterr().err


def test_cli_plot_evaluations(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    run = tmp_path / "ppo" / "CartPole-v1_3"
    run.mkdir(parents=True)
    results = np.array([[10.0, 20.0], [30.0, 50.0], [60.0, 60.0]])
    np.savez(run / "evaluations.npz", timesteps=np.array([100, 200, 300]), results=results,
             ep_lengths=np.full((3, 2), 10))
    from rl.cli_plot import eval_curves

    [(name, x, y)] = eval_curves(str(tmp_path), "ppo", "CartPole-v1")
    assert name == "ppo CartPole-v1_3" and list(x) == [100, 200, 300] and list(y) == [15.0, 40.0, 60.0]
    assert list(eval_curves(str(tmp_path), "ppo", "CartPole-v1", max_timesteps=200)[0][1]) == [100, 200]
    out = tmp_path / "eval.png"
    assert main(["plot", "--algo", "ppo", "--env", "CartPole-v1", "-f", str(tmp_path), "--evaluations",
                 "-o", str(out)]) == 0 and out.exists()
    assert main(["plot", "--algo", "ppo", "--env", "CartPole-v1", "-f", str(tmp_path), "--evaluations",
                 "-y", "success", "-o", str(out)]) == 2
    assert "successes" in capsys.readouterr().err
