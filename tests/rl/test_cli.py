import os

import numpy as np
import pytest
import yaml

from rl.cli import main, run_folder, safe_env_name
from rl.hyperparams import HyperparameterError, preprocess_hyperparams
from tests.rl._fake_algo import FakeAlgo

FAKE = {"fake": FakeAlgo}


@pytest.fixture(autouse=True)
def fake_hyperparams(monkeypatch, tmp_path):
    """A fake.yml next to the real files, seen only through load_hyperparams."""
    import rl.cli
    import rl.hyperparams as hp

    real = hp.load_hyperparams

    def load(algo, env_id):
        if algo == "fake":
            return {"n_timesteps": 64, "policy": "MlpPolicy", "n_envs": 2, "n_steps": 4,
                    "learning_rate": "lin_0.001", "policy_kwargs": "dict(net_arch=[8], activation_fn=nn.Tanh)"}, "CartPole-v1"
        return real(algo, env_id)

    monkeypatch.setattr(rl.cli, "load_hyperparams", load)


def run(*argv, algos=FAKE):
    return main(list(argv), algos=algos)


def test_train_enjoy_eval_with_fake_algo(tmp_path, capsys):
    logs = str(tmp_path / "logs")
    assert run("train", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "--seed", "0",
               "--eval-freq", "16", "--eval-episodes", "2", "--save-freq", "32", "-params", "n_steps:8", "-v", "0") == 0
    out = capsys.readouterr().out
    folder = os.path.join(logs, "fake", "CartPole-v1_1")
    assert f"Model saved to {os.path.join(folder, 'CartPole-v1.npz')}" in out
    assert "TensorBoard logs in" in out
    files = set(os.listdir(folder))
    assert {"CartPole-v1.npz", "best_model.npz", "evaluations.npz", "config.yml", "args.yml",
            "rl_model_32_steps.npz", "rl_model_64_steps.npz", "FAKE_1"} <= files
    config = yaml.safe_load(open(os.path.join(folder, "config.yml")))
    assert config["hyperparams"]["n_steps"] == 8 and config["hyperparams"]["n_envs"] == 2
    assert np.load(os.path.join(folder, "evaluations.npz"))["timesteps"].tolist() == [16, 32, 48, 64]

    gif = str(tmp_path / "cartpole.gif")
    assert run("enjoy", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "-n", "12", "--gif", gif) == 0
    from PIL import Image

    with Image.open(gif) as im:
        assert 1 < im.n_frames <= 13 and im.size == (600, 400)  # Pillow merges identical frames
    capsys.readouterr()
    assert run("eval", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "--n-episodes", "3", "--load-best") == 0
    out = capsys.readouterr().out
    assert "best_model.npz" in out and "mean_reward=" in out and "+/-" in out
    # a second training run gets the next id; -i continues the step count
    assert run("train", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "-n", "16", "--eval-freq", "-1",
               "-i", os.path.join(folder, "CartPole-v1.npz"), "-v", "0") == 0
    resumed = FakeAlgo.load(os.path.join(logs, "fake", "CartPole-v1_2", "CartPole-v1.npz"))
    assert resumed.num_timesteps == 80
    assert run_folder(logs, "fake", "CartPole-v1").endswith("CartPole-v1_2")


def test_tensorboard_folder_and_resume_continue_curves(tmp_path, capsys):
    logs, tb = str(tmp_path / "logs"), str(tmp_path / "tb")
    assert run("train", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "-tb", tb, "--eval-freq", "0", "-v", "0") == 0
    assert os.listdir(os.path.join(tb, "CartPole-v1")) == ["FAKE_1"]
    model = os.path.join(logs, "fake", "CartPole-v1_1", "CartPole-v1.npz")
    assert run("train", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "-tb", tb, "--eval-freq", "0",
               "-i", model, "-v", "0") == 0
    assert os.listdir(os.path.join(tb, "CartPole-v1")) == ["FAKE_1"]  # same run, curves continue
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(os.path.join(tb, "CartPole-v1", "FAKE_1"))
    acc.Reload()
    steps = [e.step for e in acc.Scalars("time/iterations")]
    assert steps == sorted(steps) and steps[-1] == 128 and len(steps) == 8 + 4  # the reloaded fake uses n_steps=8


def test_ctrl_c_saves_a_checkpoint(tmp_path, capsys):
    logs = str(tmp_path / "logs")
    status = run("train", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "-params", "interrupt_at:24",
                 "--eval-freq", "0", "-v", "0")
    assert status == 130
    out = capsys.readouterr().out
    assert "Interrupted at 24 timesteps" in out and "Model saved to" in out
    saved = FakeAlgo.load(os.path.join(logs, "fake", "CartPole-v1_1", "CartPole-v1.npz"))
    assert saved.num_timesteps == 24


def test_sigterm_saves_a_checkpoint_like_ctrl_c(tmp_path, capsys):
    import signal

    before = signal.getsignal(signal.SIGTERM)
    logs = str(tmp_path / "logs")
    status = run("train", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "-params", "terminate_at:32",
                 "--eval-freq", "0", "-v", "0")
    assert status == 130 and "Interrupted at 32 timesteps" in capsys.readouterr().out
    assert FakeAlgo.load(os.path.join(logs, "fake", "CartPole-v1_1", "CartPole-v1.npz")).num_timesteps == 32
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back


def test_clear_errors(tmp_path, capsys):
    logs = str(tmp_path / "logs")
    assert run("enjoy", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "--no-render") == 2
    err = capsys.readouterr().err
    assert "no trained fake agent" in err and "python -m rl train --algo fake --env CartPole-v1" in err
    assert run("train", "--algo", "nope", "--env", "CartPole-v1", "-f", logs) == 2
    assert "unknown algorithm 'nope'" in capsys.readouterr().err
    assert run("train", "--algo", "fake", "--env", "CartPoel-v1", "-f", logs) == 2
    assert "unknown environment" in capsys.readouterr().err
    assert run("train", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "-params", "n_steps") == 2
    assert "key:value" in capsys.readouterr().err
    assert run("train", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "-params", "bogus:1") == 2
    assert "does not take bogus" in capsys.readouterr().err
    assert run("train", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "-params",
               "policy_kwargs:dict(a=__import__('os'))") == 2
    assert "policy_kwargs" in capsys.readouterr().err
    assert run("enjoy", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "--gif", "x.gif",
               "--render-mode", "human") == 2


def test_preprocess_hyperparams():
    import gymnasium as gym
    from rl.core.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    box = gym.spaces.Box(-1.0, 1.0, (3,), dtype=np.float32)
    out = preprocess_hyperparams({"noise_type": "normal", "noise_std": 0.2, "train_freq": [1, "episode"],
                                  "normalize": "{'norm_obs': True, 'norm_reward': False}",
                                  "policy_kwargs": "dict(net_arch=[400, 300])"}, box)
    assert isinstance(out["action_noise"], NormalActionNoise) and out["action_noise"]._sigma.tolist() == [0.2] * 3
    assert out["train_freq"] == (1, "episode") and out["normalize"] == {"norm_obs": True, "norm_reward": False}
    assert out["policy_kwargs"] == {"net_arch": [400, 300]} and "noise_std" not in out
    ou = preprocess_hyperparams({"noise_type": "ornstein-uhlenbeck", "noise_std": 0.5}, box)["action_noise"]
    assert isinstance(ou, OrnsteinUhlenbeckActionNoise)
    with pytest.raises(HyperparameterError, match="Box"):
        preprocess_hyperparams({"noise_type": "normal"}, gym.spaces.Discrete(2))
    with pytest.raises(HyperparameterError, match="not supported"):
        preprocess_hyperparams({"use_sde": True}, box)
    import rl

    if not hasattr(rl, "HerReplayBuffer"):
        with pytest.raises(HyperparameterError, match="HerReplayBuffer"):
            preprocess_hyperparams({"replay_buffer_class": "HerReplayBuffer"}, box)


def test_env_names_and_zoo(tmp_path, capsys, monkeypatch):
    assert safe_env_name("corenn/ArmReach-v0") == "corenn-ArmReach-v0"
    import agents_zoo

    monkeypatch.setattr(agents_zoo, "list", lambda: [], raising=False)
    assert main(["zoo"]) == 0
    assert "empty" in capsys.readouterr().out
    entry = {"algo": "ppo", "env_id": "CartPole-v1", "mean_reward": 500.0, "std_reward": 0.0,
             "n_eval_episodes": 10, "n_timesteps": 100000, "training_time_s": 60.0, "seed": 0}
    monkeypatch.setattr(agents_zoo, "list", lambda: [entry], raising=False)
    assert main(["zoo"]) == 0
    out = capsys.readouterr().out
    assert "| ppo | CartPole-v1 | 500.00 | 0.00 | 10 | 100,000 | 1.0 min | 0 |" in out


def test_enjoy_falls_back_to_the_zoo(tmp_path, capsys, monkeypatch):
    import agents_zoo

    monkeypatch.setattr(agents_zoo, "load", lambda algo, env_id: FakeAlgo("MlpPolicy", env_id), raising=False)
    assert run("enjoy", "--algo", "fake", "--env", "CartPole-v1", "-f", str(tmp_path), "-n", "5", "--no-render") == 0
    assert "agents zoo" in capsys.readouterr().out


def test_enjoy_env_kwargs_reach_gym_make(tmp_path, capsys, monkeypatch):
    import agents_zoo

    monkeypatch.setattr(agents_zoo, "load", lambda algo, env_id: FakeAlgo("MlpPolicy", env_id), raising=False)
    assert run("enjoy", "--algo", "fake", "--env", "CartPole-v1", "-f", str(tmp_path), "-n", "7", "--no-render",
               "--env-kwargs", "max_episode_steps:3") == 0
    assert capsys.readouterr().out.count("length=3") == 2
    assert run("enjoy", "--algo", "fake", "--env", "CartPole-v1", "-f", str(tmp_path), "--no-render",
               "--env-kwargs", "no_such_option:1") == 2
    assert "--env-kwargs do not fit CartPole-v1" in capsys.readouterr().err


def test_python_dash_m_rl_help():
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-m", "rl", "train", "--help"], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0 and "--algo" in out.stdout and "-params" in out.stdout


def test_real_ppo_smoke(tmp_path, capsys):
    """train a few hundred steps of the real PPO, then enjoy (rgb_array + GIF) and eval."""
    import rl

    algos = getattr(rl, "ALGOS", {})
    if "ppo" not in algos:
        pytest.skip("rl.ALGOS has no 'ppo' yet")
    logs, gif = str(tmp_path / "logs"), str(tmp_path / "ppo.gif")
    assert main(["train", "--algo", "ppo", "--env", "CartPole-v1", "-n", "512", "--seed", "0", "-f", logs,
                 "--eval-freq", "256", "--eval-episodes", "2", "-v", "0"], algos=algos) == 0
    folder = os.path.join(logs, "ppo", "CartPole-v1_1")
    assert {"CartPole-v1.npz", "best_model.npz", "evaluations.npz"} <= set(os.listdir(folder))
    assert main(["enjoy", "--algo", "ppo", "--env", "CartPole-v1", "-f", logs, "-n", "10", "--gif", gif],
                algos=algos) == 0
    assert os.path.getsize(gif) > 0
    assert main(["eval", "--algo", "ppo", "--env", "CartPole-v1", "-f", logs, "--n-episodes", "2"], algos=algos) == 0
    assert "mean_reward=" in capsys.readouterr().out


def test_save_replay_buffer_and_resume_from_a_checkpoint(tmp_path, capsys):
    logs = str(tmp_path / "logs")
    common = ("--algo", "dqn", "--env", "CartPole-v1", "-f", logs, "--eval-freq", "0", "-v", "0", "--seed", "0")
    params = ("-params", "learning_starts:50", "train_freq:16", "gradient_steps:1", "batch_size:16",
              "policy_kwargs:dict(net_arch=[8])")
    assert run("train", *common, "-n", "200", "--save-freq", "100", "--save-replay-buffer", *params, algos=None) == 0
    folder = os.path.join(logs, "dqn", "CartPole-v1_1")
    files = set(os.listdir(folder))
    assert {"rl_model_100_steps.npz", "rl_model_replay_buffer_100_steps.npz", "rl_model_200_steps.npz",
            "rl_model_replay_buffer_200_steps.npz", "CartPole-v1.npz", "replay_buffer.npz"} <= files
    capsys.readouterr()
    # -i on a checkpoint picks up the buffer saved with it, and training goes on from its step count
    # (as in SB3, callbacks run before the step's transition is stored: 99 of 100 at step 100)
    assert run("train", *common, "-n", "50", "-i", os.path.join(folder, "rl_model_100_steps.npz"), algos=None) == 0
    out = capsys.readouterr().out
    assert "(99 transitions)" in out, out
    from rl import DQN

    resumed = DQN.load(os.path.join(logs, "dqn", "CartPole-v1_2", "CartPole-v1.npz"))
    assert resumed.num_timesteps == 164  # 100 + 50, rounded up to whole train_freq=16 rollouts as in SB3
    # an algorithm without a replay buffer says so
    assert run("train", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "--save-replay-buffer", "-v", "0") == 2
    assert "has no replay buffer" in capsys.readouterr().err


def test_enjoy_without_a_display(tmp_path, capsys, monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert run("enjoy", "--algo", "fake", "--env", "CartPole-v1", "-f", str(tmp_path), "--render-mode", "human") == 2
    assert "needs a display" in capsys.readouterr().err  # asked for a window explicitly: say why not
    assert run("enjoy", "--algo", "fake", "--env", "CartPole-v1", "-f", str(tmp_path)) == 2  # no agent either
    out, err = capsys.readouterr()
    assert "No display found: running without a window" in out and "no trained fake agent" in err


MUJOCO_V5 = ["HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Ant-v5", "InvertedPendulum-v5",
             "InvertedDoublePendulum-v5", "Reacher-v5", "Swimmer-v5", "Humanoid-v5"]


@pytest.mark.parametrize("algo, env_id", [("sac", e) for e in MUJOCO_V5] + [("td3", "Hopper-v5")])
def test_every_mujoco_v5_env_trains_through_the_cli(tmp_path, capsys, algo, env_id):
    """The YAML entry loads, the agent builds for the env's spaces, and gradient steps run (shortened)."""
    logs = str(tmp_path / "logs")
    assert run("train", "--algo", algo, "--env", env_id, "-f", logs, "-n", "150", "--eval-freq", "0", "-v", "0",
               "-params", "learning_starts:100", "policy_kwargs:dict(net_arch=[32, 32])", algos=None) == 0
    assert f"({env_id!r} hyperparameters)" in capsys.readouterr().out  # its own entry, not `default`
    from rl import ALGOS

    model = ALGOS[algo].load(os.path.join(logs, algo, f"{env_id}_1", f"{env_id}.npz"))
    assert model.num_timesteps == 150 and model._n_updates == 50
