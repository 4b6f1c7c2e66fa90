"""Rendering of ArmReach with pygame: rgb_array frames and a headless human window."""
import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import gymnasium as gym
import numpy as np
import pygame
import pytest

import envs  # noqa: F401 - registers corenn/ArmReach-v0
from envs.reach import ArmReachEnv, scripted_action
from envs.rendering import GOAL, ArmRenderer


def test_rgb_array_frame_shape_dtype_and_content():
    env = gym.make("corenn/ArmReach-v0", render_mode="rgb_array", width=320, height=240)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    assert frame.std() > 10 and len(np.unique(frame.reshape(-1, 3), axis=0)) > 8
    u = env.unwrapped
    col, row = u._renderer.to_screen(u.goal)
    np.testing.assert_array_equal(frame[row, col], GOAL)  # the goal marker sits at the goal
    env.step(scripted_action(u))
    assert not np.array_equal(env.render(), frame)  # the arm moved
    env.close()


def test_renderer_projects_world_to_screen():
    r = ArmRenderer(width=200, height=100, extent=0.25)
    assert r.to_screen((0.0, 0.0)) == (100, 50)
    assert r.to_screen((0.25, 0.0)) == (150, 50)
    assert r.to_screen((0.0, 0.25)) == (100, 0)  # y up on screen
    frame = r.rgb_array(chain=np.array([[0, 0], [0.1, 0], [0.1, 0.1]]), goal=np.zeros(2), threshold=0.05)
    assert frame.shape == (100, 200, 3)


def test_human_mode_runs_headless_and_close_quits():
    env = ArmReachEnv(render_mode="human", width=160, height=160)
    env.reset(seed=1)  # renders into the window
    assert pygame.display.get_init() and pygame.display.get_surface() is not None
    assert env.step(scripted_action(env))[0] is not None
    assert env.render() is None
    shown = pygame.surfarray.array3d(pygame.display.get_surface())
    assert shown.std() > 10
    env.close()
    assert not pygame.display.get_init()
    env.close()  # closing twice is allowed


def test_render_without_mode_returns_none():
    env = ArmReachEnv()
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None
