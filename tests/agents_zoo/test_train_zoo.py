"""agents_zoo.build: the zoo's provenance (commands read back from CLI runs) is exact."""
import json
import os
import shlex
import subprocess
import sys

import yaml

import agents_zoo
from agents_zoo import build as train_zoo
from agents_zoo.cli import build_parser as zoo_parser
from agents_zoo.cli import main as zoo_main
from agents_zoo.readme import readme_text
from rl.cli import build_parser, main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_from_runs_records_the_cli_commands_of_a_resumed_chain(tmp_path, monkeypatch):
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


def test_build_command_line_keeps_the_script_options():
    args = zoo_parser().parse_args(["build", "sac:HalfCheetah-v5", "--seed", "1", "-n", "100", "--episodes", "3",
                                    "--gif", "--extra", "-params learning_starts:10", "--gif-steps", "120"])
    assert (args.agents, args.seed, args.n_timesteps, args.episodes) == (["sac:HalfCheetah-v5"], 1, 100, 3)
    assert args.gif
    assert (args.extra, args.gif_steps) == ("-params learning_starts:10", 120)
    args = zoo_parser().parse_args(["build", "--from-runs", "td3:Hopper-v5", "a", "b", "--best", "--note", "x"])
    assert (args.from_runs, args.best, args.note) == (["td3:Hopper-v5", "a", "b"], True, "x")
    assert zoo_parser().parse_args(["build", "--recompact"]).recompact
    assert zoo_parser().parse_args(["build", "--readme-only"]).readme_only


def test_list_prints_the_table(capsys):
    assert zoo_main(["list"]) == 0
    assert capsys.readouterr().out == agents_zoo.table() + "\n"


def test_the_readme_is_generated_from_the_metadata():
    """agents_zoo/README.md is what `python -m agents_zoo build --readme-only` writes."""
    text = readme_text()
    assert agents_zoo.table() in text and "python -m agents_zoo build" in text
    with open(os.path.join(agents_zoo.ROOT, "README.md"), encoding="utf-8") as f:
        assert f.read() == text


def test_the_old_script_and_python_dash_m_agents_zoo_run(tmp_path):
    for cmd in ([sys.executable, "-m", "agents_zoo", "list"],
                [sys.executable, os.path.join(ROOT, "scripts", "train_zoo.py"), "--help"]):
        done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
    assert "--from-runs" in done.stdout and "--gif-steps" in done.stdout
