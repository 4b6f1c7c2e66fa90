"""scripts/train_zoo.py: the zoo's provenance (commands read back from CLI runs) is exact."""
import importlib.util
import json
import os
import shlex

import pytest
import yaml

import agents_zoo
from rl.cli import build_parser, main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture()
def train_zoo():
    spec = importlib.util.spec_from_file_location("train_zoo", os.path.join(ROOT, "scripts", "train_zoo.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_from_runs_records_the_cli_commands_of_a_resumed_chain(tmp_path, monkeypatch, train_zoo):
    logs = str(tmp_path / "logs")
    common = ["train", "--algo", "ppo", "--env", "CartPole-v1", "-f", logs, "--seed", "3", "-v", "0",
              "-params", "n_steps:32", "n_envs:2"]
    assert main(common + ["-n", "128", "--eval-freq", "64", "--eval-episodes", "2"]) == 0
    first = os.path.join(logs, "ppo", "CartPole-v1_1")
    assert main(common + ["-n", "64", "--eval-freq", "0", "-i", os.path.join(first, "CartPole-v1.npz")]) == 0
    second = os.path.join(logs, "ppo", "CartPole-v1_2")

    for folder in (first, second):  # the command read back parses to the arguments the run saved
        words = shlex.split(train_zoo.command_from_args(folder))
        assert words[:3] == ["python", "-m", "rl"]
        parsed = vars(build_parser().parse_args(words[3:]))
        saved = yaml.safe_load(open(os.path.join(folder, "args.yml")))
        assert {k: parsed[k] for k in saved if k != "n_envs"} == {k: v for k, v in saved.items() if k != "n_envs"}

    monkeypatch.setattr(agents_zoo, "ROOT", str(tmp_path / "zoo"))
    train_zoo.from_runs("ppo", "CartPole-v1", [first, second], episodes=2)
    meta = json.load(open(os.path.join(agents_zoo.agent_dir("ppo", "CartPole-v1"), "metadata.json")))
    assert meta["n_timesteps"] == 192 and meta["seed"] == 3 and " && " in meta["command"]
    assert meta["hyperparameters"]["n_steps"] == 32 and meta["training_time_s"] > 0
    assert agents_zoo.load("ppo", "CartPole-v1").num_timesteps == 192
