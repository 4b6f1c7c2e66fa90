"""One benchmark run, (algo, env, seed): the body of a Ray task. It runs the normal command line,
`python -m rl train`, in the worker process, evaluates the final agent and writes a result file.

    {out}/seed{S}/                      the -f log folder of every run with seed S (rl-zoo3's layout,
                                        so `python -m rl plot/enjoy -f {out}/seed{S}` work on it)
      {algo}/{env}_{N}/                 run folders: final model, rl_model_{steps}_steps.npz checkpoints,
                                        evaluations.npz, monitor files, TensorBoard logs
      {algo}/{env}.log                  the training output of every attempt
      {algo}/{env}.result.json          written last: the run is finished

A run that finds checkpoints of an unfinished attempt (its worker died, or the sweep was stopped)
continues from the latest one with `-i` (and the replay buffer saved beside it) for the steps left,
in a new run folder {env}_{N+1}. A run whose result file exists with the same settings is skipped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import json
import os
import re
import socket
import time

import numpy as np
import yaml

from rl.cli_checks import CLIError
from rl.cli_runs import replay_buffer_path_for, safe_env_name

__all__ = ["RunSpec", "run_one", "read_result", "write_json", "latest_checkpoint", "run_folders", "merged_eval_curve"]

# the settings that make two runs the same run (eval and checkpoint frequencies do not change the agent)
IDENTITY_KEYS = ("algo", "env", "seed", "n_timesteps", "params", "conf_file", "n_envs", "final_eval_episodes")


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs for one run; paths are absolute (workers may run elsewhere)."""

    algo: str
    env: str
    seed: int
    n_timesteps: int
    out_dir: str
    eval_freq: int
    save_freq: int
    eval_episodes: int = 5
    final_eval_episodes: int = 10
    params: tuple = ()
    conf_file: str | None = None
    n_envs: int | None = None
    save_replay_buffer: bool = False

    @property
    def log_folder(self) -> str:
        return os.path.join(self.out_dir, f"seed{self.seed}")

    @property
    def stem(self) -> str:
        """{out}/seed{S}/{algo}/{env}: the prefix of the run folders, log and result file."""
        return os.path.join(self.log_folder, self.algo, safe_env_name(self.env))

    @property
    def result_path(self) -> str:
        return f"{self.stem}.result.json"

    @property
    def label(self) -> str:
        return f"{self.algo} {self.env} seed {self.seed}"

    def identity(self) -> dict:
        fields = dataclasses.asdict(self)
        return {k: (list(fields[k]) if isinstance(fields[k], tuple) else fields[k]) for k in IDENTITY_KEYS}


def write_json(path: str, data: dict) -> None:
    """Write JSON atomically (a temporary file renamed over `path`)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)
    os.replace(tmp, path)


def read_result(spec: RunSpec) -> dict | None:
    """The finished result of this run, None if there is none; CLIError if the result file was made
    with other settings (a different -n, -params, ...), naming them."""
    if not os.path.isfile(spec.result_path):
        return None
    try:
        with open(spec.result_path, encoding="utf-8") as fh:
            result = json.load(fh)
    except (OSError, ValueError) as exc:
        raise CLIError(f"{spec.result_path} cannot be read ({exc}); delete it to run {spec.label} again") from None
    saved, wanted = result.get("identity", {}), spec.identity()
    differ = [f"{k} {saved.get(k)!r} there, {wanted[k]!r} now" for k in IDENTITY_KEYS if saved.get(k) != wanted[k]]
    if differ:
        raise CLIError(f"{spec.result_path} holds a run made with other settings ({'; '.join(differ)}); "
                       f"use another --output-dir, or delete {spec.log_folder} to run it again")
    return result


def run_folders(spec: RunSpec) -> list[str]:
    """The run folders {env}_{N} of this run, in the order they were made."""
    pattern = f"{glob.escape(spec.stem)}_*"
    folders = [f for f in glob.glob(pattern) if os.path.isdir(f) and f.rpartition("_")[2].isdigit()]
    return sorted(folders, key=lambda f: int(f.rpartition("_")[2]))


def _checkpoint_step(path: str) -> int:
    return int(re.search(r"_(\d+)_steps\.npz$", path).group(1))


def latest_checkpoint(spec: RunSpec) -> tuple[str, int] | None:
    """(path, step) of the newest checkpoint of any attempt; with save_replay_buffer, the newest one
    whose replay buffer was saved too (a worker may die between the two files)."""
    found = []
    for folder in run_folders(spec):
        for path in glob.glob(os.path.join(glob.escape(folder), "rl_model_*_steps.npz")):
            if re.fullmatch(r"rl_model_\d+_steps\.npz", os.path.basename(path)):
                found.append((_checkpoint_step(path), path))
    if spec.save_replay_buffer:
        with_buffer = [c for c in found if os.path.isfile(replay_buffer_path_for(c[1]))]
        found = with_buffer or found
    if not found:
        return None
    step, path = max(found)
    return path, step


def _resumed_from(folder: str) -> int | None:
    """The step a run folder continued from (its args.yml names the -i checkpoint), None for a fresh one."""
    try:
        with open(os.path.join(folder, "args.yml"), encoding="utf-8") as fh:
            agent = (yaml.safe_load(fh) or {}).get("trained_agent") or ""
    except (OSError, yaml.YAMLError):
        return None
    match = re.search(r"_(\d+)_steps(\.npz)?$", agent)
    return int(match.group(1)) if match else None


def merged_eval_curve(spec: RunSpec) -> tuple[list, list]:
    """(timesteps, mean evaluation return) over the chain of attempts: an attempt's evaluations after
    the step the next attempt resumed from are dropped (that stretch of training was lost)."""
    steps, means = [], []
    for folder in run_folders(spec):
        start = _resumed_from(folder)
        if start is not None:
            keep = [i for i, t in enumerate(steps) if t <= start]
            steps, means = [steps[i] for i in keep], [means[i] for i in keep]
        path = os.path.join(folder, "evaluations.npz")
        if os.path.isfile(path):
            with np.load(path, allow_pickle=False) as data:
                t, results = np.asarray(data["timesteps"]), np.asarray(data["results"], dtype=float)
            steps += [int(x) for x in t]
            means += [float(x) for x in results.reshape(len(t), -1).mean(axis=1)]
    return steps, means


def _train_argv(spec: RunSpec, resume: tuple[str, int] | None) -> list[str]:
    steps = spec.n_timesteps - (resume[1] if resume else 0)
    argv = ["train", "--algo", spec.algo, "--env", spec.env, "--seed", str(spec.seed), "-f", spec.log_folder,
            "-n", str(steps), "--eval-freq", str(spec.eval_freq), "--eval-episodes", str(spec.eval_episodes),
            "--save-freq", str(spec.save_freq), "-v", "1"]
    if spec.save_replay_buffer:
        argv.append("--save-replay-buffer")
    if spec.n_envs is not None:
        argv += ["--n-envs", str(spec.n_envs)]
    if spec.conf_file is not None:
        argv += ["--conf-file", spec.conf_file]
    if spec.params:
        argv += ["-params", *spec.params]
    if resume:
        argv += ["-i", resume[0]]
    return argv


def _final_model(spec: RunSpec, resume: tuple[str, int] | None, trained: bool) -> str:
    if not trained:  # the newest checkpoint already holds every step
        return resume[0]
    path = os.path.join(run_folders(spec)[-1], f"{safe_env_name(spec.env)}.npz")
    if not os.path.isfile(path):
        raise RuntimeError(f"{spec.label}: training ended without writing {path}")
    return path


def _evaluate(spec: RunSpec, algo_cls, path: str) -> list[float]:
    from rl.cli import ensure_registered
    from rl.core.evaluation import evaluate_policy
    from rl.core.vec_env import make_vec_env

    ensure_registered(spec.env)
    model = algo_cls.load(path)
    env = make_vec_env(spec.env, n_envs=1, seed=spec.seed + 20_000)
    try:
        returns, _ = evaluate_policy(model, env, n_eval_episodes=spec.final_eval_episodes, deterministic=True,
                                     return_episode_rewards=True)
    finally:
        env.close()
    return [float(r) for r in returns]


def run_one(spec: RunSpec, algos: dict | None = None) -> dict:
    """Train, evaluate and record one run (resuming an unfinished attempt); returns the result dict,
    with "skipped": True when the run had finished before. `algos` overrides rl.ALGOS (tests)."""
    import corenn
    from rl.cli import get_algos, main

    previous = read_result(spec)
    if previous is not None:
        return dict(previous, skipped=True)
    corenn.set_num_threads(1)  # one BLAS thread: the task holds one CPU
    started = time.time()
    resume = latest_checkpoint(spec)
    trained = resume is None or resume[1] < spec.n_timesteps
    os.makedirs(os.path.dirname(spec.stem), exist_ok=True)
    log_path = f"{spec.stem}.log"
    if trained:
        argv = _train_argv(spec, resume)
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} on {socket.gethostname()} pid {os.getpid()}: "
                      f"python -m rl {' '.join(argv)}\n")
            log.flush()
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                status = main(argv, algos)
        if status != 0:
            with open(log_path, encoding="utf-8") as log:
                tail = " | ".join(line.strip() for line in log.read().splitlines()[-3:])
            raise RuntimeError(f"{spec.label}: python -m rl train exited with status {status} ({tail}); "
                               f"see {log_path}")
    algo_cls = get_algos(algos)[spec.algo]
    model_path = _final_model(spec, resume, trained)
    returns = _evaluate(spec, algo_cls, model_path)
    steps, means = merged_eval_curve(spec)
    result = {"identity": spec.identity(), "algo": spec.algo, "env": spec.env, "seed": spec.seed,
              "n_timesteps": spec.n_timesteps, "score": float(np.mean(returns)), "episode_returns": returns,
              "curve": {"timesteps": steps, "mean_reward": means}, "wall_time_s": round(time.time() - started, 2),
              "resumed_from_step": resume[1] if resume else None, "attempts": len(run_folders(spec)),
              "model": model_path, "host": socket.gethostname(), "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
    write_json(spec.result_path, result)
    return dict(result, skipped=False)
