"""Many runs at once: seed sweeps on Ray (`benchmark`) and Optuna hyperparameter search (`tune`).

    benchmark       (algo, env, seed) runs as Ray tasks, each the normal `python -m rl train`; retried
                    and resumed from checkpoints when a worker dies; a table and learning curves
    runs            one run: the task body, its folder layout, resume and result files
    tune            an Optuna study on rl-zoo3's search spaces, trials as Ray tasks or local processes
    search_spaces   rl-zoo3's search spaces for ppo, a2c, dqn, sac, td3, ddpg
    stats           IQM with stratified bootstrap confidence intervals (as rliable)
    curves          learning-curve PNGs (matplotlib)
    ray_backend     starting or joining Ray; a bounded pool of retried tasks

Ray and Optuna are optional (the `distributed` extra): nothing here imports them until a sweep or a
study starts, and a missing one is a one-line error saying what to install.
"""

from .benchmark import BenchmarkConfig, BenchmarkReport, run_benchmark
from .search_spaces import SEARCH_SPACES
from .stats import iqm, stratified_bootstrap_ci, summarize
from .tune import TuneConfig, TuneReport, run_study

__all__ = ["BenchmarkConfig", "BenchmarkReport", "run_benchmark", "TuneConfig", "TuneReport", "run_study",
           "SEARCH_SPACES", "iqm", "stratified_bootstrap_ci", "summarize"]
