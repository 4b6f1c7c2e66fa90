"""The logger's output formats, SB3's classes: `HumanOutputFormat` (the stdout table, or a log.txt),
`CSVOutputFormat` (progress.csv), `JSONOutputFormat` (progress.json, one object a line) and
`TensorBoardOutputFormat` (an event file written through the `tensorboard` package, no torch).

Each is a `KVWriter`: `write(key_values, key_excluded, step)` gets every recorded value and, per key, the
tuple of format names ("stdout", "log", "csv", "json", "tensorboard") that must not receive it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

import numpy as np

from .logger_media import (
    Figure,
    HParam,
    Image,
    Video,
    histogram_value,
    hparam_summaries,
    media_summary_values,
    text_value,
)

__all__ = ["KVWriter", "SeqWriter", "FormatUnsupportedError", "HumanOutputFormat", "CSVOutputFormat",
           "JSONOutputFormat", "TensorBoardOutputFormat", "filter_excluded_keys", "make_output_format"]

_MEDIA = ((Video, "video"), (Figure, "figure"), (Image, "image"), (HParam, "hparam"))


class FormatUnsupportedError(NotImplementedError):
    """A value (video, figure, image, hparam) recorded for a format that cannot show it."""

    def __init__(self, unsupported_formats, value_description: str):
        formats = "', '".join(unsupported_formats)
        super().__init__(f"The {value_description} value is not supported by the '{formats}' format(s); exclude "
                         f"them through the `exclude` parameter of the logger's `record` function, e.g. "
                         f"logger.record(key, value, exclude=({', '.join(repr(f) for f in unsupported_formats)},))")


def _check_not_media(value, formats) -> None:
    for cls, name in _MEDIA:
        if isinstance(value, cls):
            raise FormatUnsupportedError(formats, name)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating, np.bool_)) or (
        isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf")


def _is_excluded(key: str, key_excluded: dict, names) -> bool:
    excluded = key_excluded.get(key) or ()
    return any(name in excluded for name in names)


def filter_excluded_keys(key_values: dict, key_excluded: dict, _format: str) -> dict:
    """key_values without the keys whose exclusions name `_format`."""
    return {k: v for k, v in key_values.items() if not _is_excluded(k, key_excluded, (_format,))}


class KVWriter:
    """Writes a dict of key/values once per `Logger.dump`."""

    def write(self, key_values: dict, key_excluded: dict, step: int = 0) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SeqWriter:
    """Writes the text lines of `Logger.log`."""

    def write_sequence(self, sequence) -> None:
        raise NotImplementedError


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{float(value):<8.3g}".rstrip()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _fmt(value.item())
    return str(value)


class HumanOutputFormat(KVWriter, SeqWriter):
    """A box table of the key/values grouped by their 'prefix/', to a file object (sys.stdout: whatever
    sys.stdout is at write time) or a file path; keys excluding "stdout" or "log" are left out."""

    def __init__(self, filename_or_file, max_length: int = 36):
        self.max_length = int(max_length)
        self._stdout = filename_or_file is sys.stdout
        if isinstance(filename_or_file, (str, os.PathLike)):
            self.file, self._own_file = open(filename_or_file, "w"), True
        elif hasattr(filename_or_file, "write"):
            self.file, self._own_file = filename_or_file, False
        else:
            raise TypeError(f"HumanOutputFormat needs a file path or a writable file, got {filename_or_file!r}")

    def _out(self):
        return sys.stdout if self._stdout else self.file

    def _truncate(self, text: str) -> str:
        return text if len(text) <= self.max_length else text[: self.max_length - 3] + "..."

    def write(self, key_values: dict, key_excluded: dict, step: int = 0) -> None:
        rows, group = [], None
        for key in sorted(key_values):
            if _is_excluded(key, key_excluded, ("stdout", "log")):
                continue
            value = key_values[key]
            _check_not_media(value, ["stdout", "log"])
            prefix, sep, name = key.partition("/")
            if sep and prefix != group:
                group = prefix
                rows.append((self._truncate(prefix + "/"), ""))
            label = "   " + name if sep else key
            rows.append((self._truncate(label), self._truncate(_fmt(value))))
        if not rows:
            return
        kw = max(len(k) for k, _ in rows)
        vw = max(len(v) for _, v in rows)
        dashes = "-" * (kw + vw + 7)
        lines = [dashes] + [f"| {k:<{kw}} | {v:<{vw}} |" for k, v in rows] + [dashes]
        out = self._out()
        out.write("\n".join(lines) + "\n")
        out.flush()

    def write_sequence(self, sequence) -> None:
        out = self._out()
        out.write(" ".join(str(s) for s in sequence) + "\n")
        out.flush()

    def close(self) -> None:
        if self._own_file:
            self.file.close()


def _json_value(value):
    _check_not_media(value, ["json"])
    if hasattr(value, "dtype"):  # NumPy scalars and arrays: one value as a float (as SB3 writes it), else a list
        array = np.asarray(value)
        return float(array.item()) if array.size == 1 else array.tolist()
    return value


class JSONOutputFormat(KVWriter):
    """progress.json: one JSON object per dump (arrays as lists)."""

    def __init__(self, filename: str):
        self.file = open(filename, "w")

    def write(self, key_values: dict, key_excluded: dict, step: int = 0) -> None:
        values = {k: _json_value(v) for k, v in filter_excluded_keys(key_values, key_excluded, "json").items()}
        self.file.write(json.dumps(values) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def _csv_cell(value) -> str:
    _check_not_media(value, ["csv"])
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return str(value.item())
    return str(value)


class CSVOutputFormat(KVWriter):
    """progress.csv: a header of keys and one row per dump; a key seen for the first time adds a column
    (the file is rewritten with the wider header, earlier rows left empty there)."""

    def __init__(self, filename: str):
        self.filename = filename
        self.file = open(filename, "w+")
        self.keys: list = []
        self.separator = ","

    def write(self, key_values: dict, key_excluded: dict, step: int = 0) -> None:
        key_values = filter_excluded_keys(key_values, key_excluded, "csv")
        cells = {k: _csv_cell(v) for k, v in key_values.items()}
        extra = sorted(k for k in cells if k not in self.keys)
        if extra:
            self.file.seek(0)
            old_rows = self.file.read().splitlines()[1:]
            self.keys.extend(extra)
            self.file.seek(0)
            self.file.truncate()
            self.file.write(self.separator.join(self.keys) + "\n")
            for row in old_rows:
                self.file.write(row + self.separator * len(extra) + "\n")
        self.file.write(self.separator.join(cells.get(k, "") for k in self.keys) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def _event_file_path(folder: str) -> str:
    """TensorBoard's file name pattern, stamped so that it sorts after any event file already in
    `folder` (TensorBoard reads a run's files in name order; a resumed run must come last)."""
    stamp = int(time.time())
    for name in os.listdir(folder):
        parts = name.split(".")
        if name.startswith("events.out.tfevents.") and len(parts) > 3 and parts[3].isdigit():
            stamp = max(stamp, int(parts[3]) + 1)
    return os.path.join(folder, f"events.out.tfevents.{stamp:010d}.{socket.gethostname()}.{os.getpid()}.corenn")


class TensorBoardOutputFormat(KVWriter):
    """One event file in `folder`: numbers as scalars, strings as text, arrays as histograms, Image /
    Figure as PNG images, Video as an animated GIF image, HParam for the HPARAMS tab."""

    def __init__(self, folder: str):
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.record_writer import RecordWriter

        self._event_pb2, self._summary_pb2 = event_pb2, summary_pb2
        os.makedirs(folder, exist_ok=True)
        self.folder = folder
        self.path = _event_file_path(folder)
        self.writer = RecordWriter(open(self.path, "wb"))
        self._write_event(file_version="brain.Event:2")

    def _write_event(self, **fields) -> None:
        event = self._event_pb2.Event(wall_time=time.time(), **fields)
        self.writer.write(event.SerializeToString())

    def write(self, key_values: dict, key_excluded: dict, step: int = 0) -> None:
        if self.writer.closed:
            raise RuntimeError(f"the TensorBoard writer of {self.folder} was closed; configure a new logger")
        values, hparams = [], []
        for key, value in sorted(filter_excluded_keys(key_values, key_excluded, "tensorboard").items()):
            if isinstance(value, HParam):
                hparams.append(value)
            elif isinstance(value, (Video, Figure, Image)):
                values.extend(media_summary_values(key, value))
            elif _is_number(value):
                values.append(self._summary_pb2.Summary.Value(tag=key, simple_value=float(value)))
            elif isinstance(value, str):
                values.append(text_value(key, value))
            elif isinstance(value, np.ndarray) or hasattr(value, "requires_grad"):
                values.append(histogram_value(key, value))
        if values:
            self._write_event(step=int(step), summary=self._summary_pb2.Summary(value=values))
        for hparam in hparams:
            for summary in hparam_summaries(hparam):
                self._write_event(step=int(step), summary=summary)
        self.writer.flush()

    def close(self) -> None:
        if not self.writer.closed:
            self.writer.close()


def make_output_format(_format: str, log_dir: str, log_suffix: str = "") -> KVWriter:
    """The format named 'stdout', 'log' (log.txt), 'json' (progress.json), 'csv' (progress.csv) or
    'tensorboard', writing into `log_dir` (created)."""
    if _format == "stdout":
        return HumanOutputFormat(sys.stdout)
    if _format not in ("log", "json", "csv", "tensorboard"):
        raise ValueError(f"unknown output format {_format!r}; use 'stdout', 'log', 'json', 'csv' or 'tensorboard'")
    if log_dir is None:
        raise ValueError(f"the {_format} output needs a folder")
    os.makedirs(log_dir, exist_ok=True)
    if _format == "log":
        return HumanOutputFormat(os.path.join(log_dir, f"log{log_suffix}.txt"))
    if _format == "json":
        return JSONOutputFormat(os.path.join(log_dir, f"progress{log_suffix}.json"))
    if _format == "csv":
        return CSVOutputFormat(os.path.join(log_dir, f"progress{log_suffix}.csv"))
    return TensorBoardOutputFormat(log_dir)
