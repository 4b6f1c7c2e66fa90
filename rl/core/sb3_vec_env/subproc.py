"""SubprocVecEnv: SB3's multiprocess VecEnv, each sub-env stepped in its own process over a pipe.

The env functions are sent to the workers with cloudpickle when it is installed (so lambdas and
closures work with every start method); without it they must be picklable by the standard library
(module-level functions or classes, or any callable with the "fork" start method). Only commands
and their results travel between the processes; nothing is written to disk.
"""

from __future__ import annotations

import multiprocessing as mp
import warnings
from collections.abc import Callable

import gymnasium as gym
import numpy as np

from .base import VecEnv
from .dummy import _get_wrapper_attr, _set_wrapper_attr, is_wrapped, stack_obs

__all__ = ["SubprocVecEnv", "CloudpickleWrapper"]

try:
    import cloudpickle
except ImportError:  # pragma: no cover - optional
    cloudpickle = None


class CloudpickleWrapper:
    """Carries an object (an env function) to a worker process, through cloudpickle when it is installed."""

    def __init__(self, var):
        self.var = var

    def __getstate__(self):
        return cloudpickle.dumps(self.var) if cloudpickle is not None else self.var

    def __setstate__(self, state):
        self.var = cloudpickle.loads(state) if cloudpickle is not None and isinstance(state, bytes) else state


def _worker(remote, parent_remote, fn_wrapper) -> None:
    parent_remote.close()
    env = fn_wrapper.var()
    reset_info: dict = {}
    try:
        while True:
            cmd, data = remote.recv()
            if cmd == "step":
                obs, reward, terminated, truncated, info = env.step(data)
                info = dict(info)
                done = terminated or truncated
                info["TimeLimit.truncated"] = bool(truncated and not terminated)
                if done:
                    info["terminal_observation"] = obs
                    obs, reset_info = env.reset()
                remote.send((obs, reward, done, info, reset_info))
            elif cmd == "reset":
                seed, options = data
                obs, reset_info = env.reset(seed=seed, **({"options": options} if options else {}))
                remote.send((obs, reset_info))
            elif cmd == "render":
                remote.send(env.render())
            elif cmd == "close":
                env.close()
                remote.close()
                break
            elif cmd == "get_spaces":
                remote.send((env.observation_space, env.action_space))
            elif cmd == "env_method":
                name, args, kwargs = data
                remote.send(("ok", _get_wrapper_attr(env, name)(*args, **kwargs)))
            elif cmd == "get_attr":
                try:
                    remote.send(("ok", _get_wrapper_attr(env, data)))
                except AttributeError as exc:
                    remote.send(("attribute_error", str(exc)))
            elif cmd == "set_attr":
                remote.send(_set_wrapper_attr(env, data[0], data[1]))
            elif cmd == "is_wrapped":
                remote.send(is_wrapped(env, data))
            else:
                raise NotImplementedError(f"SubprocVecEnv worker: unknown command {cmd!r}")
    except KeyboardInterrupt:  # pragma: no cover
        pass
    except EOFError:  # the parent went away
        pass


class SubprocVecEnv(VecEnv):
    """`env_fns`: callables each returning a gymnasium.Env, one process per sub-env. `start_method`:
    "fork", "spawn" or "forkserver" (default: "forkserver" where available, else "spawn", as SB3)."""

    def __init__(self, env_fns: list[Callable[[], gym.Env]], start_method: str | None = None):
        if callable(env_fns) or not isinstance(env_fns, (list, tuple)) or not env_fns:
            raise TypeError("SubprocVecEnv takes a non-empty list of callables that each return an env")
        self.waiting = False
        self.closed = False
        n_envs = len(env_fns)
        if start_method is None:
            start_method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        if start_method not in mp.get_all_start_methods():
            raise ValueError(f"start_method must be one of {mp.get_all_start_methods()}, got {start_method!r}")
        ctx = mp.get_context(start_method)
        self.remotes, self.work_remotes = zip(*[ctx.Pipe() for _ in range(n_envs)])
        self.processes = []
        for work_remote, remote, fn in zip(self.work_remotes, self.remotes, env_fns):
            process = ctx.Process(target=_worker, args=(work_remote, remote, CloudpickleWrapper(fn)), daemon=True)
            process.start()
            self.processes.append(process)
            work_remote.close()
        self.remotes[0].send(("get_spaces", None))
        observation_space, action_space = self.remotes[0].recv()
        super().__init__(n_envs, observation_space, action_space)

    def step_async(self, actions) -> None:
        for remote, action in zip(self.remotes, actions):
            remote.send(("step", action))
        self.waiting = True

    def step_wait(self):
        results = [remote.recv() for remote in self.remotes]
        self.waiting = False
        obs, rewards, dones, infos, self.reset_infos = zip(*results)
        self.reset_infos = list(self.reset_infos)
        return (stack_obs(self.observation_space, obs), np.asarray(rewards, np.float32), np.asarray(dones, bool),
                list(infos))

    def reset(self):
        for i, remote in enumerate(self.remotes):
            remote.send(("reset", (self._seeds[i], self._options[i])))
        results = [remote.recv() for remote in self.remotes]
        obs, reset_infos = zip(*results)
        self.reset_infos = list(reset_infos)
        self._reset_seeds()
        self._reset_options()
        return stack_obs(self.observation_space, obs)

    def close(self) -> None:
        if self.closed:
            return
        if self.waiting:
            for remote in self.remotes:
                remote.recv()
        for remote in self.remotes:
            remote.send(("close", None))
        for process in self.processes:
            process.join()
        self.closed = True

    def get_images(self):
        if self.render_mode != "rgb_array":
            warnings.warn(f"get_images() needs render_mode='rgb_array', the envs have {self.render_mode!r}",
                          stacklevel=2)
            return [None] * self.num_envs
        for remote in self.remotes:
            remote.send(("render", None))
        return [remote.recv() for remote in self.remotes]

    def _targets(self, indices):
        return [self.remotes[i] for i in self._get_indices(indices)]

    def get_attr(self, attr_name: str, indices=None) -> list:
        targets = self._targets(indices)
        for remote in targets:
            remote.send(("get_attr", attr_name))
        out = []
        for status, value in (remote.recv() for remote in targets):
            if status == "attribute_error":
                raise AttributeError(value)
            out.append(value)
        return out

    def set_attr(self, attr_name: str, value, indices=None) -> None:
        targets = self._targets(indices)
        for remote in targets:
            remote.send(("set_attr", (attr_name, value)))
        for remote in targets:
            remote.recv()

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list:
        targets = self._targets(indices)
        for remote in targets:
            remote.send(("env_method", (method_name, method_args, method_kwargs)))
        return [remote.recv()[1] for remote in targets]

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        targets = self._targets(indices)
        for remote in targets:
            remote.send(("is_wrapped", wrapper_class))
        return [remote.recv() for remote in targets]

    def __del__(self):
        if not getattr(self, "closed", True) and hasattr(self, "remotes"):
            try:
                self.close()
            except Exception:  # pragma: no cover - interpreter shutdown
                pass
