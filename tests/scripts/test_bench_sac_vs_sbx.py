"""scripts/bench_sac_vs_sbx.py on Pendulum-v1 with a few dozen steps: one worker's timing record, the
parent pacing its worker processes round-robin, "not installed" libraries, and corenn, SBX and SB3
running the same networks and settings."""
import importlib.util
import json
import math
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["--env", "Pendulum-v1", "--rounds", "2", "--chunk", "10", "--learning-starts", "20", "--warmup", "5"]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_sac_vs_sbx", os.path.join(ROOT, "scripts",
                                                                                   "bench_sac_vs_sbx.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_worker_times_every_round_and_prints_one_json_record(bench, capsys):
    args = bench.parse_args(["--worker", "corenn", "td3", "1", *TINY])
    result = bench.run_worker("corenn", "td3", "1", args)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith(bench.MARK) and json.loads(line[len(bench.MARK):]) == json.loads(json.dumps(result))
    assert result["num_timesteps"] == 20 + 5 + 2 * 10  # learning starts + warm-up + the timed rounds
    assert len(result["steps_per_s"]) == len(result["cpu_ms_per_step"]) == 2
    assert all(math.isfinite(v) and v > 0 for v in result["steps_per_s"] + result["cpu_ms_per_step"])
    assert result["median_steps_per_s"] == pytest.approx(np.median(result["steps_per_s"]))
    assert result["round_started_unix"][0] < result["round_started_unix"][1]
    s = result["settings"]
    assert (s["batch_size"], s["buffer_size"], s["learning_rate"], s["train_freq"], s["gradient_steps"]) == \
        (256, 1_000_000, 3e-4, 1, 1)
    assert (s["policy_delay"], s["target_policy_noise"], s["target_noise_clip"], s["n_critics"]) == (2, 0.2, 0.5, 2)
    assert "sigma=[0.1]" in s["action_noise"]
    assert result["thread_info"]["corenn_blas_num_threads"] == 1


def test_bad_arguments_are_refused_with_a_message(bench, capsys, tmp_path):
    for argv, message in ((["--rounds", "0"], "--rounds must be >= 1"),
                          (["--warmup", "-1"], "--warmup must be >= 0"),
                          (["--json", str(tmp_path / "missing" / "out.json")], "does not exist"),
                          (["--worker", "corenn", "ppo", "1"], "--worker LIB ALGO THREADS")):
        with pytest.raises(SystemExit):
            bench.parse_args(argv)
        assert message in capsys.readouterr().err


def test_parent_reports_a_missing_library_as_not_installed(bench, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "library_available", lambda lib: lib == "corenn")
    out = tmp_path / "bench.json"
    report = bench.main(["--libs", "corenn", "sbx", "--algos", "sac", "--threads", "default", "--json", str(out),
                         *TINY])
    assert json.loads(out.read_text()) == json.loads(json.dumps(report))
    results = report["groups"][0]["results"]
    assert results["sbx"] == {"status": "not installed"}
    corenn = results["corenn"]
    assert corenn["status"] == "ok" and len(corenn["steps_per_s"]) == 2
    assert corenn["thread_info"]["OPENBLAS_NUM_THREADS"] is None  # "default": nothing pinned
    assert corenn["thread_info"]["corenn_blas_num_threads"] == "auto"  # corenn's own default
    assert len(report["load_average"]["before"]) == len(report["load_average"]["after"]) == 3
    table = capsys.readouterr().out
    assert "| algo | threads | corenn steps/s | SBX steps/s | SB3 steps/s | corenn/SBX | corenn/SB3 |" in table
    row = next(ln for ln in table.splitlines() if ln.startswith("| SAC | default (whole machine) |"))
    assert row.split("|")[4].strip() == "not installed" and row.split("|")[6].strip() == "-"


@pytest.mark.parametrize("algo", ["sac", pytest.param("td3", marks=pytest.mark.slow)])
def test_three_libraries_alternate_rounds_with_the_same_settings(bench, algo, capsys):
    for lib in ("sb3", "sbx"):  # find_spec, not importorskip: importing jax here would cost seconds for nothing
        if not bench.library_available(lib):
            pytest.skip(f"{lib} is not installed (pip install -e .[compare])")
    report = bench.main(["--libs", "corenn", "sbx", "sb3", "--algos", algo, "--threads", "1", *TINY])
    results = report["groups"][0]["results"]
    assert {lib: r["status"] for lib, r in results.items()} == {"corenn": "ok", "sbx": "ok", "sb3": "ok"}
    started = [[results[lib]["round_started_unix"][r] for lib in ("corenn", "sbx", "sb3")] for r in range(2)]
    assert started[0] + started[1] == sorted(started[0] + started[1])  # corenn, SBX, SB3, corenn, SBX, SB3
    settings = {lib: r["settings"] for lib, r in results.items()}
    sbx = settings["sbx"]
    assert (sbx.pop("qf_learning_rate"), sbx.pop("dropout_rate"), sbx.pop("layer_norm")) == (3e-4, 0.0, False)
    assert settings["corenn"] == settings["sbx"] == settings["sb3"]  # incl. weight counts: same 256x256 nets
    obs, act = 3, 1  # Pendulum-v1; SAC's actor outputs a mean and a log-std per action dimension
    hidden = (obs * 256 + 256) + (256 * 256 + 256)
    assert settings["corenn"]["actor_weights"] == hidden + (256 + 1) * act * (2 if algo == "sac" else 1)
    assert settings["corenn"]["critic_weights"] == 2 * ((obs + act) * 256 + 256 + 256 * 256 + 256 + 257)
    for lib in ("sbx", "sb3"):
        assert results[lib]["thread_info"]["torch_threads"] == 1
        assert results[lib]["thread_info"]["XLA_FLAGS"] == bench.XLA_ONE_THREAD
    row = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(f"| {algo.upper()} | 1 (one core) |"))
    assert all(c.strip().endswith("x") for c in row.split("|")[6:8])


def test_a_failing_worker_is_reported_with_its_error(bench, capsys):
    report = bench.main(["--libs", "corenn", "--algos", "td3", "--threads", "1", *TINY[2:], "--env", "NoSuchEnv-v0"])
    status = report["groups"][0]["results"]["corenn"]["status"]
    assert status.startswith("failed: corenn/td3/threads=1 exited with status 1") and "NoSuchEnv" in status
    out = capsys.readouterr().out
    assert "| TD3 | 1 (one core) | failed | not run | not run | - | - |" in out and "Failures:" in out
