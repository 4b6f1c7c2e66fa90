"""ArmReach: a planar two-link MuJoCo arm whose fingertip must reach a goal (a GoalEnv).

Spaces (float32):
  observation  (8,)  cos q (2), sin q (2), joint velocity * dt (2, rad/step, clipped to +-1), fingertip xy (2)
  achieved_goal (2,) fingertip xy in metres;  desired_goal (2,) goal xy in metres
  action       (2,)  in [-1, 1]: joint position deltas; the servo targets are q + action * max_delta
Goals lie in the annulus goal_radius = (0.08, 0.22) m around the base (reach 0.24 m); success
is a fingertip within distance_threshold = 0.05 m, as in FetchReach. No termination; the
50-step limit comes from registration.
"""
from __future__ import annotations

import os

import mujoco
import numpy as np
from gymnasium import logger, spaces

from envs.goal_env import GoalEnv

ASSET = os.path.join(os.path.dirname(__file__), "assets", "arm_reach.xml")


class ArmReachEnv(GoalEnv):
    """Goal-conditioned reaching with a 2-link arm driven through ``mujoco`` (MjModel / MjData / mj_step)."""

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 25}

    def __init__(self, reward_type: str = "sparse", distance_threshold: float = 0.05,
                 max_delta: float = 0.25, frame_skip: int = 20, goal_radius=(0.08, 0.22),
                 init_noise: float = 0.1, render_mode: str | None = None,
                 width: int = 480, height: int = 480):
        self.reward_type = reward_type
        self._check_reward_type()
        self.distance_threshold = float(distance_threshold)
        self.max_delta = float(max_delta)
        self.frame_skip = int(frame_skip)
        self.goal_radius = (float(goal_radius[0]), float(goal_radius[1]))
        self.init_noise = float(init_noise)
        self.home_qpos = np.array([0.0, 1.2])

        self.model = mujoco.MjModel.from_xml_path(ASSET)
        self.data = mujoco.MjData(self.model)
        self.dt = self.model.opt.timestep * self.frame_skip
        self.metadata = dict(self.metadata, render_fps=int(round(1.0 / self.dt)))
        name = mujoco.mjtObj
        self._body_ids = [mujoco.mj_name2id(self.model, name.mjOBJ_BODY, b) for b in ("link1", "link2")]
        self._tip_id = mujoco.mj_name2id(self.model, name.mjOBJ_SITE, "fingertip")
        self._target_id = mujoco.mj_name2id(self.model, name.mjOBJ_SITE, "target")
        self.link_lengths = np.array([self.model.body_pos[self._body_ids[1], 0],
                                      self.model.site_pos[self._tip_id, 0]])
        self.elbow_range = self.model.jnt_range[1].copy()
        if self.goal_radius[1] >= self.link_lengths.sum() or self.goal_radius[0] <= 0:
            raise ValueError(f"goal_radius {goal_radius} must lie inside the reach {self.link_lengths.sum():.3f}")

        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        reach = float(self.link_lengths.sum()) + 0.01
        goal_box = spaces.Box(-reach, reach, shape=(2,), dtype=np.float32)
        obs_high = np.array([1, 1, 1, 1, 1, 1, reach, reach], dtype=np.float32)
        self.observation_space = spaces.Dict({
            "observation": spaces.Box(-obs_high, obs_high, dtype=np.float32),
            "achieved_goal": goal_box,
            "desired_goal": goal_box,
        })
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        self._render_size = (int(width), int(height))
        self._renderer = None
        self.goal = np.zeros(2)
        self._steps = 0

    # ---- state -------------------------------------------------------------------
    @property
    def fingertip(self) -> np.ndarray:
        """(2,) fingertip xy from MuJoCo's site position."""
        return self.data.site_xpos[self._tip_id, :2].copy()

    def sample_goal(self) -> np.ndarray:
        """(2,) goal uniform in area over the annulus goal_radius, at least the threshold from the tip."""
        r0, r1 = self.goal_radius
        while True:
            r = np.sqrt(self.np_random.uniform(r0 * r0, r1 * r1))
            angle = self.np_random.uniform(-np.pi, np.pi)
            goal = np.array([r * np.cos(angle), r * np.sin(angle)])
            if np.linalg.norm(goal - self.fingertip) > self.distance_threshold:
                return goal

    def _get_obs(self) -> dict:
        q, tip = self.data.qpos[:2], self.fingertip
        obs = np.concatenate([np.cos(q), np.sin(q),
                              np.clip(self.data.qvel[:2] * self.dt, -1.0, 1.0), tip])
        return {"observation": obs.astype(np.float32),
                "achieved_goal": tip.astype(np.float32),
                "desired_goal": self.goal.astype(np.float32)}

    def _get_info(self, obs: dict) -> dict:
        ag, g = obs["achieved_goal"], obs["desired_goal"]
        return {"is_success": float(self.compute_success(ag, g)),
                "distance": float(np.linalg.norm(ag.astype(np.float64) - g))}

    # ---- gymnasium API -----------------------------------------------------------
    def reset(self, *, seed=None, options=None):
        """Home pose plus uniform noise, a fresh goal; returns (obs dict, info)."""
        super().reset(seed=seed, options=options)
        mujoco.mj_resetData(self.model, self.data)
        qpos = self.home_qpos + self.np_random.uniform(-self.init_noise, self.init_noise, size=2)
        self.data.qpos[:2] = qpos
        self.data.ctrl[:2] = qpos
        mujoco.mj_forward(self.model, self.data)
        self.goal = self.sample_goal()
        self.model.site_pos[self._target_id, :2] = self.goal
        mujoco.mj_forward(self.model, self.data)
        self._steps = 0
        obs = self._get_obs()
        if self.render_mode == "human":
            self.render()
        return obs, self._get_info(obs)

    def step(self, action):
        """action (2,) in [-1, 1] -> (obs, reward, terminated, truncated, info)."""
        a = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
        target = self.data.qpos[:2] + a * self.max_delta
        target[1] = np.clip(target[1], *self.elbow_range)
        self.data.ctrl[:2] = target
        mujoco.mj_step(self.model, self.data, nstep=self.frame_skip)
        self._steps += 1
        obs = self._get_obs()
        info = self._get_info(obs)
        reward, terminated, truncated = self._step_outcome(obs, info)
        if self.render_mode == "human":
            self.render()
        return obs, reward, terminated, truncated, info

    def render(self):
        """rgb_array: (H, W, 3) uint8 frame; human: draws into a pygame window and returns None."""
        if self.render_mode is None:
            logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'.")
            return None
        if self._renderer is None:
            from envs.rendering import ArmRenderer
            self._renderer = ArmRenderer(*self._render_size, extent=self.link_lengths.sum() + 0.04,
                                         fps=self.metadata["render_fps"], title="corenn ArmReach")
        ids = self._body_ids
        chain = np.stack([self.data.xpos[ids[0], :2], self.data.xpos[ids[1], :2], self.fingertip])
        goal = self.data.site_xpos[self._target_id, :2]
        d = float(np.linalg.norm(chain[-1] - goal))
        scene = dict(chain=chain, goal=goal, threshold=self.distance_threshold,
                     success=d <= self.distance_threshold, workspace=self.goal_radius,
                     caption=f"step {self._steps}   d = {d:.3f} m")
        if self.render_mode == "rgb_array":
            return self._renderer.rgb_array(**scene)
        self._renderer.show(**scene)
        return None

    def close(self):
        """Close the pygame window if one is open; safe to call twice."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


def ik_joint_targets(env: ArmReachEnv, goal=None) -> np.ndarray:
    """(2,) joint angles putting the fingertip on ``goal`` (default env.goal): elbow-positive IK,
    shoulder angle unwrapped to the one nearest the current shoulder angle."""
    l1, l2 = env.link_lengths
    x, y = env.goal if goal is None else np.asarray(goal, dtype=np.float64)
    c2 = np.clip((x * x + y * y - l1 * l1 - l2 * l2) / (2 * l1 * l2), -1.0, 1.0)
    q2 = np.clip(np.arccos(c2), *env.elbow_range)
    q1 = np.arctan2(y, x) - np.arctan2(l2 * np.sin(q2), l1 + l2 * np.cos(q2))
    q1_now = env.data.qpos[0]
    q1 = q1_now + (q1 - q1_now + np.pi) % (2 * np.pi) - np.pi
    return np.array([q1, q2])


def scripted_action(env: ArmReachEnv) -> np.ndarray:
    """(2,) float32 action in [-1, 1] steering the joints toward the IK solution (uses the true state)."""
    delta = ik_joint_targets(env) - env.data.qpos[:2]
    return np.clip(delta / env.max_delta, -1.0, 1.0).astype(np.float32)
