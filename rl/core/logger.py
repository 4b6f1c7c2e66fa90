"""Training logger with SB3's shape: `Logger`, `configure(folder, format_strings)`, the output formats
(`logger_formats.py`: stdout table, log.txt, progress.csv, progress.json, TensorBoard events through the
`tensorboard` package, no torch), the media values (`logger_media.py`: Image, Video, Figure, HParam);
plus a tqdm progress bar.

    logger = configure_logger(verbose=1, tensorboard_log="tb", tb_log_name="PPO")
    logger.record("rollout/ep_rew_mean", 21.5)
    logger.record_mean("train/loss", 0.3)
    logger.dump(step=num_timesteps)
"""

from __future__ import annotations

import datetime
import glob
import os
import tempfile
from collections import defaultdict

from .logger_formats import (
    CSVOutputFormat,
    FormatUnsupportedError,
    HumanOutputFormat,
    JSONOutputFormat,
    KVWriter,
    SeqWriter,
    TensorBoardOutputFormat,
    filter_excluded_keys,
    make_output_format,
)
from .logger_media import Figure, HParam, Image, Video

__all__ = ["Logger", "configure", "configure_logger", "get_latest_run_id", "ProgressBar", "make_output_format",
           "KVWriter", "SeqWriter", "HumanOutputFormat", "CSVOutputFormat", "JSONOutputFormat",
           "TensorBoardOutputFormat", "FormatUnsupportedError", "filter_excluded_keys", "Video", "Figure", "Image",
           "HParam", "DEBUG", "INFO", "WARN", "ERROR", "DISABLED"]

DEBUG, INFO, WARN, ERROR, DISABLED = 10, 20, 30, 40, 50


def get_latest_run_id(log_path: str, log_name: str = "") -> int:
    """Largest N among folders `{log_path}/{log_name}_N` (0 if none)."""
    latest = 0
    for path in glob.glob(os.path.join(glob.escape(log_path), f"{glob.escape(log_name)}_[0-9]*")):
        head, _, ext = os.path.basename(path).rpartition("_")
        if head == log_name and ext.isdigit():
            latest = max(latest, int(ext))
    return latest


class Logger:
    """Collects key/values between dumps and writes them to each output format.

    folder: where file formats write (`get_dir()`); output_formats: a list of format objects
    (`KVWriter`s, see `make_output_format`) or of format names ("stdout", "log", "csv", "json",
    "tensorboard"). `logger.output_formats` is that list (append your own `KVWriter` to it).
    exclude: a format name or a tuple of names that should not receive a key.
    """

    def __init__(self, folder: str | None = None, output_formats=("stdout",)):
        self.dir = folder
        self.level = INFO
        self.name_to_value: dict = {}
        self.name_to_count: dict = defaultdict(int)
        self.name_to_excluded: dict = {}
        self.output_formats: list = [make_output_format(f, folder) if isinstance(f, str) else f
                                     for f in output_formats]
        for fmt in self.output_formats:
            if not callable(getattr(fmt, "write", None)):
                raise TypeError(f"an output format needs a write(key_values, key_excluded, step) method, got {fmt!r}")

    @staticmethod
    def to_tuple(string_or_tuple) -> tuple:
        if string_or_tuple is None:
            return ()
        return (string_or_tuple,) if isinstance(string_or_tuple, str) else tuple(string_or_tuple)

    def record(self, key: str, value, exclude=None) -> None:
        """Set `key` to `value` for the next dump (overwrites)."""
        self.name_to_value[key] = value
        self.name_to_excluded[key] = self.to_tuple(exclude)

    def record_mean(self, key: str, value, exclude=None) -> None:
        """Running mean of the values recorded for `key` since the last dump."""
        if value is None:
            return
        count = self.name_to_count[key]
        old = self.name_to_value.get(key, 0.0)
        self.name_to_value[key] = old * count / (count + 1) + float(value) / (count + 1)
        self.name_to_count[key] = count + 1
        self.name_to_excluded[key] = self.to_tuple(exclude)

    def dump(self, step: int = 0) -> None:
        """Write every recorded value at `step`, then clear them (also when a format raises)."""
        try:
            if self.level != DISABLED:
                for fmt in self.output_formats:
                    fmt.write(self.name_to_value, self.name_to_excluded, step)
        finally:
            self.name_to_value.clear()
            self.name_to_count.clear()
            self.name_to_excluded.clear()

    def log(self, *args, level: int = INFO) -> None:
        """Write `args` (joined by spaces) to the text formats when `level` >= the logger's level."""
        if self.level <= level:
            for fmt in self.output_formats:
                if isinstance(fmt, SeqWriter):
                    fmt.write_sequence(list(map(str, args)))

    def debug(self, *args) -> None:
        self.log(*args, level=DEBUG)

    def info(self, *args) -> None:
        self.log(*args, level=INFO)

    def warn(self, *args) -> None:
        self.log(*args, level=WARN)

    def error(self, *args) -> None:
        self.log(*args, level=ERROR)

    def set_level(self, level: int) -> None:
        self.level = level

    def get_dir(self) -> str | None:
        return self.dir

    def close(self) -> None:
        for fmt in self.output_formats:
            fmt.close()
        self.output_formats = []


def configure(folder: str | None = None, format_strings: list | None = None) -> Logger:
    """SB3's `configure`: a Logger writing `format_strings` (default $SB3_LOG_FORMAT, else
    "stdout,log,csv") into `folder` (default $SB3_LOGDIR, else {tempdir}/SB3-{date-time}); set it on
    a model with `model.set_logger(logger)`."""
    if folder is None:
        folder = os.getenv("SB3_LOGDIR")
    if folder is None:
        folder = os.path.join(tempfile.gettempdir(), datetime.datetime.now().strftime("SB3-%Y-%m-%d-%H-%M-%S-%f"))
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"folder must be a path, got {folder!r}")
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    if format_strings is None:
        format_strings = os.getenv("SB3_LOG_FORMAT", "stdout,log,csv").split(",")
    if isinstance(format_strings, str):
        raise TypeError(f"format_strings must be a list of format names, got the string {format_strings!r}")
    format_strings = [f for f in format_strings if f]
    logger = Logger(folder=folder, output_formats=[make_output_format(f, folder) for f in format_strings])
    if format_strings and format_strings != ["stdout"]:
        logger.log(f"Logging to {folder}")
    return logger


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
