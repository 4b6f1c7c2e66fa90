"""ArmReachPixels: the ArmReach arm seen from above as a small uint8 image (for CNN policies).

``ArmReachPixelsEnv`` owns an ``ArmReachEnv`` (``env.arm``) and only changes what the agent sees:
dynamics, actions, goal sampling, reset noise, seeding, reward and ``info`` ("is_success",
"distance") are the arm's own. Observations:

  obs_mode="pixels"        Box uint8 (size, size, 3), HWC; the goal is only visible in the image
  obs_mode="pixels_state"  Dict {"pixels": that image, "state": (8,) float32 proprioception}, the
                           arm's "observation" vector (cos q, sin q, joint velocity * dt, fingertip xy)

The image (``ArmRasteriser``) keeps every object in its own colour channel, so overlaps never hide
one: red = goal (a bright disc of 0.02 m plus a dim disc of the success radius), green = the two
links (thick anti-aliased segments; the shoulder link dimmer than the forearm), blue = fingertip.
The view is centred on the base and spans the reach plus 0.02 m, y up. Dense reward (-distance)
is the default here; reward_type="sparse" gives -(d > threshold).

Composition, not a subclass: ArmReachEnv is a GoalEnv whose reset checks for the goal Dict
observation space, and a wrapper would leave ``env.unwrapped`` with the state observation space.

Frame stacking is not needed: the position servos settle within a step (under random actions
|joint velocity * dt| averages 0.002-0.006 rad, against up to 0.25 rad per action), so one frame
is close to Markov. Should velocity matter, stack frames on the channel axis (SB3's
``VecFrameStack(venv, n_stack, channels_order="last")``).
"""
from __future__ import annotations

import math

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium import logger, spaces

from envs.reach import ArmReachEnv

OBS_MODES = ("pixels", "pixels_state")
MIN_SIZE = 36  # the smallest image SB3's NatureCNN (8/4, 4/2, 3/1 convolutions) accepts

GOAL_CHANNEL, LINK_CHANNEL, TIP_CHANNEL = 0, 1, 2
GOAL_RADIUS, LINK_HALF_WIDTH, TIP_RADIUS = 0.02, 0.012, 0.015  # metres
GOAL_VALUE, THRESHOLD_VALUE = 255, 90
LINK_VALUES = (170, 255)  # shoulder link, forearm
TIP_VALUE = 255


class ArmRasteriser:
    """NumPy rasteriser for the top-down arm: anti-aliased thick segments and discs, one channel each.

    ``extent`` metres from the base fit half the image. Drawing touches only each shape's
    bounding box; the goal layer is cached while the goal stays put.
    """

    def __init__(self, size: int, extent: float, threshold: float):
        self.size = int(size)
        self.scale = 0.5 * self.size / float(extent)  # pixels per metre
        self.threshold = float(threshold)
        self.centres = np.arange(self.size, dtype=np.float32) + 0.5  # pixel centres, in pixels
        # radii in pixels, at least one pixel so the shapes survive small images
        self.goal_px = max(1.0, GOAL_RADIUS * self.scale)
        self.link_px = max(0.75, LINK_HALF_WIDTH * self.scale)
        self.tip_px = max(1.0, TIP_RADIUS * self.scale)
        self._goal_key = None
        self._goal_image = None

    def to_pixel(self, xy) -> np.ndarray:
        """World (..., 2) metres -> continuous (..., 2) (column, row); pixel (r, c) covers [c, c+1) x [r, r+1)."""
        xy = np.asarray(xy, dtype=np.float64)
        return np.stack([0.5 * self.size + xy[..., 0] * self.scale, 0.5 * self.size - xy[..., 1] * self.scale], -1)

    def render(self, chain, goal) -> np.ndarray:
        """chain (K, 2) base..fingertip and goal (2,) in metres -> a new (size, size, 3) uint8 image."""
        image = self._goal_layer(goal).copy()
        points = self.to_pixel(chain)
        links = image[:, :, LINK_CHANNEL]
        for k in range(len(points) - 1):
            self._segment(links, points[k], points[k + 1], self.link_px, LINK_VALUES[min(k, len(LINK_VALUES) - 1)])
        self._disc(image[:, :, TIP_CHANNEL], points[-1], self.tip_px, TIP_VALUE)
        return image

    def _goal_layer(self, goal) -> np.ndarray:
        key = tuple(np.asarray(goal, dtype=np.float64).tolist())
        if key != self._goal_key:
            image = np.zeros((self.size, self.size, 3), dtype=np.uint8)
            centre = self.to_pixel(key)
            self._disc(image[:, :, GOAL_CHANNEL], centre, self.threshold * self.scale, THRESHOLD_VALUE)
            self._disc(image[:, :, GOAL_CHANNEL], centre, self.goal_px, GOAL_VALUE)
            self._goal_key, self._goal_image = key, image
        return self._goal_image

    def _window(self, x0, y0, x1, y1, pad):
        """Index ranges (r0, r1, c0, c1) covering the pixel box [x0 - pad, x1 + pad] x [y0 - pad, y1 + pad], clipped."""
        n = self.size
        return (max(0, math.floor(y0 - pad)), min(n, math.ceil(y1 + pad) + 1),
                max(0, math.floor(x0 - pad)), min(n, math.ceil(x1 + pad) + 1))

    def _paint(self, channel, window, distance, radius, value) -> None:
        """Coverage clip(radius + 0.5 - distance, 0, 1) * value, max-composited into channel[window]."""
        r0, r1, c0, c1 = window
        coverage = np.subtract(radius + 0.5, distance, out=distance)
        np.minimum(coverage, 1.0, out=coverage)
        np.maximum(coverage, 0.0, out=coverage)
        coverage *= value
        coverage += 0.5
        region = channel[r0:r1, c0:c1]
        np.maximum(region, coverage.astype(np.uint8), out=region)

    def _disc(self, channel, centre, radius: float, value: int) -> None:
        x, y = float(centre[0]), float(centre[1])
        window = r0, r1, c0, c1 = self._window(x, y, x, y, radius + 1.0)
        if r0 >= r1 or c0 >= c1:
            return
        dx = self.centres[c0:c1] - x
        dy = self.centres[r0:r1, None] - y
        distance = np.sqrt(dx * dx + dy * dy)
        self._paint(channel, window, distance, radius, value)

    def _segment(self, channel, p, q, half_width: float, value: int) -> None:
        px, py, qx, qy = float(p[0]), float(p[1]), float(q[0]), float(q[1])
        window = r0, r1, c0, c1 = self._window(min(px, qx), min(py, qy), max(px, qx), max(py, qy), half_width + 1.0)
        if r0 >= r1 or c0 >= c1:
            return
        ex, ey = qx - px, qy - py
        inv_length2 = 1.0 / max(ex * ex + ey * ey, 1e-12)
        dx = self.centres[c0:c1] - px
        dy = self.centres[r0:r1, None] - py
        t = dx * (ex * inv_length2) + dy * (ey * inv_length2)  # projection onto the segment, (rows, cols)
        np.minimum(t, 1.0, out=t)
        np.maximum(t, 0.0, out=t)
        ox = dx - t * ex
        oy = dy - t * ey
        ox *= ox
        oy *= oy
        ox += oy
        self._paint(channel, window, np.sqrt(ox, out=ox), half_width, value)


class ArmReachPixelsEnv(gym.Env):
    """ArmReach observed through a (size, size, 3) uint8 top-down image; see the module docstring.

    The arm's arguments (distance_threshold, max_delta, frame_skip, goal_radius, init_noise) pass
    through unchanged; ``render_mode`` "rgb_array" / "human" give the arm's large pygame frame
    (width x height), not the observation.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 25}

    def __init__(self, obs_mode: str = "pixels", size: int = 64, reward_type: str = "dense",
                 distance_threshold: float = 0.05, max_delta: float = 0.25, frame_skip: int = 20,
                 goal_radius=(0.08, 0.22), init_noise: float = 0.1, render_mode: str | None = None,
                 width: int = 480, height: int = 480):
        if obs_mode not in OBS_MODES:
            raise ValueError(f"obs_mode must be one of {OBS_MODES}, got {obs_mode!r}")
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
            raise TypeError(f"size must be an int (image height = width in pixels), got {size!r}")
        if size < MIN_SIZE:
            raise ValueError(f"size must be at least {MIN_SIZE} pixels (SB3's NatureCNN needs it), got {size}")
        self.arm = ArmReachEnv(reward_type=reward_type, distance_threshold=distance_threshold,
                               max_delta=max_delta, frame_skip=frame_skip, goal_radius=goal_radius,
                               init_noise=init_noise, render_mode=render_mode, width=width, height=height)
        self.obs_mode, self.size = obs_mode, int(size)
        self.render_mode = render_mode
        self.metadata = dict(self.metadata, render_fps=self.arm.metadata["render_fps"])
        self.action_space = self.arm.action_space
        pixels = spaces.Box(0, 255, shape=(self.size, self.size, 3), dtype=np.uint8)
        if obs_mode == "pixels":
            self.observation_space = pixels
        else:
            self.observation_space = spaces.Dict({"pixels": pixels,
                                                  "state": self.arm.observation_space["observation"]})
        self.rasteriser = ArmRasteriser(self.size, extent=float(self.arm.link_lengths.sum()) + 0.02,
                                        threshold=self.arm.distance_threshold)
        model, body = self.arm.model, mujoco.mjtObj.mjOBJ_BODY
        self._link_ids = [mujoco.mj_name2id(model, body, name) for name in ("link1", "link2")]

    # ---- the arm's state, shared ---------------------------------------------------------
    @property
    def np_random(self) -> np.random.Generator:
        """The arm's generator: goals and reset noise are drawn from it."""
        return self.arm.np_random

    @np_random.setter
    def np_random(self, value: np.random.Generator) -> None:
        self.arm.np_random = value

    @property
    def np_random_seed(self) -> int:
        return self.arm.np_random_seed

    @property
    def reward_type(self) -> str:
        return self.arm.reward_type

    @property
    def goal(self) -> np.ndarray:
        """(2,) goal xy in metres."""
        return self.arm.goal

    @property
    def fingertip(self) -> np.ndarray:
        """(2,) fingertip xy in metres."""
        return self.arm.fingertip

    def chain(self) -> np.ndarray:
        """(3, 2) base, elbow and fingertip xy in metres, from MuJoCo's body and site positions."""
        return np.vstack([self.arm.data.xpos[self._link_ids, :2], self.arm.fingertip])

    def pixels(self) -> np.ndarray:
        """The current (size, size, 3) uint8 observation image (a new array)."""
        return self.rasteriser.render(self.chain(), self.arm.goal)

    def _observation(self, arm_obs: dict):
        if self.obs_mode == "pixels":
            return self.pixels()
        return {"pixels": self.pixels(), "state": arm_obs["observation"]}

    # ---- gymnasium API -------------------------------------------------------------------
    def reset(self, *, seed=None, options=None):
        """The arm's reset (same seed -> same pose and goal); returns (observation, info)."""
        arm_obs, info = self.arm.reset(seed=seed, options=options)
        self._np_random, self._np_random_seed = self.arm.np_random, self.arm.np_random_seed
        return self._observation(arm_obs), info

    def step(self, action):
        """action (2,) in [-1, 1] -> (observation, reward, terminated, truncated, info), as ArmReach."""
        arm_obs, reward, terminated, truncated, info = self.arm.step(action)
        return self._observation(arm_obs), reward, terminated, truncated, info

    def render(self):
        """The arm's pygame frame: rgb_array (height, width, 3) uint8; human draws a window, returns None."""
        if self.render_mode is None:
            logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'.")
            return None
        return self.arm.render()

    def close(self):
        """Close the arm's pygame window if one is open; safe to call twice."""
        self.arm.close()
