"""Build the agents zoo: `python -m agents_zoo build` (agents_zoo.cli), kept under its old name.

    python scripts/train_zoo.py ppo:CartPole-v1 a2c:CartPole-v1 [--seed 0] [-n STEPS] [--episodes 10]
    python scripts/train_zoo.py --readme-only      # regenerate agents_zoo/README.md

takes the options of `python -m agents_zoo build --help`.
"""
import sys

from agents_zoo.cli import main

if __name__ == "__main__":
    sys.exit(main(["build", *sys.argv[1:]]))
