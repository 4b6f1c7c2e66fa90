"""blas_num_threads="auto": threads from the matmul size and the free cores, applied and restored, re-checked."""
import numpy as np
import pytest
from threadpoolctl import threadpool_info

import rl
from rl.core import blas_threads as bt
from rl.core.callbacks import BaseCallback


def blas_threads_now() -> int:
    return max(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")


def test_size_cap_gives_one_thread_per_2_pow_23_multiply_adds():
    assert bt.size_cap(64 * 64 * 64, cpus=16) == 1
    assert bt.size_cap(256 * 256 * 256, cpus=16) == 2
    assert bt.size_cap(256 * 256 * 256 * 8, cpus=16) == 16
    assert bt.size_cap(256 * 256 * 256 * 8, cpus=4) == 4


def test_free_cores_counts_idle_time_and_our_own_cpu_time():
    # 4 CPUs for 1 s = 400 jiffies: 100 idle, we used 2 CPU s, so others used 1 core
    before, now = ((0.0, 0.0), 10.0, 0.0), ((100.0, 400.0), 12.0, 1.0)
    assert bt.free_cores(4, before, now, machine=4) == pytest.approx(3.0)
    # nobody else: all busy time is ours
    assert bt.free_cores(4, ((0.0, 0.0), 0.0, 0.0), ((0.0, 400.0), 4.0, 1.0), machine=4) == pytest.approx(4.0)
    # a machine of 8 where our affinity allows 2: never more than 2
    assert bt.free_cores(2, ((0.0, 0.0), 0.0, 0.0), ((800.0, 800.0), 0.0, 1.0), machine=8) == 2.0


def test_auto_applies_its_choice_rechecks_and_restores(monkeypatch):
    start = blas_threads_now()
    choices = iter([2.0, 0.9, 2.0])
    monkeypatch.setattr(bt, "_last_free", None)  # no measurement from an earlier learn() to reuse
    monkeypatch.setattr(bt, "free_cores", lambda *a, **k: next(choices))
    auto = bt.AutoBlasThreads(256 * 256 * 256, cpus=2, recheck_seconds=0.0)
    assert auto.cap == 2
    assert auto.start(probe_seconds=0.0) == 2 and blas_threads_now() == 2
    assert auto.maybe_update() == 1 and blas_threads_now() == 1  # another process took a core
    assert auto.maybe_update() == 2 and auto.changes == 2
    auto.stop()
    assert blas_threads_now() == start


def test_a_learn_call_soon_after_another_reuses_its_measurement(monkeypatch):
    monkeypatch.setattr(bt, "_last_free", None)
    probes = []
    monkeypatch.setattr(bt, "free_cores", lambda *a, **k: probes.append(1) or 2.0)
    for _ in range(3):
        auto = bt.AutoBlasThreads(256 * 256 * 256, cpus=2)
        assert auto.start(probe_seconds=0.0) == 2
        auto.stop()
    assert len(probes) == 1


def test_a_reused_count_is_re_measured_over_the_new_call_alone(monkeypatch):
    """Benchmarks taking turns: the gap since the last measurement was busy, this call's own first second is not."""
    monkeypatch.setattr(bt, "_last_free", None)
    readings = iter([1.0, 2.0])  # busy while the other process ran, quiet once it stopped
    windows = []

    def fake_free(cpus, before, now, machine=None):
        windows.append((before[2], now[2]))
        return next(readings)
    monkeypatch.setattr(bt, "free_cores", fake_free)
    first = bt.AutoBlasThreads(256 * 256 * 256, cpus=2)
    assert first.start(probe_seconds=0.0) == 1
    first.stop()
    clock = [bt.time.monotonic() + 30.0]  # the next learn() call, 30 s later: the count is reused...
    monkeypatch.setattr(bt.time, "monotonic", lambda: clock[0])
    second = bt.AutoBlasThreads(256 * 256 * 256, cpus=2)
    assert second.start() == 1 and len(windows) == 1
    clock[0] += bt.FIRST_RECHECK_SECONDS * 0.5
    assert second.maybe_update() == 1 and len(windows) == 1
    clock[0] += bt.FIRST_RECHECK_SECONDS  # ...and re-measured over this call's first second only
    assert second.maybe_update() == 2
    assert windows[-1][1] - windows[-1][0] == pytest.approx(1.5 * bt.FIRST_RECHECK_SECONDS)
    second.stop()


def test_small_nets_stay_on_one_thread_without_measuring(monkeypatch):
    monkeypatch.setattr(bt, "free_cores", lambda *a, **k: pytest.fail("measured free cores for a 1-thread cap"))
    auto = bt.AutoBlasThreads(64 * 64 * 64, cpus=8, recheck_seconds=0.0)
    assert auto.start() == 1 and auto.maybe_update() == 1
    auto.stop()


def test_sac_learn_uses_auto_by_default_and_logs_the_choice(monkeypatch):
    monkeypatch.setattr(bt, "free_cores", lambda *a, **k: 2.0)
    monkeypatch.setattr(bt, "usable_cpus", lambda: 2)
    monkeypatch.setattr(bt, "_last_free", None)
    seen = []

    class Probe(BaseCallback):
        def _on_step(self) -> bool:
            seen.append(blas_threads_now())
            return True

    start = blas_threads_now()
    model = rl.SAC("MlpPolicy", "Pendulum-v1", learning_starts=20, batch_size=256, seed=0,
                   policy_kwargs=dict(net_arch=[256, 256]))
    assert model.blas_num_threads == "auto" and model._largest_matmul_macs() == 256 * 256 * 256
    model.learn(30, callback=Probe())
    assert model.blas_threads_used == 2 and set(seen) == {2}
    assert blas_threads_now() == start


def test_an_int_pins_the_threads_and_reproduces_exactly():
    def run():
        model = rl.SAC("MlpPolicy", "Pendulum-v1", learning_starts=20, batch_size=64, seed=3, blas_num_threads=1,
                       policy_kwargs=dict(net_arch=[32, 32]))
        model.learn(40)
        return np.concatenate([p.data.ravel() for p in model.policy.parameters()])

    np.testing.assert_array_equal(run(), run())


@pytest.mark.parametrize("bad", ["many", 0, 2.5])
def test_bad_thread_settings_are_refused_by_name(bad):
    with pytest.raises(ValueError, match="blas_num_threads must be an int in \\[1, 1024\\], or 'auto'"):
        rl.SAC("MlpPolicy", "Pendulum-v1", blas_num_threads=bad)
