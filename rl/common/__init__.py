"""SB3's `stable_baselines3.common` module layout as thin re-exports of `rl.core` (and `envs`), so a script
ports by renaming the package: `from stable_baselines3.common.callbacks import EvalCallback` ->
`from rl.common.callbacks import EvalCallback`. Nothing is defined twice; what SB3 has and `rl` leaves out
is listed, with the reason, in docs/sb3_compatibility.md. Submodules are imported on use."""
