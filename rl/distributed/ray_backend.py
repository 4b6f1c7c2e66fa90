"""Ray, started or joined once per command, and a bounded pool of Ray tasks.

    started = start_ray(address=None)          # a local Ray instance (or join a cluster: "auto", "ray://host:10001")
    for spec, result, error in run_tasks(fn, specs, max_in_flight=4, max_retries=3):
        ...                                     # as each task finishes; error is None or a one-line message

Each task asks for one CPU, so Ray never runs more tasks on a node than it has cores. A task whose
worker process dies (killed, out of memory, node lost) is retried up to `max_retries` times; an
exception raised by the task itself is not retried (it would fail again) and comes back as `error`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator

from rl.cli_checks import CLIError

__all__ = ["import_ray", "start_ray", "stop_ray", "run_tasks", "LOCAL_OBJECT_STORE_BYTES"]

# Results are small dicts; Ray's default store (30% of memory) would reserve gigabytes of /dev/shm.
LOCAL_OBJECT_STORE_BYTES = 256 * 1024**2


def import_ray():
    """The ray module, or a CLIError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise CLIError("this command needs Ray: pip install 'corenn[distributed]' (or: pip install ray)") from None
    return ray


def start_ray(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Start a local Ray instance (address None) or join the cluster at `address`, unless Ray is
    already initialised in this process (a test's shared instance). Returns True when started here."""
    ray = import_ray()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never phone home
    if ray.is_initialized():
        return False
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=num_cpus, object_store_memory=LOCAL_OBJECT_STORE_BYTES, include_dashboard=False,
                     log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise CLIError(f"cannot start or reach {where}: {' '.join(str(exc).split())[:300]}") from None
    return True


def stop_ray(started: bool) -> None:
    """Shut Ray down if this command started it."""
    if started:
        import_ray().shutdown()


def _one_line(exc: BaseException) -> str:
    """The last meaningful line of a (Ray-wrapped) error."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {' '.join(str(cause).split())}"[:500]
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}"[:500]


def run_tasks(fn: Callable, specs: Iterable, *, max_in_flight: int | None = None, max_retries: int = 3,
              args: tuple = (), name: Callable | None = None) -> Iterator[tuple]:
    """Run `fn(spec, *args)` as one Ray task per spec (one CPU each), at most `max_in_flight` at once
    (None: all submitted together, Ray queues them), and yield (spec, result, error) as each finishes.
    Ctrl-C cancels the tasks still running and re-raises."""
    ray = import_ray()
    remote = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(fn)
    pending = list(specs)[::-1]
    running: dict = {}
    try:
        while pending or running:
            while pending and (max_in_flight is None or len(running) < max_in_flight):
                spec = pending.pop()
                task = remote.options(name=name(spec)) if name is not None else remote
                running[task.remote(spec, *args)] = spec
            done, _ = ray.wait(list(running), num_returns=1)
            spec = running.pop(done[0])
            try:
                yield spec, ray.get(done[0]), None
            except ray.exceptions.RayError as exc:
                yield spec, None, _one_line(exc)
    except KeyboardInterrupt:
        for ref in running:
            ray.cancel(ref, force=True)
        raise
