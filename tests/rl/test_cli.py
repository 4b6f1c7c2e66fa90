import os

import numpy as np
import pytest
import yaml

import rl.pretrained
from rl.cli import main, run_folder, safe_env_name
from tests.rl._fake_algo import FakeAlgo

FAKE = {"fake": FakeAlgo}


@pytest.fixture(autouse=True)
def fake_hyperparams(monkeypatch, tmp_path):
    """A fake.yml next to the real files, seen only through resolve's load_hyperparams."""
    import rl.hyperparams.resolution as resolution

    real = resolution.load_hyperparams

    def load(algo, env_id):
        if algo == "fake":
            entry = {"n_timesteps": 64, "policy": "MlpPolicy", "n_envs": 2, "n_steps": 4,
                     "learning_rate": "lin_0.001", "policy_kwargs": "dict(net_arch=[8], activation_fn=nn.Tanh)"}
            return entry, "CartPole-v1"
        return real(algo, env_id)

    monkeypatch.setattr(resolution, "load_hyperparams", load)


@pytest.fixture()
def sources(monkeypatch):
    """An empty registry of agent sources in place of the installed ones (agents_zoo)."""
    registry = rl.pretrained.AgentSourceRegistry(group=None)
    monkeypatch.setattr(rl.pretrained, "REGISTRY", registry)
    return registry


class FakeSource:
    """A source of pretrained agents holding fake agents for some (algo, env id) pairs."""

    def __init__(self, *pairs, title=None):
        self.pairs = pairs
        if title:
            self.title = title

    def load(self, algo, env_id, **kwargs):
        if (algo, env_id) not in self.pairs:
            raise KeyError(f"no {algo} agent for {env_id}")
        return FakeAlgo("MlpPolicy", env_id)

    def table(self):
        return "\n".join(f"| {algo} | {env_id} |" for algo, env_id in self.pairs)


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
    assert run("train", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "-tb", tb,
               "--eval-freq", "0", "-v", "0") == 0
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


def test_train_overrides_and_tabular_algorithms(tmp_path, capsys):
    logs = str(tmp_path / "logs")
    assert run("train", "--algo", "fake", "--env", "CartPole-v1", "-f", logs, "-n", "24", "--n-envs", "3",
               "--eval-freq", "0", "-v", "0", "-params", "n_envs:5", "n_timesteps:1000") == 0
    config = yaml.safe_load(open(os.path.join(logs, "fake", "CartPole-v1_1", "config.yml")))
    assert config["hyperparams_entry"] == "CartPole-v1"
    assert (config["hyperparams"]["n_timesteps"], config["hyperparams"]["n_envs"]) == (24, 3)  # the flags win
    assert config["hyperparams"]["policy"] == "MlpPolicy" and config["hyperparams"]["n_steps"] == 4
    capsys.readouterr()
    # tabular: the same YAML path, no policy; seed recorded as today
    assert run("train", "--algo", "qlearning", "--env", "FrozenLake-v1", "-f", logs, "-n", "500", "--seed", "1",
               "-params", "learning_rate:0.2", algos=None) == 0
    assert "('FrozenLake-v1' hyperparameters)" in capsys.readouterr().out
    config = yaml.safe_load(open(os.path.join(logs, "qlearning", "FrozenLake-v1_1", "config.yml")))
    assert config["hyperparams"] == {"n_timesteps": 500, "learning_rate": 0.2, "gamma": 0.99, "seed": 1}
    assert run("train", "--algo", "qlearning", "--env", "FrozenLake-v1", "-f", logs, "-i", "x.npz", algos=None) == 2
    assert "-i is not supported" in capsys.readouterr().err
    # no YAML file at all: the algorithm's defaults, said once
    assert run("train", "--algo", "double_dqn", "--env", "CartPole-v1", "-f", logs, "-n", "40", "--eval-freq", "0",
               "-v", "0", "-params", "learning_starts:10", algos=None) == 0
    out = capsys.readouterr().out
    assert out.count("No hyperparameter file for double_dqn: using the algorithm's defaults") == 1
    assert "('none' hyperparameters)" in out


def test_env_names():
    assert safe_env_name("corenn/ArmReach-v0") == "corenn-ArmReach-v0"
    assert safe_env_name("CartPole-v1") == "CartPole-v1"


def test_enjoy_and_eval_fall_back_to_a_registered_agent_source(tmp_path, capsys, sources):
    rl.pretrained.register_agent_source("empty", FakeSource())
    rl.pretrained.register_agent_source("fakes", FakeSource(("fake", "CartPole-v1"), title="fake zoo"))
    assert run("enjoy", "--algo", "fake", "--env", "CartPole-v1", "-f", str(tmp_path), "-n", "5", "--no-render") == 0
    assert "No local run found; loaded fake on CartPole-v1 from the fake zoo" in capsys.readouterr().out
    assert run("eval", "--algo", "fake", "--env", "CartPole-v1", "-f", str(tmp_path), "--n-episodes", "1") == 0
    assert "from the fake zoo" in capsys.readouterr().out
    # an explicit --exp-id means a local run: no fallback
    assert run("enjoy", "--algo", "fake", "--env", "CartPole-v1", "-f", str(tmp_path), "--exp-id", "1",
               "--no-render") == 2
    assert "no trained fake agent" in capsys.readouterr().err


@pytest.mark.parametrize("registered", [(), (FakeSource(("fake", "Pendulum-v1")),)], ids=["no source", "no agent"])
def test_without_a_run_or_a_pretrained_agent_enjoy_says_train_one(tmp_path, capsys, sources, registered):
    for i, source in enumerate(registered):
        rl.pretrained.register_agent_source(f"source{i}", source)
    assert run("enjoy", "--algo", "fake", "--env", "CartPole-v1", "-f", str(tmp_path), "--no-render") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no trained fake agent for CartPole-v1") and err.count("\n") == 1
    assert "python -m rl train --algo fake --env CartPole-v1" in err


def test_zoo_prints_every_source(capsys, sources):
    assert main(["zoo"]) == 0
    assert "no agent source is installed" in capsys.readouterr().out
    rl.pretrained.register_agent_source("fakes", FakeSource(("fake", "CartPole-v1")))
    assert main(["zoo"]) == 0
    assert capsys.readouterr().out == "| fake | CartPole-v1 |\n"
    rl.pretrained.register_agent_source("more", FakeSource(("ppo", "Pendulum-v1"), title="more agents"))
    assert main(["zoo"]) == 0
    assert capsys.readouterr().out == "fakes:\n| fake | CartPole-v1 |\n\nmore agents:\n| ppo | Pendulum-v1 |\n"


def test_agent_sources_are_discovered_through_entry_points(monkeypatch):
    from importlib.metadata import EntryPoint

    found = [EntryPoint("fakes", "tests.rl.test_cli:ENTRY_POINT_SOURCE", "rl.agent_sources"),
             EntryPoint("broken", "tests.rl.no_such_module:SOURCE", "rl.agent_sources")]
    monkeypatch.setattr(rl.pretrained, "entry_points", lambda group: found if group == "rl.agent_sources" else [])
    registry = rl.pretrained.AgentSourceRegistry()
    with pytest.warns(UserWarning, match="'broken'"):
        assert registry.sources() == {"fakes": ENTRY_POINT_SOURCE}
    model, name = registry.load("fake", "CartPole-v1")
    assert isinstance(model, FakeAlgo) and name == "fakes"
    with pytest.raises(KeyError):
        registry.load("fake", "Pendulum-v1")
    with pytest.raises(TypeError, match="load"):
        registry.register("bad", object())


ENTRY_POINT_SOURCE = FakeSource(("fake", "CartPole-v1"))


def test_enjoy_env_kwargs_reach_gym_make(tmp_path, capsys, sources):
    rl.pretrained.register_agent_source("fakes", FakeSource(("fake", "CartPole-v1")))
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
