"""`python -m rl benchmark` (rl.distributed): a sweep on a local Ray instance, a worker killed mid-run
whose task is retried and resumes from its checkpoint, a rerun that skips finished runs; the IQM and
stratified bootstrap of rl.distributed.stats."""

import json
import os
import sys

import numpy as np
import pytest

from rl.cli import main
from rl.distributed.curves import mean_curve
from rl.distributed.runs import RunSpec, latest_checkpoint, merged_eval_curve
from rl.distributed.stats import aggregate, iqm, min_max_normalize, stratified_bootstrap_ci, summarize
from tests.rl._ray_session import ray_local  # noqa: F401  (the session's shared Ray instance)

TINY = ["-n", "512", "--eval-freq", "256", "--eval-episodes", "2", "--final-eval-episodes", "2", "--n-envs", "1"]


# ---- statistics ----------------------------------------------------------------------------------

def test_iqm_matches_scipy_trim_mean():
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for n in (1, 3, 4, 5, 8, 13):
        x = rng.normal(size=n)
        assert iqm(x) == pytest.approx(scipy_stats.trim_mean(x, 0.25))
    x = rng.normal(size=(6, 5))
    assert iqm(x) == pytest.approx(scipy_stats.trim_mean(x, 0.25, axis=None))
    np.testing.assert_allclose(iqm(x, axis=0), scipy_stats.trim_mean(x, 0.25, axis=0))
    assert iqm([0.0, 1.0, 2.0, 100.0]) == pytest.approx(1.5)  # the outliers 0 and 100 are dropped


def test_bootstrap_is_stratified_by_task():
    # each task's runs agree, tasks differ: resampling within tasks always gives the same IQM,
    # resampling across tasks would not
    scores = np.array([[0.0, 10.0, 20.0]] * 4)
    lo, hi = stratified_bootstrap_ci(scores)
    assert lo == hi == pytest.approx(iqm(scores))
    rng = np.random.default_rng(1)
    noisy = rng.normal(5.0, 1.0, size=(10, 1))
    lo, hi = stratified_bootstrap_ci(noisy, confidence=0.95)
    assert lo < iqm(noisy) < hi
    lo90, hi90 = stratified_bootstrap_ci(noisy, confidence=0.5)
    assert lo <= lo90 and hi90 <= hi  # a lower confidence gives a narrower interval
    with pytest.raises(ValueError, match="finite"):
        stratified_bootstrap_ci([1.0, np.nan])


def test_summary_and_normalised_aggregate():
    scores = {("a", "e1"): [1.0, 2.0, 3.0], ("b", "e1"): [3.0, 3.0, 3.0],
              ("a", "e2"): [-10.0, -10.0, -10.0], ("b", "e2"): [0.0, 0.0, 0.0]}
    rows = {(r["algo"], r["env"]): r for r in summarize(scores)}
    assert rows[("a", "e1")]["mean"] == pytest.approx(2.0)
    assert rows[("a", "e1")]["std"] == pytest.approx(1.0)  # sample std across seeds
    assert rows[("b", "e1")]["iqm_lo"] == rows[("b", "e1")]["iqm_hi"] == pytest.approx(3.0)
    normalized = min_max_normalize(scores)
    np.testing.assert_allclose(normalized[("a", "e1")], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(normalized[("b", "e2")], [1.0, 1.0, 1.0])
    totals = {t["algo"]: t for t in aggregate(scores)}
    assert totals["b"]["iqm"] == pytest.approx(1.0) and totals["a"]["iqm"] < 0.5


def test_mean_curve_interpolates_seeds_without_extrapolating():
    x, mean, std = mean_curve([([0, 10], [0.0, 10.0]), ([0, 5, 10], [0.0, 5.0, 20.0]), ([0, 5], [2.0, 2.0])])
    np.testing.assert_allclose(x, [0, 5, 10])
    np.testing.assert_allclose(mean, [2 / 3, 4.0, 15.0])  # the third seed stops at step 5
    np.testing.assert_allclose(std[2], 5.0)
    assert mean_curve([([], [])]) is None


# ---- command-line errors (no Ray needed) ---------------------------------------------------------

def test_bad_algo_env_or_params_fail_before_ray_starts(tmp_path, capsys):
    base = ["benchmark", "--seeds", "1", "-f", str(tmp_path / "b")]
    assert main(base + ["--algos", "nope", "--envs", "CartPole-v1"]) == 2
    assert "unknown algorithm 'nope'" in capsys.readouterr().err
    assert main(base + ["--algos", "ppo", "--envs", "NoSuchEnv-v0"]) == 2
    assert "unknown environment" in capsys.readouterr().err
    assert main(base + ["--algos", "ppo", "--envs", "CartPole-v1", "-params", "not_a_ppo_arg:1"]) == 2
    assert "does not take not_a_ppo_arg" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_missing_ray_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    assert main(["benchmark", "--algos", "ppo", "--envs", "CartPole-v1", "--seeds", "1", "-f", str(tmp_path)]) == 2
    assert "needs Ray: pip install 'corenn[distributed]'" in capsys.readouterr().err


# ---- a sweep on Ray ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sweep(ray_local, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("bench")
    argv = ["benchmark", "--algos", "ppo,a2c", "--envs", "CartPole-v1,Pendulum-v1", "--seeds", "1", "-f", str(out),
            *TINY]
    assert main(argv) == 0
    return out, argv


def test_two_by_two_sweep_gathers_every_result(sweep):
    out, _ = sweep
    table = json.loads((out / "results.json").read_text())
    assert {(r["algo"], r["env"]) for r in table["rows"]} == {(a, e) for a in ("ppo", "a2c")
                                                              for e in ("CartPole-v1", "Pendulum-v1")}
    for run in table["runs"]:
        assert np.isfinite(run["score"]) and run["resumed_from_step"] is None and run["attempts"] == 1
        folder = out / "seed0" / run["algo"] / f"{run['env']}_1"
        assert (folder / f"{run['env']}.npz").is_file()
        assert list(folder.glob("rl_model_*_steps.npz")), "no checkpoint was written"
        assert list(folder.glob("*/events.out.tfevents.*")), "no TensorBoard log"
    cartpole = [r for r in table["runs"] if r["env"] == "CartPole-v1"]
    assert all(1.0 <= r["score"] <= 500.0 for r in cartpole)
    markdown = (out / "results.md").read_text()
    assert "IQM [95% CI]" in markdown and "| ppo | Pendulum-v1 | 1 | 512 |" in markdown
    assert (out / "results.csv").read_text().splitlines()[0].startswith("algo,env,n,mean,std,iqm,iqm_lo,iqm_hi")
    pytest.importorskip("matplotlib")
    for env in ("CartPole-v1", "Pendulum-v1"):
        assert (out / f"curves_{env}.png").stat().st_size > 1000


def test_rerun_skips_finished_runs(sweep, capsys):
    out, argv = sweep
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and "seed0" in p.parts}
    capsys.readouterr()
    assert main(argv) == 0
    assert "4 of 4 runs already finished" in capsys.readouterr().out
    after = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and "seed0" in p.parts}
    assert after == before  # no run folder, log, checkpoint or result was touched: nothing trained


def test_rerun_with_other_settings_is_refused(sweep, capsys):
    out, argv = sweep
    assert main([*argv[:-len(TINY)], *TINY[2:], "-n", "1024"]) == 2
    assert "other settings (n_timesteps 512 there, 1024 now)" in capsys.readouterr().err


def _kill_once_ppo(marker: str, kill_at: int, starts: str):
    """PPO whose worker process dies (os._exit) once, the first time training passes `kill_at` steps;
    every learn() appends the step it starts from to `starts`. Defined in a function, so Ray ships
    the class by value."""
    from rl import PPO
    from rl.core.callbacks import BaseCallback

    class KillOnce(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps >= kill_at and not os.path.exists(marker):
                open(marker, "w").close()
                os._exit(1)
            return True

    class KillOncePPO(PPO):
        def learn(self, total_timesteps, callback=None, **kwargs):
            with open(starts, "a") as fh:
                fh.write(f"{self.num_timesteps}\n")
            callbacks = list(callback) if isinstance(callback, list) else [callback] if callback else []
            return super().learn(total_timesteps, callback=[*callbacks, KillOnce()], **kwargs)

    return KillOncePPO


def test_killed_worker_is_retried_and_resumes_from_its_checkpoint(ray_local, tmp_path):  # noqa: F811
    from rl.distributed.benchmark import BenchmarkConfig, run_benchmark

    marker, starts = str(tmp_path / "killed"), str(tmp_path / "starts.txt")
    algos = {"ppo": _kill_once_ppo(marker, kill_at=700, starts=starts)}
    config = BenchmarkConfig(algos=["ppo"], envs=["CartPole-v1"], seeds=1, n_timesteps=1024, out_dir=str(tmp_path),
                             eval_freq=256, save_freq=256, eval_episodes=2, final_eval_episodes=2, n_envs=1,
                             max_retries=2)
    report = run_benchmark(config, algos=algos, log=lambda line: None)
    assert os.path.exists(marker), "the worker was never killed"
    assert not report.failures and len(report.results) == 1
    result = report.results[0]
    assert result["resumed_from_step"] == 512 and result["attempts"] == 2  # checkpoints at 256 and 512, killed at 700
    with open(starts) as fh:
        assert [int(line) for line in fh] == [0, 512]  # the retry started from the checkpoint's step, not 0
    spec = RunSpec(algo="ppo", env="CartPole-v1", seed=0, n_timesteps=1024, out_dir=str(tmp_path), eval_freq=256,
                   save_freq=256, eval_episodes=2, final_eval_episodes=2, n_envs=1, save_replay_buffer=False)
    model = algos["ppo"].load(result["model"])
    assert model.num_timesteps == 1024 and result["model"].endswith(os.path.join("CartPole-v1_2", "CartPole-v1.npz"))
    steps, means = merged_eval_curve(spec)
    assert steps == [256, 512, 768, 1024] and len(means) == 4  # the first attempt's curve up to 512, then the retry's
    assert latest_checkpoint(spec)[1] == 1024
