"""`python -m rl tune` (rl.distributed.tune): rl-zoo3's search spaces resolve to constructor arguments,
a study whose trials run as Ray tasks prunes a clearly worse trial, writes a YAML that
`python -m rl train --conf-file` trains with, and resumes from its storage; local processes and
an SQLite storage; the --conf-file reader's errors."""

import os
import sys

import pytest
import yaml

from rl.cli import main
from rl.distributed.search_spaces import SEARCH_SPACES
from rl.distributed.tune import TuneConfig, make_storage
from tests.rl._ray_session import ray_local  # noqa: F401  (the session's shared Ray instance)


@pytest.fixture
def optuna():
    return pytest.importorskip("optuna")


# PPO on CartPole: rl-zoo3's tuned values (a good trial) and the same with a learning rate too small to learn
GOOD = dict(n_steps=32, batch_size=64, n_epochs=10, learning_rate=0.002, one_minus_gamma=0.02,
            one_minus_gae_lambda=0.05, ent_coef=1e-8, clip_range=0.2, max_grad_norm=0.5, net_arch="small",
            activation_fn="tanh")
BAD = dict(GOOD, learning_rate=1e-5, n_epochs=1)
TUNE = ["--n-timesteps", "2048", "--n-envs", "8", "--n-evaluations", "2", "--eval-episodes", "3",
        "--n-startup-trials", "1", "--n-warmup-steps", "1"]


@pytest.mark.parametrize("algo, env_id", [("ppo", "CartPole-v1"), ("a2c", "CartPole-v1"), ("dqn", "CartPole-v1"),
                                          ("sac", "Pendulum-v1"), ("td3", "Pendulum-v1"), ("ddpg", "Pendulum-v1")])
def test_search_space_samples_build_agents(optuna, algo, env_id):
    from rl import ALGOS
    from rl.core.vec_env import make_vec_env
    from rl.hyperparams import resolve

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), direction="maximize")
    env = make_vec_env(env_id, n_envs=1, seed=0)
    for _ in range(3):
        trial = study.ask()
        hyperparams = SEARCH_SPACES[algo](trial)
        assert isinstance(hyperparams["policy_kwargs"], str)  # YAML form, as rl/hyperparams files write it
        yaml.safe_load(yaml.safe_dump(hyperparams))  # and it survives a YAML file
        hp = resolve(algo, env_id, dict(hyperparams, buffer_size=1000) if "buffer_size" in hyperparams
                     else hyperparams, n_envs=1)
        model = ALGOS[algo](hp.policy, env, **hp.kwargs)
        assert model.gamma == pytest.approx(hyperparams["gamma"])
        study.tell(trial, 0.0)
    env.close()
    assert "one_minus_gamma" in trial.params or "gamma" in trial.params  # rl-zoo3's parameter names


def _study(optuna, tmp_path, storage=None):
    config = TuneConfig(algo="ppo", env="CartPole-v1", log_folder=str(tmp_path), storage=storage)
    return config, optuna.create_study(study_name=config.name, storage=make_storage(config.storage_url),
                                       direction="maximize", load_if_exists=True)


def test_ray_study_prunes_a_worse_trial_writes_a_yaml_that_trains_and_resumes(optuna, ray_local, tmp_path,  # noqa: F811
                                                                             capsys):
    config, study = _study(optuna, tmp_path)
    study.enqueue_trial(GOOD)
    study.enqueue_trial(BAD)
    argv = ["tune", "--algo", "ppo", "--env", "CartPole-v1", "--n-trials", "2", "--n-jobs", "1", "-f", str(tmp_path),
            *TUNE]
    assert main(argv) == 0
    trials = optuna.load_study(study_name=config.name, storage=make_storage(config.storage_url)).trials
    assert [t.state.name for t in trials] == ["COMPLETE", "PRUNED"]
    assert trials[0].value > max(trials[1].intermediate_values.values())
    best = os.path.join(config.study_dir, "best.yml")
    entry = yaml.safe_load(open(best))["CartPole-v1"]
    assert entry["learning_rate"] == pytest.approx(0.002) and entry["n_epochs"] == 10
    assert entry["gamma"] == pytest.approx(0.98) and entry["n_envs"] == 8
    assert entry["policy_kwargs"] == "dict(net_arch=dict(pi=[64, 64], vf=[64, 64]), activation_fn=nn.Tanh)"
    assert "--conf-file" in capsys.readouterr().out

    runs = tmp_path / "runs"
    assert main(["train", "--algo", "ppo", "--env", "CartPole-v1", "--conf-file", best, "-n", "256", "-f", str(runs),
                 "--eval-freq", "-1", "-tb", str(tmp_path / "tb"), "-v", "0"]) == 0
    used = yaml.safe_load((runs / "ppo" / "CartPole-v1_1" / "config.yml").read_text())
    assert used["hyperparams"]["learning_rate"] == pytest.approx(0.002) and used["hyperparams"]["n_epochs"] == 10
    assert str(best) in used["hyperparams_entry"]

    capsys.readouterr()  # resume: one more trial brings the study to three; the first two are not rerun
    assert main([*argv[:6], "3", *argv[7:]]) == 0
    assert "2 trials finished, 1 to run" in capsys.readouterr().out
    assert len(optuna.load_study(study_name=config.name, storage=make_storage(config.storage_url)).trials) == 3


def test_local_processes_with_sqlite_storage(optuna, tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    config, study = _study(optuna, tmp_path, storage)
    study.enqueue_trial(GOOD)
    study.enqueue_trial(BAD)  # both fixed: a random draw could cost a 16k-step rollout
    out = tmp_path / "tuned.yml"
    argv = ["tune", "--algo", "ppo", "--env", "CartPole-v1", "--n-trials", "2", "--n-jobs", "2", "--backend", "local",
            "--storage", storage, "--sampler", "random", "--pruner", "none", "-f", str(tmp_path), "-o", str(out), *TUNE]
    assert main(argv) == 0
    trials = optuna.load_study(study_name=config.name, storage=storage).trials
    assert sorted(t.state.name for t in trials) == ["COMPLETE", "COMPLETE"]
    assert yaml.safe_load(out.read_text())["CartPole-v1"]["n_envs"] == 8
    assert (tmp_path / "tune" / "ppo" / "CartPole-v1" / "trials.csv").read_text().count("COMPLETE") == 2


def test_tune_and_conf_file_errors(tmp_path, capsys):
    assert main(["tune", "--algo", "qlearning", "--env", "FrozenLake-v1", "--backend", "local", "-f",
                 str(tmp_path)]) == 2
    assert "no search space for 'qlearning'" in capsys.readouterr().err
    base = ["train", "--algo", "ppo", "--env", "CartPole-v1", "-f", str(tmp_path / "runs"), "--conf-file"]
    assert main(base + [str(tmp_path / "missing.yml")]) == 2
    assert "missing.yml does not exist" in capsys.readouterr().err
    other = tmp_path / "other.yml"
    other.write_text("Pendulum-v1:\n  n_steps: 64\n")
    assert main(base + [str(other)]) == 2
    assert "no entry for 'CartPole-v1' and no 'default' entry (entries: Pendulum-v1)" in capsys.readouterr().err
    other.write_text("- a list\n")
    assert main(base + [str(other)]) == 2
    assert "must map env ids" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_missing_optuna_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    assert main(["tune", "--algo", "ppo", "--env", "CartPole-v1", "--backend", "local", "-f", str(tmp_path)]) == 2
    assert "needs Optuna: pip install 'corenn[distributed]'" in capsys.readouterr().err
