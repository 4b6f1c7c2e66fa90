"""SB3's `Monitor`: a Gymnasium wrapper that records each episode's return, length and time, puts them
in the last step's `info["episode"]`, and (with a filename) writes them to a `monitor.csv` file:

    #{"t_start": 1700000000.0, "env_id": "CartPole-v1"}
    r,l,t
    22.0,22,0.012

`load_results(folder)` reads every `*monitor.csv` in a folder back (`get_monitor_files`). SB3 returns a
pandas DataFrame there; pandas is not a dependency of ours, so it returns a `MonitorData` (columns as
NumPy arrays, `len`, `data["r"]`, `.values`, `.index`, `.columns`), see its docstring.
"""

from __future__ import annotations

import csv
import json
import os
import time

import gymnasium as gym
import numpy as np

__all__ = ["Monitor", "ResultsWriter", "MonitorData", "LoadMonitorResultsError", "get_monitor_files", "load_results"]

EXT = "monitor.csv"


class LoadMonitorResultsError(Exception):
    """No monitor file in the folder given to load_results."""


def monitor_path(filename: str) -> str:
    """SB3's naming: a folder -> {folder}/monitor.csv; 'x' -> 'x.monitor.csv'; '*monitor.csv' as given."""
    filename = os.fspath(filename)
    if filename.endswith(EXT):
        return filename
    if os.path.isdir(filename):
        return os.path.join(filename, EXT)
    return f"{filename}.{EXT}"


class ResultsWriter:
    """Writes the JSON header line and one CSV row per episode (flushed at once, so a crash keeps them)."""

    def __init__(self, filename: str = "", header: dict | None = None, extra_keys: tuple = (),
                 override_existing: bool = True):
        self.path = monitor_path(filename)
        folder = os.path.dirname(self.path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        appending = not override_existing and os.path.exists(self.path) and os.path.getsize(self.path) > 0
        self.file_handler = open(self.path, "a" if appending else "w", newline="")
        self.logger = csv.DictWriter(self.file_handler, fieldnames=("r", "l", "t", *extra_keys))
        if not appending:
            self.file_handler.write(f"#{json.dumps(header or {})}\n")
            self.logger.writeheader()
        self.file_handler.flush()

    def write_row(self, epinfo: dict) -> None:
        self.logger.writerow(epinfo)
        self.file_handler.flush()

    def close(self) -> None:
        self.file_handler.close()


class Monitor(gym.Wrapper):
    """Episode statistics of `env`, in `info["episode"] = {"r", "l", "t"}` at each episode's last step
    (t: seconds since the Monitor was made) and, when `filename` is given, in its monitor.csv.

    allow_early_resets: reset() before the episode ended is allowed (else RuntimeError).
    reset_keywords: keyword arguments of reset() written as extra columns (each reset must pass them).
    info_keywords: keys of the last step's info written as extra columns.
    override_existing: False appends to an existing monitor file instead of starting a new one.
    """

    def __init__(self, env: gym.Env, filename: str | None = None, allow_early_resets: bool = True,
                 reset_keywords: tuple = (), info_keywords: tuple = (), override_existing: bool = True):
        super().__init__(env)
        self.t_start = time.time()
        self.results_writer = None
        if filename is not None:
            env_id = env.spec.id if env.spec is not None else None
            self.results_writer = ResultsWriter(filename, header={"t_start": self.t_start, "env_id": str(env_id)},
                                                extra_keys=tuple(reset_keywords) + tuple(info_keywords),
                                                override_existing=override_existing)
        self.reset_keywords = tuple(reset_keywords)
        self.info_keywords = tuple(info_keywords)
        self.allow_early_resets = allow_early_resets
        self.rewards: list = []
        self.needs_reset = True
        self.episode_returns: list = []
        self.episode_lengths: list = []
        self.episode_times: list = []
        self.total_steps = 0
        self.current_reset_info: dict = {}

    def reset(self, **kwargs):
        if not self.allow_early_resets and not self.needs_reset:
            raise RuntimeError("Tried to reset an environment before done. If you want to allow early resets, "
                               "wrap your env with Monitor(env, path, allow_early_resets=True)")
        self.rewards = []
        self.needs_reset = False
        for key in self.reset_keywords:
            if kwargs.get(key) is None:
                raise ValueError(f"Expected you to pass keyword argument {key} into reset")
            self.current_reset_info[key] = kwargs[key]
        return self.env.reset(**kwargs)

    def step(self, action):
        if self.needs_reset:
            raise RuntimeError("Tried to step environment that needs reset")
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.rewards.append(float(reward))
        if terminated or truncated:
            self.needs_reset = True
            ep_rew, ep_len = sum(self.rewards), len(self.rewards)
            ep_info = {"r": round(ep_rew, 6), "l": ep_len, "t": round(time.time() - self.t_start, 6)}
            for key in self.info_keywords:
                if key not in info:
                    raise KeyError(f"info_keywords names {key!r}, which the last step's info does not hold "
                                   f"(it has {sorted(info)})")
                ep_info[key] = info[key]
            self.episode_returns.append(ep_rew)
            self.episode_lengths.append(ep_len)
            self.episode_times.append(time.time() - self.t_start)
            ep_info.update(self.current_reset_info)
            if self.results_writer is not None:
                self.results_writer.write_row(ep_info)
            info = dict(info, episode=ep_info)
        self.total_steps += 1
        return observation, reward, terminated, truncated, info

    def close(self) -> None:
        super().close()
        if self.results_writer is not None:
            self.results_writer.close()

    def get_total_steps(self) -> int:
        return self.total_steps

    def get_episode_rewards(self) -> list:
        return self.episode_returns

    def get_episode_lengths(self) -> list:
        return self.episode_lengths

    def get_episode_times(self) -> list:
        return self.episode_times


class MonitorData:
    """The small DataFrame-like table load_results returns (pandas is not a dependency):
    `data["r"]` or `data.r` is a column (ndarray), `data[["r", "l"]]` a 2-D array, `len(data)` the number of
    episodes, `data.columns` the names, `data.values` a float 2-D array of every column, `data.index`
    the row numbers, `data.t_start` / `data.env_ids` from the files' headers."""

    def __init__(self, columns: dict, t_start: float = 0.0, env_ids: tuple = ()):
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"MonitorData columns must have one length, got {sorted(lengths)}")
        self._columns = {k: np.asarray(v) for k, v in columns.items()}
        self.t_start = t_start
        self.env_ids = tuple(env_ids)

    @property
    def columns(self) -> list:
        return list(self._columns)

    def __len__(self) -> int:
        return len(next(iter(self._columns.values()))) if self._columns else 0

    def __contains__(self, key) -> bool:
        return key in self._columns

    def __getitem__(self, key):
        if isinstance(key, (list, tuple)):
            return np.stack([self._columns[k] for k in key], axis=1) if key else np.zeros((len(self), 0))
        if key not in self._columns:
            raise KeyError(f"no column {key!r}; the columns are {self.columns}")
        return self._columns[key]

    def __getattr__(self, name: str):
        columns = self.__dict__.get("_columns", {})
        if name in columns:  # data.r, data.l.cumsum(): columns as attributes, as on a DataFrame
            return columns[name]
        raise AttributeError(f"MonitorData has no attribute or column {name!r}")

    def __setitem__(self, key, value) -> None:
        value = np.asarray(value)
        if value.shape[:1] != (len(self),) and self._columns:
            raise ValueError(f"column {key!r} needs {len(self)} rows, got shape {value.shape}")
        self._columns[key] = value

    @property
    def values(self) -> np.ndarray:
        return np.stack([np.asarray(v, dtype=float) for v in self._columns.values()], axis=1)

    @property
    def index(self) -> np.ndarray:
        return np.arange(len(self))

    def head(self, n: int = 5) -> MonitorData:
        return MonitorData({k: v[:n] for k, v in self._columns.items()}, self.t_start, self.env_ids)

    def __repr__(self) -> str:
        return f"MonitorData({len(self)} rows, columns={self.columns})"


def get_monitor_files(path: str) -> list:
    """Every file in the folder `path` whose name ends with 'monitor.csv', sorted."""
    if not os.path.isdir(path):
        raise LoadMonitorResultsError(f"{path} is not a folder")
    return sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(EXT))


def _read_monitor_file(path: str) -> tuple[dict, list]:
    with open(path, newline="") as fh:
        first = fh.readline()
        if not first.startswith("#"):
            raise LoadMonitorResultsError(f"{path} is not a monitor file: its first line is not a '#{{...}}' header")
        try:
            header = json.loads(first[1:])
        except json.JSONDecodeError as exc:
            raise LoadMonitorResultsError(f"{path}: the header line is not JSON ({exc})") from None
        return header, list(csv.DictReader(fh))


def _column(rows: list, key: str) -> np.ndarray:
    cells = [row.get(key) or "" for row in rows]
    try:
        return np.array([float(c) if c != "" else np.nan for c in cells])
    except ValueError:
        return np.array(cells, dtype=object)


def load_results(path: str) -> MonitorData:
    """Every monitor file in the folder `path` as one table sorted by wall time, with `t` made relative
    to the earliest file's t_start (columns r, l, t and any extra keywords; l as int)."""
    files = get_monitor_files(path)
    if not files:
        raise LoadMonitorResultsError(f"No monitor files of the form *{EXT} found in {path}")
    rows, starts, env_ids = [], [], []
    for name in files:
        header, file_rows = _read_monitor_file(name)
        starts.append(float(header.get("t_start", 0.0)))
        env_ids.append(header.get("env_id"))
        for row in file_rows:
            row["t"] = str(float(row.get("t") or 0.0) + starts[-1])
        rows.extend(file_rows)
    keys = ["r", "l", "t"] + sorted({k for row in rows for k in row} - {"r", "l", "t", None})
    columns = {k: _column(rows, k) for k in keys}
    order = np.argsort(columns["t"], kind="stable")
    columns = {k: v[order] for k, v in columns.items()}
    t_start = min(starts)
    columns["t"] = columns["t"] - t_start
    columns["l"] = columns["l"].astype(np.int64)
    return MonitorData(columns, t_start=t_start, env_ids=env_ids)
