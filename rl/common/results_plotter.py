"""SB3's `stable_baselines3.common.results_plotter`: re-exports `rl.core.results_plotter`
(matplotlib: the `plot` extra)."""
from ..core.results_plotter import *  # noqa: F401,F403
from ..core.results_plotter import __all__  # noqa: F401
