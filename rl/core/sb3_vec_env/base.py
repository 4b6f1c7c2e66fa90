"""SB3's VecEnv API: `VecEnv` (the abstract base), `VecEnvWrapper` and helpers to find wrappers.

A VecEnv steps `num_envs` copies of an env in lock-step with Stable-Baselines3's conventions:
`reset()` returns only the observations (batch, *obs_shape) and keeps the reset infos in
`reset_infos`; `step(actions)` returns (obs, rewards (n,), dones (n,), infos: list of n dicts). A
finished sub-env is reset in that same step: the last observation of its episode is in
`infos[i]["terminal_observation"]`, and `infos[i]["TimeLimit.truncated"]` says whether a time limit
(not a terminal state) ended it. `seed(seed)` and `set_options(options)` apply to the next `reset()`.
"""

from __future__ import annotations

import inspect
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["VecEnv", "VecEnvWrapper", "tile_images", "unwrap_vec_wrapper", "unwrap_vec_normalize",
           "is_vecenv_wrapped", "sync_envs_normalization", "is_sb3_vec_env"]


def tile_images(images: Sequence[np.ndarray]) -> np.ndarray:
    """n images (H, W, C) -> one (rows*H, cols*W, C) grid, as close to square as possible (blanks padded)."""
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"tile_images expects n images shaped (H, W, C), got an array of shape {images.shape}")
    n, h, w, c = images.shape
    rows = int(np.ceil(np.sqrt(n)))
    cols = int(np.ceil(n / rows))
    padded = np.concatenate([images, np.zeros((rows * cols - n, h, w, c), images.dtype)], axis=0)
    return padded.reshape(rows, cols, h, w, c).transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, c)


class VecEnv(ABC):
    """Abstract vectorised env (SB3's `VecEnv`). Subclasses implement reset, step_async, step_wait, close,
    get_attr, set_attr, env_method and env_is_wrapped; everything else is built on those."""

    def __init__(self, num_envs: int, observation_space, action_space):
        self.num_envs = int(num_envs)
        self.observation_space = observation_space
        self.action_space = action_space
        self.reset_infos: list[dict] = [{} for _ in range(self.num_envs)]
        self._seeds: list[int | None] = [None] * self.num_envs
        self._options: list[dict] = [{} for _ in range(self.num_envs)]
        try:
            render_modes = self.get_attr("render_mode")
        except AttributeError:
            warnings.warn("the environments have no render_mode attribute; it is set to None", stacklevel=2)
            render_modes = [None] * self.num_envs
        if len(set(render_modes)) > 1:
            raise ValueError(f"all sub-envs must share one render_mode, got {render_modes}")
        self.render_mode = render_modes[0]
        self.metadata = {"render_modes": [m for m in render_modes if m is not None]}

    # ------------------------------------------------------------------ the abstract interface
    @abstractmethod
    def reset(self):
        """Reset every sub-env -> observations (batch first); infos in self.reset_infos."""
        ...

    @abstractmethod
    def step_async(self, actions: np.ndarray) -> None:
        ...

    @abstractmethod
    def step_wait(self):
        ...

    @abstractmethod
    def close(self) -> None:
        ...

    @abstractmethod
    def get_attr(self, attr_name: str, indices=None) -> list:
        ...

    @abstractmethod
    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        ...

    @abstractmethod
    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list:
        ...

    @abstractmethod
    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        ...

    # ------------------------------------------------------------------ built on it
    def step(self, actions):
        """actions (n_envs, *action_shape) -> (obs, rewards, dones, infos)."""
        self.step_async(actions)
        return self.step_wait()

    def has_attr(self, attr_name: str) -> bool:
        """True when the sub-envs have `attr_name` (looked up through their gymnasium wrappers)."""
        try:
            self.get_attr(attr_name, indices=[0])
            return True
        except AttributeError:
            return False

    def get_images(self) -> Sequence[np.ndarray | None]:
        """One rgb frame (H, W, 3) per sub-env (None where render_mode is not "rgb_array")."""
        raise NotImplementedError

    def render(self, mode: str | None = None) -> np.ndarray | None:
        """rgb_array: the sub-envs' frames tiled into one image; human: each sub-env renders itself
        (or, from rgb_array envs, the tiled image is shown with pygame when it is installed)."""
        if mode == "human" and self.render_mode not in ("human", "rgb_array"):
            warnings.warn(f"render(mode='human') needs render_mode 'human' or 'rgb_array', the envs have "
                          f"{self.render_mode!r}", stacklevel=2)
            return None
        if mode is not None and mode != "human" and self.render_mode != mode:
            warnings.warn(f"render(mode={mode!r}) differs from the envs' render_mode {self.render_mode!r}",
                          stacklevel=2)
            return None
        mode = mode or self.render_mode
        if mode is None:
            warnings.warn("render() was called but no render_mode was passed to the env constructor", stacklevel=2)
            return None
        if self.render_mode == "human":
            self.env_method("render")
            return None
        if mode in ("rgb_array", "human"):
            images = self.get_images()
            if any(im is None for im in images):
                return None
            big = tile_images(images)
            if mode == "human":
                _show(big)
                return None
            return big
        self.env_method("render")
        return None

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Sub-env i is seeded with seed + i at the next reset() (a random seed when None)."""
        if seed is None:
            seed = int(np.random.randint(0, np.iinfo(np.uint32).max, dtype=np.uint32))
        self._seeds = [int(seed) + i for i in range(self.num_envs)]
        return list(self._seeds)

    def set_options(self, options: list[dict] | dict | None = None) -> None:
        """Reset options for the next reset(): one dict for all sub-envs, or a list of n dicts."""
        if options is None:
            options = {}
        if isinstance(options, dict):
            self._options = [dict(options) for _ in range(self.num_envs)]
        else:
            if len(options) != self.num_envs:
                raise ValueError(f"set_options needs one dict per sub-env ({self.num_envs}), got {len(options)}")
            self._options = [dict(o) for o in options]

    def _reset_seeds(self) -> None:
        self._seeds = [None] * self.num_envs

    def _reset_options(self) -> None:
        self._options = [{} for _ in range(self.num_envs)]

    @property
    def unwrapped(self) -> VecEnv:
        return self.venv.unwrapped if isinstance(self, VecEnvWrapper) else self

    def getattr_depth_check(self, name: str, already_found: bool) -> str | None:
        """The class name holding `name` below a wrapper that also has it (None when there is none)."""
        if hasattr(self, name) and already_found:
            return f"{type(self).__module__}.{type(self).__name__}"
        return None

    def _get_indices(self, indices) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, (int, np.integer)):
            return [int(indices)]
        return list(indices)


class VecEnvWrapper(VecEnv):
    """A VecEnv around another (`venv`); subclasses override reset and step_wait. Unknown attributes are
    read from the wrapped VecEnv (refused when two levels below both define it)."""

    def __init__(self, venv: VecEnv, observation_space=None, action_space=None):
        if not is_sb3_vec_env(venv):
            raise TypeError(f"{type(self).__name__} wraps an SB3-style VecEnv (DummyVecEnv, SubprocVecEnv, ...), "
                            f"got {type(venv).__name__}")
        self.venv = venv
        super().__init__(venv.num_envs, observation_space or venv.observation_space,
                         action_space or venv.action_space)
        self.class_attributes = dict(inspect.getmembers(type(self)))

    def step_async(self, actions) -> None:
        self.venv.step_async(actions)

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        return self.venv.step_wait()

    def seed(self, seed: int | None = None):
        return self.venv.seed(seed)

    def set_options(self, options=None) -> None:
        return self.venv.set_options(options)

    def close(self) -> None:
        return self.venv.close()

    def render(self, mode: str | None = None):
        return self.venv.render(mode=mode)

    def get_images(self):
        return self.venv.get_images()

    def has_attr(self, attr_name: str) -> bool:
        return self.venv.has_attr(attr_name)

    def get_attr(self, attr_name: str, indices=None) -> list:
        return self.venv.get_attr(attr_name, indices)

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        return self.venv.set_attr(attr_name, value, indices)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list:
        return self.venv.env_method(method_name, *method_args, indices=indices, **method_kwargs)

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return self.venv.env_is_wrapped(wrapper_class, indices=indices)

    @property
    def reset_infos(self):
        return self.venv.reset_infos if "venv" in self.__dict__ else self.__dict__.get("_reset_infos")

    @reset_infos.setter
    def reset_infos(self, value) -> None:
        self.__dict__["_reset_infos"] = value

    def __getattr__(self, name: str):
        if name.startswith("__") or name == "venv":
            raise AttributeError(name)
        blocker = self.venv.getattr_depth_check(name, already_found=False)
        if blocker is not None:
            raise AttributeError(f"{name!r} is defined by several wrappers below {type(self).__name__} "
                                 f"(also in {blocker}); read it from the one you mean")
        return getattr(self.venv, name)

    def getattr_depth_check(self, name: str, already_found: bool) -> str | None:
        own = name in self.__dict__ or name in self.class_attributes
        if own and already_found:
            return f"{type(self).__module__}.{type(self).__name__}"
        return self.venv.getattr_depth_check(name, already_found or own)


def is_sb3_vec_env(env: Any) -> bool:
    return isinstance(env, VecEnv)


def unwrap_vec_wrapper(env: Any, wrapper_class: type) -> Any:
    """The first `wrapper_class` in an SB3 VecEnv's wrapper chain, or None."""
    while isinstance(env, VecEnv):
        if isinstance(env, wrapper_class):
            return env
        env = getattr(env, "venv", None) if isinstance(env, VecEnvWrapper) else None
    return None


def unwrap_vec_normalize(env: Any):
    """The VecNormalize in `env`'s wrapper chain, or None (SB3's helper; it takes a VecEnv)."""
    from .normalize import VecNormalize
    return unwrap_vec_wrapper(env, VecNormalize)


def is_vecenv_wrapped(env: Any, wrapper_class: type) -> bool:
    return unwrap_vec_wrapper(env, wrapper_class) is not None


def sync_envs_normalization(env: Any, eval_env: Any) -> None:
    """Copy every VecNormalize's statistics in `env` to the VecNormalize at the same depth of `eval_env`."""
    from .normalize import VecNormalize
    while isinstance(env, VecEnvWrapper):
        if isinstance(env, VecNormalize):
            if not isinstance(eval_env, VecNormalize):
                raise ValueError(f"eval_env has no VecNormalize where env has one (found "
                                 f"{type(eval_env).__name__})")
            eval_env.obs_rms = copy_rms(env.obs_rms)
            eval_env.ret_rms = copy_rms(env.ret_rms)
        env = env.venv
        eval_env = getattr(eval_env, "venv", None)


def copy_rms(rms):
    """A copy of a RunningMeanStd (or a dict of them)."""
    if rms is None:
        return None
    if isinstance(rms, dict):
        return {k: copy_rms(v) for k, v in rms.items()}
    out = type(rms)(rms.mean.shape)
    out.load_state_dict(rms.state_dict())
    return out


def _show(image: np.ndarray) -> None:
    """Show an rgb frame in a pygame window (render("human") from rgb_array envs)."""
    try:
        import pygame
    except ImportError:
        warnings.warn("render('human') from rgb_array envs shows the frames with pygame, which is not "
                      "installed", stacklevel=3)
        return
    h, w = image.shape[:2]
    if not pygame.display.get_init():
        pygame.display.init()
    screen = pygame.display.get_surface()
    if screen is None or screen.get_size() != (w, h):
        screen = pygame.display.set_mode((w, h))
    surface = pygame.surfarray.make_surface(np.ascontiguousarray(image[..., :3].transpose(1, 0, 2)))
    screen.blit(surface, (0, 0))
    pygame.event.pump()
    pygame.display.flip()
