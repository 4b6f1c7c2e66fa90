"""agents_zoo is an agent source of `rl` through the "rl.agent_sources" entry point (rl never imports it)."""
import agents_zoo
import rl.pretrained
from agents_zoo.source import ZOO_SOURCE
from rl.cli import main
from tests.rl._fake_algo import FakeAlgo


def test_the_zoo_is_an_installed_agent_source():
    """Declared in pyproject.toml; `pip install -e .` registers it."""
    assert rl.pretrained.agent_sources().get("agents_zoo") is ZOO_SOURCE
    assert rl.pretrained.source_title("agents_zoo") == "agents zoo"
    model, name = rl.pretrained.load_pretrained("ppo", "CartPole-v1")
    assert name == "agents_zoo" and type(model) is rl.ALGOS["ppo"]


def test_zoo_command_prints_the_zoo_table(capsys, monkeypatch):
    monkeypatch.setattr(agents_zoo, "list", lambda: [])
    assert main(["zoo"]) == 0
    assert "The agents zoo is empty." in capsys.readouterr().out
    entry = {"algo": "ppo", "env_id": "CartPole-v1", "mean_reward": 500.0, "std_reward": 0.0,
             "n_eval_episodes": 10, "n_timesteps": 100000, "training_time_s": 60.0, "seed": 0}
    monkeypatch.setattr(agents_zoo, "list", lambda: [entry])
    assert main(["zoo"]) == 0
    out = capsys.readouterr().out
    assert "| ppo | CartPole-v1 | 500.00 | 0.00 | 10 | 100,000 | 1.0 min | 0 |" in out


def test_enjoy_falls_back_to_the_zoo(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(agents_zoo, "load", lambda algo, env_id: FakeAlgo("MlpPolicy", env_id))
    assert main(["enjoy", "--algo", "fake", "--env", "CartPole-v1", "-f", str(tmp_path), "-n", "5", "--no-render"],
                algos={"fake": FakeAlgo}) == 0
    assert "No local run found; loaded fake on CartPole-v1 from the agents zoo" in capsys.readouterr().out
