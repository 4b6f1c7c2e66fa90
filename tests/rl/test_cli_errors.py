"""User mistakes on `python -m rl`: one line `error: ...` on stderr, exit status 2, nothing created."""

import os
import subprocess
import sys

import pytest

import rl.pretrained
from rl.cli import main
from rl.cli_checks import int_arg
from tests.rl._fake_algo import FakeAlgo

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture()
def logs(tmp_path):
    return str(tmp_path / "logs")


@pytest.fixture()
def no_sources(monkeypatch):
    """No pretrained agents, so that enjoy/eval report the missing run."""
    monkeypatch.setattr(rl.pretrained, "REGISTRY", rl.pretrained.AgentSourceRegistry(group=None))


def fails(capsys, *argv, algos=None, expect=()):
    """Run the CLI: exit status 2 and one line 'error: ...' holding every string of `expect`."""
    status = main(list(argv), algos=algos)
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for text in expect:
        assert text in err, err
    return err


def train_fails(capsys, logs, *argv, expect=(), algos=None, env="CartPole-v1", algo="ppo"):
    err = fails(capsys, "train", "--algo", algo, "--env", env, "-f", logs, "-v", "0", *argv, algos=algos,
                expect=expect)
    assert not os.path.exists(logs), f"{logs} was created: {os.listdir(logs)}"
    return err


def save_agent(path, algo="ppo", env="CartPole-v1"):
    """An untrained agent file (enough for -i, enjoy and eval)."""
    from rl import ALGOS

    os.makedirs(os.path.dirname(path), exist_ok=True)
    kwargs = {"learning_starts": 0, "buffer_size": 100} if algo == "sac" else {"n_steps": 16}
    return ALGOS[algo]("MlpPolicy", env, seed=0, **kwargs).save(path)


# ---------------------------------------------------------------------------------- train: names
@pytest.mark.parametrize("algo, env, params, expect", [
    ("pop", "CartPole-v1", (), "unknown algorithm 'pop'; available: a2c"),
    ("ppo", "CartPol-v1", (), "unknown environment 'CartPol-v1'; did you mean CartPole-v0, CartPole-v1"),
    ("ppo", "", (), "unknown environment ''"),
    ("ppo", "CartPole-v1", ("n_step:64",), "PPO does not take n_step; it takes"),
    ("ppo", "CartPole-v1", ("n_steps",), "-params expects key:value pairs, got 'n_steps'"),
    ("ppo", "CartPole-v1", ("seed:3",), "-params seed: set it with --seed instead"),
    ("ppo", "CartPole-v1", ("verbose:2",), "-params verbose: set it with -v instead"),
    ("ppo", "CartPole-v1", ("policy_kwargs:dict(net_arch=[abc])",), "policy_kwargs: unknown name 'abc'"),
    ("ppo", "CartPole-v1", ("n_envs:abc",), "n_envs must be a positive whole number, got 'abc'"),
    ("ppo", "CartPole-v1", ("n_timesteps:0",), "n_timesteps must be a positive whole number, got 0"),
    ("ppo", "CartPole-v1", ("policy:3",), "policy must be a policy name such as 'MlpPolicy', got 3"),
])
def test_train_names_what_is_unknown(capsys, logs, algo, env, params, expect):
    train_fails(capsys, logs, *(("-params", *params) if params else ()), algo=algo, env=env, expect=[expect])


# ---------------------------------------------------------------------------------- train: values
@pytest.mark.parametrize("param, name", [
    ("n_steps:abc", "n_steps"), ("n_steps:-4", "n_steps"), ("learning_rate:fast", "learning_rate"),
    ("gamma:2.0", "gamma"), ("batch_size:0", "batch_size"), ("clip_range:lin_-1", "clip_range"),
])
def test_train_bad_values_name_the_parameter(capsys, logs, param, name):
    err = train_fails(capsys, logs, "-params", param)
    assert name in err.split("(from")[0] and err.rstrip().endswith(f"(from -params {param})")


@pytest.mark.parametrize("param, expect", [
    ("policy_kwargs:dict(foo=1)", "unexpected keyword argument 'foo' (from -params policy_kwargs:dict(foo=1))"),
    ("policy:CnnPolicy", "CnnPolicy"),
    ("policy_kwargs:dict(net_arch=[-5])", "net_arch must be a list of positive integer layer widths, got [-5]"),
])
def test_a_value_only_the_constructor_rejects_is_traced_to_its_param(capsys, logs, param, expect):
    err = train_fails(capsys, logs, "-params", "n_epochs:1", param)
    assert expect in err and err.rstrip().endswith(f"(from -params {param})")


class PairAlgo(FakeAlgo):
    """Takes a and b alone, not together; raises ValueError for the YAML entry's c=13 (a bug there)."""

    def __init__(self, policy, env, a=0, b=0, c=0, seed=None, tensorboard_log=None, verbose=0):
        if a and b:
            raise ValueError("a and b exclude each other")
        if c == 13:
            raise ValueError("c=13 is a bug of the YAML entry")
        super().__init__(policy, env, seed=seed, tensorboard_log=tensorboard_log, verbose=verbose)


class InterruptedAlgo(FakeAlgo):
    """Ctrl-C while the agent is being built."""

    def __init__(self, policy, env, seed=None, tensorboard_log=None, verbose=0):
        raise KeyboardInterrupt


def test_values_that_fail_together_are_named_together(capsys, logs):
    err = train_fails(capsys, logs, "-params", "a:1", "b:1", algo="pair", algos={"pair": PairAlgo})
    assert "a and b exclude each other (from -params a:1, -params b:1 together)" in err


def test_a_bad_yaml_entry_is_a_bug_and_raises(logs, monkeypatch):
    import rl.hyperparams.resolution as resolution

    monkeypatch.setattr(resolution, "load_hyperparams", lambda algo, env_id: ({"c": 13}, env_id))
    with pytest.raises(ValueError, match="c=13 is a bug"):
        main(["train", "--algo", "pair", "--env", "CartPole-v1", "-f", logs, "-params", "a:1"],
             algos={"pair": PairAlgo})


@pytest.mark.parametrize("algo, env, expect", [
    ("dqn", "Pendulum-v1", "DQN cannot be used on Pendulum-v1: DQN supports only Discrete action spaces"),
    ("qlearning", "CartPole-v1", "QLearning cannot be used on CartPole-v1: tabular methods need a Discrete"),
])
def test_an_env_the_algorithm_cannot_handle(capsys, logs, algo, env, expect):
    train_fails(capsys, logs, algo=algo, env=env, expect=[expect])


@pytest.mark.parametrize("argv, expect", [
    (("-n", "-5"), "argument -n/--n-timesteps: must be >= 1 (or -1: the YAML's), got -5"),
    (("-n", "0"), "argument -n/--n-timesteps: must be >= 1"),
    (("-n", "2.5"), "argument -n/--n-timesteps: expected an integer, got '2.5'"),
    (("--n-envs", "0"), "argument --n-envs: must be >= 1, got 0"),
    (("--n-envs", "-3"), "argument --n-envs: must be >= 1, got -3"),
    (("--eval-episodes", "0"), "argument --eval-episodes: must be >= 1, got 0"),
    (("--seed", "-1"), "argument --seed: must be in [0, 4294967295], got -1"),
    (("-v", "7"), "argument -v/--verbose: must be in [0, 2], got 7"),
    (("-params",), "argument -params/--hyperparams: expected at least one argument"),
])
def test_train_flag_ranges(capsys, logs, argv, expect):
    err = train_fails(capsys, logs, *argv, expect=[expect])
    assert "(see python -m rl train --help)" in err


def test_counts_accept_scientific_notation():
    assert int_arg(1)("1e5") == 100_000 and int_arg(1)("1_000") == 1000
    assert int_arg(1, also=(-1,))("-1") == -1


def test_missing_arguments_are_one_line(capsys):
    fails(capsys, "train", "--algo", "ppo", expect=["the following arguments are required: --env"])


def test_unwritable_output_folders(capsys, tmp_path, logs):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    train_fails(capsys, str(a_file / "logs"), expect=[f"-f {a_file / 'logs'}: {a_file} is not a folder"])
    train_fails(capsys, logs, "-tb", str(a_file / "tb"), expect=[f"-tb {a_file / 'tb'}: {a_file} is not a folder"])


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes everywhere")
def test_a_read_only_log_folder(capsys, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        train_fails(capsys, str(folder / "logs"), expect=["cannot write in", "permission denied"])
    finally:
        folder.chmod(0o755)


# ---------------------------------------------------------------------------------- train: -i
def test_trained_agent_errors(capsys, tmp_path, logs):
    junk = tmp_path / "x.npz"
    junk.write_text("junk\n")
    train_fails(capsys, logs, "-i", "missing.npz", expect=["-i missing.npz does not exist"])
    train_fails(capsys, logs, "-i", str(junk), expect=[f"-i: {junk} is truncated, corrupted or not a checkpoint"])
    train_fails(capsys, logs, "-i", str(tmp_path), expect=[f"-i {tmp_path} is a folder, not an agent file"])
    ppo = save_agent(str(tmp_path / "agents" / "ppo.npz"))
    train_fails(capsys, logs, "-i", ppo, algo="a2c", expect=["-i: ", "holds a PPO agent, not A2C"])
    train_fails(capsys, logs, "-i", ppo, env="Acrobot-v1", expect=["-i: ", "observation space mismatch"])


def test_a_corrupted_replay_buffer_beside_the_agent(capsys, tmp_path, logs):
    sac = save_agent(str(tmp_path / "agents" / "sac.npz"), algo="sac", env="Pendulum-v1")
    (tmp_path / "agents" / "replay_buffer.npz").write_text("junk")
    train_fails(capsys, logs, "-i", sac, algo="sac", env="Pendulum-v1",
                expect=["the replay buffer beside -i: ", "replay_buffer.npz"])


def test_ctrl_c_before_training_creates_nothing(capsys, logs):
    status = main(["train", "--algo", "slow", "--env", "CartPole-v1", "-f", logs], algos={"slow": InterruptedAlgo})
    assert status == 130 and "interrupted" in capsys.readouterr().err
    assert not os.path.exists(logs)


# ---------------------------------------------------------------------------------- enjoy / eval
@pytest.fixture()
def run(logs):
    """A local run logs/ppo/CartPole-v1_1 holding an untrained agent."""
    save_agent(os.path.join(logs, "ppo", "CartPole-v1_1", "CartPole-v1.npz"))
    return os.path.join(logs, "ppo", "CartPole-v1_1")


def test_missing_runs_and_checkpoints(capsys, logs, run, no_sources):
    fails(capsys, "eval", "--algo", "ppo", "--env", "CartPole-v1", "-f", logs, "--exp-id", "7",
          expect=["no trained ppo agent for CartPole-v1", "train one first"])
    fails(capsys, "enjoy", "--algo", "ppo", "--env", "CartPole-v1", "-f", logs, "--no-render",
          "--load-checkpoint", "123", expect=[f"{run}/rl_model_123_steps.npz does not exist; the run folder holds: "
                                              "CartPole-v1.npz"])


def test_load_checkpoint_without_a_run_does_not_fall_back_to_the_zoo(capsys, tmp_path):
    """--load-best and --load-checkpoint name a local run (the zoo has ppo on CartPole-v1)."""
    for flag in (["--load-checkpoint", "123"], ["--load-best"]):
        fails(capsys, "enjoy", "--algo", "ppo", "--env", "CartPole-v1", "-f", str(tmp_path), "--no-render", *flag,
              expect=["no trained ppo agent for CartPole-v1"])


def test_corrupted_and_mismatched_agent_files(capsys, logs, run):
    with open(os.path.join(run, "best_model.npz"), "w") as f:
        f.write("junk\n")
    fails(capsys, "eval", "--algo", "ppo", "--env", "CartPole-v1", "-f", logs, "--load-best",
          expect=["best_model.npz is truncated, corrupted or not a checkpoint"])
    save_agent(os.path.join(logs, "ppo", "Acrobot-v1_1", "Acrobot-v1.npz"))  # a CartPole agent in an Acrobot run
    for command in ("enjoy", "eval"):
        fails(capsys, command, "--algo", "ppo", "--env", "Acrobot-v1", "-f", logs, "--no-render"
              if command == "enjoy" else "--n-episodes=1",
              expect=["the agent does not fit Acrobot-v1: observation space mismatch"])


@pytest.mark.parametrize("argv, expect", [
    (("-n", "0"), "argument -n/--n-timesteps: must be >= 1, got 0"),
    (("--exp-id", "-1"), "argument --exp-id: must be >= 0, got -1"),
    (("--load-checkpoint", "-3"), "argument --load-checkpoint: must be >= 0, got -3"),
    (("--load-best", "--load-checkpoint", "5"), "argument --load-checkpoint: not allowed with argument --load-best"),
    (("--env-kwargs", "foo"), "--env-kwargs expects key:value pairs, got 'foo'"),
    (("--env-kwargs", "foo:1"), "--env-kwargs do not fit CartPole-v1"),
])
def test_enjoy_flags(capsys, logs, run, argv, expect):
    fails(capsys, "enjoy", "--algo", "ppo", "--env", "CartPole-v1", "-f", logs, "--no-render", *argv, expect=[expect])


def test_eval_needs_an_episode(capsys, logs, run):
    fails(capsys, "eval", "--algo", "ppo", "--env", "CartPole-v1", "-f", logs, "--n-episodes", "0",
          expect=["argument --n-episodes: must be >= 1, got 0"])


def test_gif_into_a_place_that_cannot_hold_it(capsys, tmp_path, logs, run):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    enjoy = ("enjoy", "--algo", "ppo", "--env", "CartPole-v1", "-f", logs, "-n", "3", "--gif")
    fails(capsys, *enjoy, str(a_file / "out.gif"), expect=[f"--gif {a_file / 'out.gif'}: {a_file} is not a folder"])
    fails(capsys, *enjoy, str(tmp_path), expect=[f"--gif {tmp_path} is a folder; give a file name"])
    assert not (tmp_path / "out.gif").exists()


def test_a_gif_that_cannot_be_written_at_the_end(capsys, tmp_path, logs, run, monkeypatch):
    from PIL import Image

    def refuse(self, path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(Image.Image, "save", refuse)
    gif = str(tmp_path / "out.gif")
    fails(capsys, "enjoy", "--algo", "ppo", "--env", "CartPole-v1", "-f", logs, "-n", "3", "--gif", gif,
          expect=[f"cannot write the GIF {gif}: Permission denied"])


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes everywhere")
def test_gif_into_a_read_only_folder(capsys, tmp_path, logs, run):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        fails(capsys, "enjoy", "--algo", "ppo", "--env", "CartPole-v1", "-f", logs, "-n", "3", "--gif",
              str(folder / "x.gif"), expect=["cannot write in", "permission denied"])
    finally:
        folder.chmod(0o755)


# ---------------------------------------------------------------------------------- a real process
@pytest.mark.parametrize("argv, expect", [
    (["-params", "n_steps:abc"], "(from -params n_steps:abc)"),
    (["-i", "x.npz"], "x.npz is truncated, corrupted or not a checkpoint"),
])
def test_python_dash_m_rl_prints_one_line_and_exits_2(tmp_path, argv, expect):
    (tmp_path / "x.npz").write_text("junk\n")
    done = subprocess.run([sys.executable, "-m", "rl", "train", "--algo", "ppo", "--env", "CartPole-v1", *argv],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and expect in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert sorted(os.listdir(tmp_path)) == ["x.npz"]  # no logs/ folder
