"""Draw the corenn/ArmReach-v0 human-mode picture and save it as a PNG (or play episodes live).

  python scripts/render_arm_reach.py                     # writes docs/arm_reach_human.png
  python scripts/render_arm_reach.py --show --episodes 3 # pygame window, scripted IK controller

The PNG is the frame the human-mode window shows (same ArmRenderer drawing code), taken
``--steps`` steps into an episode driven by the scripted controller of envs.reach.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import gymnasium as gym
import pygame

import envs  # noqa: F401 - registers corenn/*
from envs.reach import scripted_action


def save_frame(path: str, seed: int, steps: int, size: int) -> None:
    """Run ``steps`` scripted steps from reset(seed) and save the rendered (size, size, 3) frame."""
    env = gym.make("corenn/ArmReach-v0", render_mode="rgb_array", width=size, height=size)
    env.reset(seed=seed)
    for _ in range(steps):
        env.step(scripted_action(env.unwrapped))
    frame = env.render()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    pygame.image.save(pygame.surfarray.make_surface(frame.transpose(1, 0, 2)), path)
    env.close()
    print(f"wrote {path} ({frame.shape[1]}x{frame.shape[0]})")


def show(seed: int, episodes: int) -> None:
    """Play scripted episodes in the pygame window (render_mode='human')."""
    env = gym.make("corenn/ArmReach-v0", render_mode="human")
    for ep in range(episodes):
        env.reset(seed=seed + ep)
        truncated = False
        while not truncated:
            *_, truncated, info = env.step(scripted_action(env.unwrapped))
        print(f"episode {ep}: success {info['is_success']:.0f}, final distance {info['distance']:.3f} m")
    env.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("docs", "arm_reach_human.png"))
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2, help="scripted steps before the snapshot")
    parser.add_argument("--size", type=int, default=480)
    parser.add_argument("--show", action="store_true", help="open the human-mode window instead")
    parser.add_argument("--episodes", type=int, default=3)
    args = parser.parse_args()
    if args.show:
        show(args.seed, args.episodes)
    else:
        save_frame(args.out, args.seed, args.steps, args.size)


if __name__ == "__main__":
    main()
