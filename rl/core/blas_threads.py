"""How many BLAS threads `learn()` uses: an int, None (leave the library alone) or "auto".

"auto" takes the smaller of two numbers and re-checks them while training:
    size cap:    multiply-adds of the largest matmul one update does (batch x fan-in x fan-out of the
                 widest layer) // 2^23, at least 1: a 256-wide net on a batch of 256 (16.8M) gets 2
                 threads, anything of 64x64 layers stays on one, whose GEMMs are too small to split.
    free cores:  the CPUs this process may use minus the work of other processes on them, from
                 /proc/stat (idle time plus our own CPU time, over wall time: a 0.1 s probe at the
                 start unless a learn() call measured in the last minute, whose count it starts from and
                 re-checks over its own first second; then every 10 s), or the 1-minute load average off
                 Linux.
A busy 2-core box thus trains on one thread (OpenBLAS threads that spin-wait for a core another
process holds make a small update ~10x slower), a quiet one on two.

OpenBLAS gives last-bit different sums for different thread counts, so "auto" reproduces a seed bit
for bit only when it picks the same numbers; pass an int for runs that must match exactly.
"""
from __future__ import annotations

import contextlib
import os
import time

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover - threadpoolctl is a dependency; without it limits are no-ops
    ThreadpoolController = None

__all__ = ["AutoBlasThreads", "blas_threads", "free_cores", "largest_matmul_macs", "size_cap", "usable_cpus"]

MACS_PER_THREAD = 1 << 23  # multiply-adds a BLAS thread needs to be worth waking (256^3 -> 2 threads)
RECHECK_SECONDS = 10.0
FIRST_RECHECK_SECONDS = 1.0  # a learn() call that starts from an earlier call's count re-measures this soon
REUSE_SECONDS = 60.0  # a learn() call starting this soon after the last measurement trusts it (no 0.1 s probe)

_controller = None
_last_free: tuple | None = None  # (free cores, the sample it ended at): reused by a learn() call soon after


def _blas_controller():
    global _controller
    if _controller is None and ThreadpoolController is not None:
        _controller = ThreadpoolController()
    return _controller


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def size_cap(largest_matmul_macs: int, cpus: int) -> int:
    """Threads the largest matmul of an update can use: one per 2^23 multiply-adds, within [1, cpus]."""
    return max(1, min(int(cpus), int(largest_matmul_macs) // MACS_PER_THREAD))


def largest_matmul_macs(parameters, rows: int) -> int:
    """Multiply-adds of the largest matmul an update does: rows x (fan-in x fan-out) of the widest weight (one
    member's for ensembles (E, in, out); a conv kernel (out, in, kh, kw) counted over 64 output positions)."""
    widest = 0
    for p in parameters:
        shape = p.data.shape
        if len(shape) in (2, 3):
            widest = max(widest, shape[-2] * shape[-1])
        elif len(shape) == 4:
            widest = max(widest, shape[0] * shape[1] * shape[2] * shape[3] * 64)
    return int(rows) * widest


def _cpu_times() -> tuple[float, float] | None:
    """(idle, total) jiffies over all CPUs from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [float(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    return fields[3] + (fields[4] if len(fields) > 4 else 0.0), sum(fields[:8])


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def free_cores(cpus: int, before: tuple | None = None, now: tuple | None = None, machine: int | None = None) -> float:
    """Cores of our `cpus` that other processes leave free, from two samples ((idle, total jiffies of all
    `machine` CPUs), own CPU s, wall s), else cpus minus the 1-minute load average (which counts us too)."""
    if before is not None and now is not None and before[0] is not None and now[0] is not None:
        idle_j, total_j = now[0][0] - before[0][0], now[0][1] - before[0][1]
        wall = now[2] - before[2]
        if total_j > 0 and wall > 0:
            machine = machine or os.cpu_count() or cpus
            busy_others = machine * (1.0 - idle_j / total_j) - (now[1] - before[1]) / wall
            return max(0.0, min(float(cpus), machine - busy_others))
    try:
        return max(0.0, cpus - os.getloadavg()[0])
    except OSError:  # pragma: no cover
        return float(cpus)


class AutoBlasThreads:
    """The "auto" setting during one learn() call: `start()`, `maybe_update()` between updates, `stop()`.

    `threads` is the current choice; `changes` counts how often it moved after the start.
    """

    def __init__(self, largest_matmul_macs: int, cpus: int | None = None, recheck_seconds: float = RECHECK_SECONDS):
        self.cpus = int(cpus or usable_cpus())
        self.cap = size_cap(largest_matmul_macs, self.cpus)
        self.recheck_seconds = float(recheck_seconds)
        self.threads = 1
        self.changes = 0
        self._limiter = None
        self._sample = None
        self._next_check = 0.0

    def _take_sample(self) -> tuple:
        return _cpu_times(), _own_cpu_seconds(), time.monotonic()

    def _measure(self, before: tuple) -> float:
        """Free cores since `before`; the new sample becomes the next check's start and is shared (_last_free)."""
        global _last_free
        self._sample = self._take_sample()
        free = free_cores(self.cpus, before, self._sample)
        _last_free = (free, self._sample)
        return free

    def _choose(self, free: float) -> int:
        # a core counts as free when at least ~3/4 of it is: a spinning BLAS thread on a shared core is slow
        return max(1, min(self.cap, int(free + 0.25)))

    def _apply(self, n: int) -> None:
        controller = _blas_controller()
        if controller is None:
            return
        limiter = controller.limit(limits=int(n), user_api="blas")
        if self._limiter is None:
            self._limiter = limiter  # restores the limits found at start()
        self.threads = int(n)

    def start(self, probe_seconds: float = 0.1) -> int:
        """Pick the first count from a short /proc/stat probe (the load average off Linux), or from the last
        learn() call's measurement when that is under REUSE_SECONDS old, and apply it."""
        n, next_check = 1, self.recheck_seconds
        if self.cap > 1:
            if _last_free is not None and time.monotonic() - _last_free[1][2] < REUSE_SECONDS:
                # the last count, re-measured soon over this call alone: the gap since that measurement may
                # hold other processes' work that has ended (e.g. benchmarks taking turns)
                free, next_check = _last_free[0], FIRST_RECHECK_SECONDS
                self._sample = self._take_sample()
            else:
                before = self._take_sample()
                time.sleep(probe_seconds if before[0] is not None else 0.0)
                free = self._measure(before)
            n = self._choose(free)
        else:
            self._sample = self._take_sample()
        self._apply(n)
        self._next_check = self._sample[2] + next_check
        return self.threads

    def maybe_update(self) -> int:
        """Re-measure every recheck_seconds; cheap (one clock read) otherwise."""
        if self.cap == 1 or time.monotonic() < self._next_check:
            return self.threads
        n = self._choose(self._measure(self._sample))
        self._next_check = self._sample[2] + self.recheck_seconds
        if n != self.threads:
            self._apply(n)
            self.changes += 1
        return self.threads

    def stop(self) -> None:
        if self._limiter is not None:
            self._limiter.restore_original_limits()
            self._limiter = None


@contextlib.contextmanager
def blas_threads(n, largest_matmul_macs: int = 0):
    """Limit BLAS threads inside the block: an int, None (no change) or "auto" (yields the AutoBlasThreads,
    whose maybe_update() the training loop calls; None is yielded otherwise)."""
    if n is None or _blas_controller() is None:
        yield None
    elif n == "auto":
        auto = AutoBlasThreads(largest_matmul_macs)
        auto.start()
        try:
            yield auto
        finally:
            auto.stop()
    else:
        with _blas_controller().limit(limits=int(n), user_api="blas"):
            yield None
