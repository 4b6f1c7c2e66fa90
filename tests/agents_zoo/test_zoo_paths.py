"""agents_zoo looks agents up in its index only: no user string becomes a path outside the zoo."""
import json
import shutil

import pytest

import agents_zoo

REAL = agents_zoo.agent_dir("ppo", "CartPole-v1")


@pytest.fixture()
def zoo(tmp_path, monkeypatch):
    """A zoo with one real agent, and things outside it that symlinks and metadata point to."""
    root, outside = tmp_path / "zoo", tmp_path / "outside"
    shutil.copytree(REAL, root / "ppo" / "CartPole-v1")
    shutil.copytree(REAL, outside / "secret")  # a valid agent that must stay unreachable
    (root / "ppo" / "Evil-v0").symlink_to(outside / "secret", target_is_directory=True)
    (root / "evil").symlink_to(outside, target_is_directory=True)
    (root / "ppo" / "Link-v0").mkdir()
    (root / "ppo" / "Link-v0" / "metadata.json").symlink_to(outside / "secret" / "metadata.json")
    meta = json.loads((root / "ppo" / "CartPole-v1" / "metadata.json").read_text())
    for env, model_file in (("Escape-v0", "../../../outside/secret/model.npz"),
                            ("Absolute-v0", str(outside / "secret" / "model.npz")),
                            ("Sub-v0", "sub/model.npz"), ("Linked-v0", "model.npz")):
        folder = root / "ppo" / env
        folder.mkdir()
        (folder / "metadata.json").write_text(json.dumps(dict(meta, env_id=env, model_file=model_file)))
    (root / "ppo" / "Sub-v0" / "sub").mkdir()
    shutil.copy(outside / "secret" / "model.npz", root / "ppo" / "Sub-v0" / "sub" / "model.npz")
    (root / "ppo" / "Linked-v0" / "model.npz").symlink_to(outside / "secret" / "model.npz")
    monkeypatch.setattr(agents_zoo, "ROOT", str(root))
    return root


def test_the_index_holds_real_folders_with_a_metadata_file(zoo):
    assert sorted(m["env_id"] for m in agents_zoo.list()) == ["Absolute-v0", "CartPole-v1", "Escape-v0",
                                                              "Linked-v0", "Sub-v0"]
    assert agents_zoo.load("ppo", "CartPole-v1").num_timesteps > 0
    assert agents_zoo.agent_dir("PPO", "CartPole-v1") == str(zoo / "ppo" / "CartPole-v1")


@pytest.mark.parametrize("algo, env_id", [
    ("ppo", "../../outside/secret"), ("ppo", "../CartPole-v1"), ("..", "outside/secret"), ("../zoo/ppo", "CartPole-v1"),
    ("ppo", "/etc"), ("/tmp", "x"), ("ppo", "%2e%2e/%2e%2e/outside/secret"), ("ppo", "."), ("ppo", ""),
    ("ppo", "Evil-v0"), ("evil", "secret"), ("ppo", "Link-v0"), ("ppo", "CartPole-v1/.."), (None, "CartPole-v1"),
])
def test_anything_else_is_a_key_error_naming_the_agents(zoo, algo, env_id):
    for lookup in (agents_zoo.load, agents_zoo.metadata, agents_zoo.agent_dir):
        with pytest.raises(KeyError, match=r"no zoo agent .* the zoo has: ppo/Absolute-v0, ppo/CartPole-v1"):
            lookup(algo, env_id)


def test_absolute_paths_reach_nothing(zoo):
    with pytest.raises(KeyError):
        agents_zoo.load("ppo", str(zoo / "ppo" / "CartPole-v1"))


@pytest.mark.parametrize("env_id", ["Escape-v0", "Absolute-v0", "Sub-v0", "Linked-v0"])
def test_a_model_file_outside_the_agent_folder_is_refused(zoo, env_id):
    with pytest.raises(ValueError, match="is not a file inside the agent's folder"):
        agents_zoo.load("ppo", env_id)


def test_new_agents_get_plain_folder_names(zoo):
    assert agents_zoo.new_agent_dir("sac", "corenn/ArmReach-v0") == str(zoo / "sac" / "corenn-ArmReach-v0")
    for algo, env_id in (("ppo", "../x"), ("..", "x"), ("ppo", "/abs"), ("ppo", ".hidden")):
        with pytest.raises(ValueError, match="plain algo and env ids"):
            agents_zoo.new_agent_dir(algo, env_id)


def test_the_cli_fallback_reports_a_missing_run_for_unknown_agents(zoo, tmp_path, capsys):
    from rl.cli import main

    assert main(["enjoy", "--algo", "ppo", "--env", "Pendulum-v1", "-f", str(tmp_path), "--no-render"]) == 2
    assert "no trained ppo agent for Pendulum-v1" in capsys.readouterr().err
