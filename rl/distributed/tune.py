"""Hyperparameter search with Optuna on rl-zoo3's search spaces, the trials running as Ray tasks (or
local processes), the study kept in a storage every worker reaches (a journal file or an SQL database),
so a stopped search continues where it stopped.

    report = run_study(TuneConfig(algo="ppo", env="CartPole-v1", n_trials=20, n_jobs=2, n_timesteps=20000))

One trial: ask the study for hyperparameters (rl.distributed.search_spaces, in the YAML form), train
with them for n_timesteps, evaluate n_evaluations times on the way and report each mean return to
Optuna; the pruner (median: below the median of earlier trials at the same evaluation) may stop the
trial early. The value of a trial is its last evaluation's mean return (rl-zoo3's objective). Every
trial process loads the study from the storage and tells it its own result, Optuna's pattern for
distributed optimisation. n_trials counts finished trials in the storage: rerunning the command
after a stop runs only the trials still missing. At the end the best trial's hyperparameters, merged
into the algorithm's YAML entry for the env, are written as a YAML file that
`python -m rl train --conf-file` reads.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import fcntl
import json
import os
import time

import yaml

from rl.cli_checks import CLIError
from rl.cli_runs import safe_env_name
from rl.core.callbacks import EvalCallback

from .search_spaces import SEARCH_SPACES

__all__ = ["TuneConfig", "TuneReport", "run_study", "run_trial", "make_storage", "TrialEvalCallback",
           "best_entry", "write_best_yaml"]

FINISHED = ("COMPLETE", "PRUNED", "FAIL")


def import_optuna():
    try:
        import optuna
    except ImportError:
        raise CLIError("python -m rl tune needs Optuna: pip install 'corenn[distributed]' (or: pip install optuna)"
                       ) from None
    return optuna


@dataclasses.dataclass
class TuneConfig:
    """A search. storage None: a journal file in the study folder {log_folder}/tune/{algo}/{env}/;
    a string with '://' is an SQLAlchemy URL (sqlite:///tune.db), anything else a journal file path."""

    algo: str
    env: str
    n_trials: int = 10
    n_jobs: int = 1
    n_timesteps: int | None = None
    storage: str | None = None
    study_name: str | None = None
    sampler: str = "tpe"
    pruner: str = "median"
    n_startup_trials: int = 5
    n_warmup_steps: int | None = None  # evaluations before the pruner may act (default n_evaluations // 3)
    n_evaluations: int = 10
    eval_episodes: int = 5
    seed: int = 0
    params: tuple = ()
    n_envs: int | None = None
    backend: str = "ray"
    address: str | None = None
    max_retries: int = 3
    log_folder: str = "logs"
    output: str | None = None

    @property
    def study_dir(self) -> str:
        return os.path.abspath(os.path.join(self.log_folder, "tune", self.algo, safe_env_name(self.env)))

    @property
    def storage_url(self) -> str:
        storage = self.storage or os.path.join(self.study_dir, "study.journal")
        return storage if "://" in storage else os.path.abspath(storage)

    @property
    def name(self) -> str:
        return self.study_name or f"{self.algo}-{safe_env_name(self.env)}"


@dataclasses.dataclass
class TuneReport:
    trials: list  # summaries of the trials run by this command
    best: dict | None  # {"number", "value", "hyperparams"} of the study's best trial
    yaml_path: str | None
    counts: dict  # state -> number of trials in the study


def make_storage(url: str):
    """An Optuna storage: RDBStorage for a URL, a JournalStorage on a file for a path."""
    optuna = import_optuna()
    if "://" in url:
        kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
        return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
    os.makedirs(os.path.dirname(url) or ".", exist_ok=True)
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(url))


def make_sampler(name: str, seed: int, n_startup_trials: int):
    optuna = import_optuna()
    if name == "tpe":
        return optuna.samplers.TPESampler(n_startup_trials=n_startup_trials, seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise CLIError(f"unknown sampler {name!r}; use tpe or random")


def make_pruner(name: str, n_startup_trials: int, n_warmup_steps: int):
    optuna = import_optuna()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=n_startup_trials, n_warmup_steps=n_warmup_steps)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise CLIError(f"unknown pruner {name!r}; use median or none")


class TrialEvalCallback(EvalCallback):
    """EvalCallback that reports each evaluation's mean return to an Optuna trial (step = evaluation
    number, from 1) and stops training once the trial's pruner says so (`is_pruned`)."""

    def __init__(self, trial, eval_env, n_eval_episodes: int, eval_freq: int):
        super().__init__(eval_env, n_eval_episodes=n_eval_episodes, eval_freq=eval_freq, deterministic=True,
                         verbose=0)
        self.trial = trial
        self.eval_idx = 0
        self.is_pruned = False

    def _on_step(self) -> bool:
        continue_training = super()._on_step()
        if self.eval_freq > 0 and self.n_calls % self.eval_freq == 0:
            self.eval_idx += 1
            self.trial.report(self.last_mean_reward, self.eval_idx)
            if self.trial.should_prune():
                self.is_pruned = True
                return False
        return continue_training


def _objective(trial, config: TuneConfig, hyperparams: dict, algos: dict | None) -> float:
    """Train with the trial's hyperparameters; the last evaluation's mean return (TrialPruned if pruned)."""
    from rl.cli import ensure_registered, get_algos
    from rl.core.vec_env import make_vec_env
    from rl.hyperparams import resolve

    optuna = import_optuna()
    algo_cls = get_algos(algos)[config.algo]
    ensure_registered(config.env)
    hp = resolve(config.algo, config.env, {**_fixed_params(config), **hyperparams}, algo_cls=algo_cls,
                 n_timesteps=config.n_timesteps, n_envs=config.n_envs)
    env = make_vec_env(config.env, n_envs=hp.n_envs, seed=config.seed)
    eval_env = make_vec_env(config.env, n_envs=1, seed=config.seed + 10_000)
    try:
        model = algo_cls(hp.policy, env, seed=config.seed, verbose=0, **hp.kwargs)
        eval_freq = max(hp.n_timesteps // config.n_evaluations // hp.n_envs, 1)
        callback = TrialEvalCallback(trial, eval_env, config.eval_episodes, eval_freq)
        model.learn(hp.n_timesteps, callback=callback)
    finally:
        env.close()
        eval_env.close()
    if callback.is_pruned:
        raise optuna.TrialPruned(f"pruned at evaluation {callback.eval_idx}")
    if callback.eval_idx == 0:
        raise ValueError("no evaluation ran; lower --n-evaluations or raise -n")
    return float(callback.last_mean_reward)


def _fixed_params(config: TuneConfig) -> dict:
    from rl.hyperparams import parse_params

    return parse_params(list(config.params))


@contextlib.contextmanager
def _ask_lock(config: TuneConfig):
    """One `study.ask()` at a time among the trial processes of this machine: Optuna's RDB storage on SQLite can
    hand the same enqueued (WAITING) trial to two processes that ask at once, and the second then fails to tell it.
    An exclusive lock on a file in the study folder serialises the asks (workers on other machines share the
    folder only through a shared file system, where the lock is advisory)."""
    os.makedirs(config.study_dir, exist_ok=True)
    with open(os.path.join(config.study_dir, ".ask.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_trial(config: TuneConfig, index: int, algos: dict | None = None) -> dict:
    """One trial, in whatever process runs it: ask, train, tell. `index` seeds the sampler (so parallel
    workers do not draw the same values). Returns a summary {number, state, value, hyperparams, error}."""
    import corenn

    optuna = import_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    corenn.set_num_threads(1)
    warmup = config.n_warmup_steps if config.n_warmup_steps is not None else config.n_evaluations // 3
    study = optuna.load_study(study_name=config.name, storage=make_storage(config.storage_url),
                              sampler=make_sampler(config.sampler, config.seed + index, config.n_startup_trials),
                              pruner=make_pruner(config.pruner, config.n_startup_trials, warmup))
    with _ask_lock(config):
        trial = study.ask()
    started = time.time()
    hyperparams = SEARCH_SPACES[config.algo](trial)
    trial.set_user_attr("hyperparams", hyperparams)
    summary = {"number": trial.number, "value": None, "hyperparams": hyperparams, "error": None}
    try:
        value = _objective(trial, config, hyperparams, algos)
    except optuna.TrialPruned as exc:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        summary.update(state="PRUNED", error=str(exc))
    except Exception as exc:  # a trial's hyperparameters may not work (NaN, a bad combination): record, go on
        message = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]
        trial.set_user_attr("error", message)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        summary.update(state="FAIL", error=message)
    else:
        study.tell(trial, value)
        summary.update(state="COMPLETE", value=value)
    summary["wall_time_s"] = round(time.time() - started, 2)
    return summary


def _run_local(config: TuneConfig, indices: list, algos: dict | None):
    """(index, summary, error) of each trial: in this process for n_jobs 1, else in n_jobs processes."""
    if config.n_jobs == 1:
        for index in indices:
            yield index, run_trial(config, index, algos), None
        return
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=config.n_jobs, mp_context=context) as pool:
        futures = {pool.submit(run_trial, config, index, algos): index for index in indices}
        for future in concurrent.futures.as_completed(futures):
            try:
                yield futures[future], future.result(), None
            except Exception as exc:  # the process died (BrokenProcessPool) or the trial could not start
                yield futures[future], None, f"{type(exc).__name__}: {exc}"


def _check(config: TuneConfig, algos: dict | None) -> None:
    from rl.cli import ensure_registered, get_algo_class, get_algos
    from rl.hyperparams import resolve

    if config.algo not in SEARCH_SPACES:
        raise CLIError(f"no search space for {config.algo!r}; tune one of {', '.join(sorted(SEARCH_SPACES))}")
    algo_cls = get_algo_class(config.algo, get_algos(algos))
    ensure_registered(config.env)
    resolve(config.algo, config.env, list(config.params), algo_cls=algo_cls, n_timesteps=config.n_timesteps,
            n_envs=config.n_envs)
    if config.backend not in ("ray", "local"):
        raise CLIError(f"unknown backend {config.backend!r}; use ray or local")
    make_sampler(config.sampler, config.seed, config.n_startup_trials)
    make_pruner(config.pruner, config.n_startup_trials, 0)


def best_entry(config: TuneConfig, hyperparams: dict) -> dict:
    """The algorithm's YAML entry for the env (rl/hyperparams/{algo}.yml) updated with the fixed -params
    and the tuned hyperparameters: what `python -m rl train --conf-file` should train with."""
    from rl.hyperparams import load_hyperparams

    try:
        entry, _ = load_hyperparams(config.algo, config.env)
    except (FileNotFoundError, KeyError):
        entry = {}
    entry.update(_fixed_params(config))
    entry.update(hyperparams)
    if config.n_envs is not None:
        entry["n_envs"] = config.n_envs
    if "n_timesteps" not in entry and config.n_timesteps is not None:
        entry["n_timesteps"] = config.n_timesteps
    if isinstance(entry.get("n_timesteps"), float) and entry["n_timesteps"].is_integer():
        entry["n_timesteps"] = int(entry["n_timesteps"])  # 1e5 in the YAML reads back as 100000.0
    return entry


def write_best_yaml(config: TuneConfig, best: dict, path: str, n_finished: int) -> None:
    entry = best_entry(config, best["hyperparams"])
    steps = config.n_timesteps or "the YAML's"
    header = (f"# python -m rl tune --algo {config.algo} --env {config.env}: the best of {n_finished} finished trials "
              f"of study {config.name!r}\n# (trial {best['number']}: mean evaluation return {best['value']:.2f} after "
              f"{steps} steps; rl-zoo3's search space)\n"
              f"# train: python -m rl train --algo {config.algo} --env {config.env} --conf-file {path}\n")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(header + yaml.safe_dump({config.env: entry}, sort_keys=False))


def _write_trials_csv(study, path: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["number", "state", "value", "evaluations", "seconds", "hyperparams", "error"])
        for t in study.get_trials(deepcopy=False):
            seconds = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete else ""
            writer.writerow([t.number, t.state.name, t.value, len(t.intermediate_values), seconds,
                             json.dumps(t.user_attrs.get("hyperparams", {})), t.user_attrs.get("error", "")])


def run_study(config: TuneConfig, algos: dict | None = None, log=print) -> TuneReport:
    """Run the trials still missing from the study (see the module docstring) and write the best YAML
    and trials.csv in the study folder; `algos` overrides rl.ALGOS (tests, in-process and Ray only)."""
    optuna = import_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _check(config, algos)
    storage = make_storage(config.storage_url)
    study = optuna.create_study(study_name=config.name, storage=storage, direction="maximize", load_if_exists=True)
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise CLIError(f"study {config.name!r} in {config.storage_url} minimises; use another --study-name")
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    finished = sum(s in FINISHED for s in states)
    if "RUNNING" in states:
        log(f"Note: {states.count('RUNNING')} trial(s) of an earlier command are still marked running (left alone)")
    todo = max(config.n_trials - finished, 0)
    log(f"Study {config.name!r} in {config.storage_url}: {finished} trials finished, {todo} to run "
        f"({config.backend}, {config.n_jobs} at once)")
    indices = list(range(len(states), len(states) + todo))
    summaries = []
    if config.backend == "ray":
        from .ray_backend import run_tasks, start_ray, stop_ray

        started = start_ray(config.address) if todo else False
        try:
            outcomes = ((index, summary, error) for index, summary, error in run_tasks(
                _trial_task, indices, max_in_flight=config.n_jobs, max_retries=config.max_retries,
                args=(config, algos), name=lambda i: f"trial-{i}"))
            summaries = _collect(outcomes, log)
        finally:
            stop_ray(started)
    else:
        summaries = _collect(_run_local(config, indices, algos), log)
    return _finish(config, storage, summaries, log)


def _trial_task(index: int, config: TuneConfig, algos: dict | None) -> dict:
    return run_trial(config, index, algos)


def _collect(outcomes, log) -> list:
    summaries = []
    for _, summary, error in outcomes:
        if error is not None:
            log(f"trial process failed: {error}")
            continue
        summaries.append(summary)
        value = f"{summary['value']:.2f}" if summary["value"] is not None else summary["error"]
        log(f"trial {summary['number']}: {summary['state']} {value} ({summary['wall_time_s']:.0f} s)")
    return summaries


def _finish(config: TuneConfig, storage, summaries: list, log) -> TuneReport:
    optuna = import_optuna()
    study = optuna.load_study(study_name=config.name, storage=storage)
    trials = study.get_trials(deepcopy=False)
    counts = {}
    for t in trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    os.makedirs(config.study_dir, exist_ok=True)
    _write_trials_csv(study, os.path.join(config.study_dir, "trials.csv"))
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    if not complete:
        log("No trial completed (all pruned or failed), so no YAML was written")
        return TuneReport(summaries, None, None, counts)
    best_trial = max(complete, key=lambda t: t.value)
    best = {"number": best_trial.number, "value": float(best_trial.value),
            "hyperparams": best_trial.user_attrs.get("hyperparams", {})}
    path = os.path.abspath(config.output or os.path.join(config.study_dir, "best.yml"))
    write_best_yaml(config, best, path, sum(counts.get(s, 0) for s in FINISHED))
    return TuneReport(summaries, best, path, counts)
