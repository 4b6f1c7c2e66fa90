"""Training logger: TensorBoard scalars (through the `tensorboard` package, no torch) and an SB3-style
stdout table; plus a tqdm progress bar.

    logger = configure_logger(verbose=1, tensorboard_log="tb", tb_log_name="PPO")
    logger.record("rollout/ep_rew_mean", 21.5)
    logger.record_mean("train/loss", 0.3)
    logger.dump(step=num_timesteps)
"""

from __future__ import annotations

import glob
import os
import socket
import sys
import time
from collections import defaultdict

import numpy as np

__all__ = ["Logger", "configure_logger", "get_latest_run_id", "ProgressBar"]

_MAX_WIDTH = 36


def get_latest_run_id(log_path: str, log_name: str = "") -> int:
    """Largest N among folders `{log_path}/{log_name}_N` (0 if none)."""
    latest = 0
    for path in glob.glob(os.path.join(glob.escape(log_path), f"{glob.escape(log_name)}_[0-9]*")):
        head, _, ext = os.path.basename(path).rpartition("_")
        if head == log_name and ext.isdigit():
            latest = max(latest, int(ext))
    return latest


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating, np.bool_)) or (
        isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf")


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):<8.3g}".rstrip()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _fmt(value.item())
    return str(value)


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_WIDTH else text[: _MAX_WIDTH - 3] + "..."


class _StdoutFormat:
    """Prints a box table of the current key/values, grouped by their 'prefix/'."""

    def write(self, values: dict, step: int) -> None:
        rows, group = [], None
        for key in sorted(values):
            prefix, sep, name = key.partition("/")
            if sep and prefix != group:
                group = prefix
                rows.append((_truncate(prefix + "/"), ""))
            label = "   " + name if sep else key
            rows.append((_truncate(label), _truncate(_fmt(values[key]))))
        if not rows:
            return
        kw = max(len(k) for k, _ in rows)
        vw = max(len(v) for _, v in rows)
        dashes = "-" * (kw + vw + 7)
        lines = [dashes] + [f"| {k:<{kw}} | {v:<{vw}} |" for k, v in rows] + [dashes]
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()

    def close(self) -> None:
        pass


def _event_file_path(folder: str) -> str:
    """TensorBoard's file name pattern, stamped so that it sorts after any event file already in
    `folder` (TensorBoard reads a run's files in name order; a resumed run must come last)."""
    stamp = int(time.time())
    for name in os.listdir(folder):
        parts = name.split(".")
        if name.startswith("events.out.tfevents.") and len(parts) > 3 and parts[3].isdigit():
            stamp = max(stamp, int(parts[3]) + 1)
    return os.path.join(folder, f"events.out.tfevents.{stamp:010d}.{socket.gethostname()}.{os.getpid()}.corenn")


class _TensorBoardFormat:
    """Writes numeric values as TensorBoard scalar events (one event file in `folder`)."""

    def __init__(self, folder: str):
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        self._event_pb2, self._summary_pb2 = event_pb2, summary_pb2
        os.makedirs(folder, exist_ok=True)
        self.path = _event_file_path(folder)
        self.writer = RecordWriter(open(self.path, "wb"))
        self.writer.write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2").SerializeToString())
        self.writer.flush()

    def write(self, values: dict, step: int) -> None:
        summary = self._summary_pb2.Summary(value=[
            self._summary_pb2.Summary.Value(tag=key, simple_value=float(value))
            for key, value in sorted(values.items()) if _is_number(value)])
        if summary.value:
            event = self._event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
            self.writer.write(event.SerializeToString())
            self.writer.flush()

    def close(self) -> None:
        if not self.writer.closed:
            self.writer.close()


class Logger:
    """Collects key/values between dumps and writes them to each output format.

    output_formats: any of "stdout", "tensorboard" (the latter needs `folder`).
    exclude: a format name or a tuple of names that should not receive this key.
    """

    def __init__(self, folder: str | None = None, output_formats=("stdout",)):
        self.dir = folder
        self.name_to_value: dict = {}
        self.name_to_count: dict = defaultdict(int)
        self.name_to_excluded: dict = {}
        self.output_formats: dict = {}
        for name in output_formats:
            if name == "stdout":
                self.output_formats[name] = _StdoutFormat()
            elif name == "tensorboard":
                if folder is None:
                    raise ValueError("the tensorboard output needs a folder")
                self.output_formats[name] = _TensorBoardFormat(folder)
            else:
                raise ValueError(f"unknown output format {name!r}; use 'stdout' or 'tensorboard'")

    @staticmethod
    def _excluded(exclude) -> tuple:
        if exclude is None:
            return ()
        return (exclude,) if isinstance(exclude, str) else tuple(exclude)

    def record(self, key: str, value, exclude=None) -> None:
        """Set `key` to `value` for the next dump (overwrites)."""
        self.name_to_value[key] = value
        self.name_to_excluded[key] = self._excluded(exclude)

    def record_mean(self, key: str, value, exclude=None) -> None:
        """Running mean of the values recorded for `key` since the last dump."""
        if value is None:
            return
        count = self.name_to_count[key]
        old = self.name_to_value.get(key, 0.0)
        self.name_to_value[key] = old * count / (count + 1) + float(value) / (count + 1)
        self.name_to_count[key] = count + 1
        self.name_to_excluded[key] = self._excluded(exclude)

    def dump(self, step: int = 0) -> None:
        """Write every recorded value at `step`, then clear them."""
        for name, fmt in self.output_formats.items():
            values = {k: v for k, v in self.name_to_value.items() if name not in self.name_to_excluded[k]}
            fmt.write(values, step)
        self.name_to_value.clear()
        self.name_to_count.clear()
        self.name_to_excluded.clear()

    def get_dir(self) -> str | None:
        return self.dir

    def close(self) -> None:
        for fmt in self.output_formats.values():
            fmt.close()
        self.output_formats = {}


def configure_logger(verbose: int = 0, tensorboard_log: str | None = None, tb_log_name: str = "",
                     reset_num_timesteps: bool = True) -> Logger:
    """SB3 semantics: TensorBoard run dir `{tensorboard_log}/{tb_log_name}_{N}`, N = latest + 1, or the
    latest run when reset_num_timesteps=False (resumed training continues the same curves)."""
    formats = ["stdout"] if verbose >= 1 else []
    folder = None
    if tensorboard_log is not None:
        run_id = get_latest_run_id(tensorboard_log, tb_log_name)
        if reset_num_timesteps or run_id == 0:
            run_id += 1
        folder = os.path.join(tensorboard_log, f"{tb_log_name}_{run_id}")
        os.makedirs(folder, exist_ok=True)
        formats.append("tensorboard")
    return Logger(folder, formats)


class ProgressBar:
    """tqdm bar over timesteps: `bar.update(n)`, `bar.close()`."""

    def __init__(self, total: int, initial: int = 0):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=int(total), initial=int(initial), unit="steps", dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        self.bar.update(int(n))

    def close(self) -> None:
        self.bar.close()
