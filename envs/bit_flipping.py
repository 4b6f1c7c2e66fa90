"""BitFlipping (Andrychowicz et al. 2017, HER): flip bits of an n-bit state to match a goal.

    BitFlippingEnv(n_bits=10, continuous=False, max_steps=None, discrete_obs_space=False,
                   image_obs_space=False, channel_first=True, render_mode="human")     (SB3's signature)

Spaces: observation, achieved_goal, desired_goal are float32 0/1 vectors (n_bits,); the
observation and achieved_goal are the current bits. With discrete_obs_space=True each is one int
in Discrete(2**n_bits) (bit i has weight 2**i); with image_obs_space=True each is a uint8 image
(1, 36, 36) (or (36, 36, 1) with channel_first=False) holding the bits * 255 in its first n_bits
pixels (n_bits <= 1296). Actions: Discrete(n_bits) flips one bit, or with ``continuous=True`` a
Box(-1, 1, (n_bits,)) flips every bit whose action is > 0. Sparse reward: 0 when all bits match,
else -1; `compute_reward` takes goals in the observation's encoding, batched. An episode terminates
on success and is truncated after max_steps steps (default n_bits), as in SB3. Differences from SB3:
the goal is random (SB3 always asks for all ones) and the default encoding is float32 (SB3: MultiBinary).
render_mode "human" prints the state and goal, "ansi" returns them.
"""
from __future__ import annotations

import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit

from envs.goal_env import GoalEnv


class BitFlippingEnv(GoalEnv):
    """n-bit flipping GoalEnv; success is an exact match (distance 0)."""

    metadata = {"render_modes": ["human", "ansi"], "render_fps": 4}

    def __init__(self, n_bits: int = 10, continuous: bool = False, max_steps: int | None = None,
                 discrete_obs_space: bool = False, image_obs_space: bool = False, channel_first: bool = True,
                 render_mode: str | None = "human"):
        if isinstance(n_bits, bool) or not isinstance(n_bits, (int, np.integer)) or n_bits < 1:
            raise ValueError(f"n_bits must be an int >= 1, got {n_bits!r}")
        if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer))
                                      or max_steps < 1):
            raise ValueError(f"max_steps must be None or an int >= 1, got {max_steps!r}")
        if discrete_obs_space and image_obs_space:
            raise ValueError("choose at most one of discrete_obs_space and image_obs_space")
        self.n_bits = int(n_bits)
        self.continuous = bool(continuous)
        self.max_steps = self.n_bits if max_steps is None else int(max_steps)
        self.discrete_obs_space, self.image_obs_space = bool(discrete_obs_space), bool(image_obs_space)
        self.image_shape = (1, 36, 36) if channel_first else (36, 36, 1)
        self.reward_type = "sparse"
        self.distance_threshold = 0.0
        self.terminate_on_success = True
        if self.discrete_obs_space:
            if self.n_bits > 62:
                raise ValueError(f"discrete_obs_space needs n_bits <= 62, got {self.n_bits}")
            bits = spaces.Discrete(2 ** self.n_bits)
        elif self.image_obs_space:
            if self.n_bits > 36 * 36:
                raise ValueError(f"image_obs_space needs n_bits <= {36 * 36}, got {self.n_bits}")
            bits = spaces.Box(0, 255, self.image_shape, dtype=np.uint8)
        else:
            bits = spaces.Box(0.0, 1.0, shape=(self.n_bits,), dtype=np.float32)
        self.current_step = 0
        self.observation_space = spaces.Dict({"observation": bits, "achieved_goal": bits, "desired_goal": bits})
        if self.continuous:
            self.action_space = spaces.Box(-1.0, 1.0, shape=(self.n_bits,), dtype=np.float32)
        else:
            self.action_space = spaces.Discrete(self.n_bits)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        self.state = np.zeros(self.n_bits, dtype=np.float32)
        self.goal = np.ones(self.n_bits, dtype=np.float32)

    def encode(self, bits: np.ndarray):
        """0/1 vector (n_bits,) -> the observation encoding (a copy)."""
        if self.discrete_obs_space:
            return int(np.dot(bits.astype(np.int64), 2 ** np.arange(self.n_bits, dtype=np.int64)))
        if self.image_obs_space:
            image = np.zeros(int(np.prod(self.image_shape)), np.uint8)
            image[:self.n_bits] = bits * 255
            return image.reshape(self.image_shape)
        return bits.astype(np.float32, copy=True)

    def decode(self, goals) -> np.ndarray:
        """Goals in the observation encoding, batched (...) -> float32 bits (..., n_bits)."""
        g = np.asarray(goals)
        if self.discrete_obs_space:
            g = g.astype(np.int64)
            if g.ndim and g.shape[-1] == 1:  # (..., 1) as replay buffers store Discrete observations
                g = g[..., 0]
            return ((g[..., None] >> np.arange(self.n_bits)) & 1).astype(np.float32)
        if self.image_obs_space:
            flat = g.reshape(*g.shape[:g.ndim - 3], -1)
            return (flat[..., :self.n_bits] > 127).astype(np.float32)
        return g.astype(np.float32, copy=False)

    def compute_success(self, achieved_goal, desired_goal) -> np.ndarray:
        return super().compute_success(self.decode(achieved_goal), self.decode(desired_goal))

    def compute_reward(self, achieved_goal, desired_goal, info) -> np.ndarray:
        return super().compute_reward(self.decode(achieved_goal), self.decode(desired_goal), info)

    def compute_terminated(self, achieved_goal, desired_goal, info) -> np.ndarray:
        """Success terminates (compute_success decodes the goals itself)."""
        return self.compute_success(achieved_goal, desired_goal)

    def compute_truncated(self, achieved_goal, desired_goal, info) -> np.ndarray:
        return np.zeros(self.decode(achieved_goal).shape[:-1], dtype=bool)

    def _get_obs(self) -> dict:
        return {"observation": self.encode(self.state), "achieved_goal": self.encode(self.state),
                "desired_goal": self.encode(self.goal)}

    def _get_info(self, obs: dict) -> dict:
        return {"is_success": float(self.compute_success(obs["achieved_goal"], obs["desired_goal"]))}

    def reset(self, *, seed=None, options=None):
        """Random state and a different random goal; returns (obs dict, info)."""
        super().reset(seed=seed, options=options)
        self.current_step = 0
        self.state = self.np_random.integers(0, 2, size=self.n_bits).astype(np.float32)
        self.goal = self.np_random.integers(0, 2, size=self.n_bits).astype(np.float32)
        while np.array_equal(self.goal, self.state):
            self.goal = self.np_random.integers(0, 2, size=self.n_bits).astype(np.float32)
        obs = self._get_obs()
        return obs, self._get_info(obs)

    def step(self, action):
        """action: int bit index (or (n_bits,) floats if continuous) -> (obs, reward, terminated, truncated, info)."""
        if self.continuous:
            flip = np.asarray(action, dtype=np.float32).reshape(self.n_bits) > 0
        else:
            flip = np.zeros(self.n_bits, dtype=bool)
            flip[int(np.asarray(action).reshape(()))] = True
        self.state[flip] = 1.0 - self.state[flip]
        self.current_step += 1
        obs = self._get_obs()
        info = self._get_info(obs)
        reward, terminated, truncated = self._step_outcome(obs, info)
        return obs, reward, terminated, truncated or self.current_step >= self.max_steps, info

    def render(self):
        """ansi: the state and goal as strings of 0/1; human: prints them."""
        bits = lambda v: "".join(str(int(b)) for b in v)  # noqa: E731
        text = f"state {bits(self.state)}  goal {bits(self.goal)}"
        if self.render_mode == "human":
            print(text)
        return text if self.render_mode == "ansi" else None


def make_bit_flipping(n_bits: int = 10, **kwargs) -> TimeLimit:
    """Entry point for corenn/BitFlipping-v0: the env wrapped in TimeLimit(max_episode_steps=n_bits)
    (no rendering unless render_mode is given)."""
    kwargs.setdefault("render_mode", None)
    return TimeLimit(BitFlippingEnv(n_bits=n_bits, **kwargs), max_episode_steps=int(n_bits))
