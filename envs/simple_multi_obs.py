"""SimpleMultiObsEnv: SB3's grid world with Dict observations {"vec": column vector, "img": row image}.

    SimpleMultiObsEnv(num_col=4, num_row=4, random_start=True, discrete_actions=True, channel_last=True)

A num_row x num_col grid; states are numbered row by row, the goal is the last state, and the inner
cells (every cell not on the border) are walls, so on SB3's 4x4 grid states 5, 6, 9 and 10 are blocked.
Actions: Discrete(4) [left, down, right, up], or with discrete_actions=False a Box(0, 1, (4,)) whose
argmax is the move. Reward -0.1 per step, 1.0 on reaching the goal (which terminates); an episode is
truncated after 100 steps. Observations: "vec" float64 (5,) in [0, 1) names the column, "img" uint8
(64, 64, 1) (or (1, 64, 64) with channel_last=False) names the row. The vectors and images are drawn
once from a fixed seed, so every instance (every sub-env of a vector env) shares them; the start
state (random_start: any non-goal state) comes from `reset(seed=...)`.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

VECTOR_SIZE = 5
IMAGE_SIDE = 64
_ACTIONS = ("left", "down", "right", "up")


class SimpleMultiObsEnv(gym.Env):
    """Grid world with an image and a vector observation (SB3's test env for MultiInputPolicy)."""

    metadata = {"render_modes": ["human", "ansi"], "render_fps": 4}

    def __init__(self, num_col: int = 4, num_row: int = 4, random_start: bool = True, discrete_actions: bool = True,
                 channel_last: bool = True, render_mode: str | None = None):
        for name, value in (("num_col", num_col), ("num_row", num_row)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
                raise ValueError(f"{name} must be an int >= 2, got {value!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.num_col, self.num_row = int(num_col), int(num_row)
        self.random_start, self.discrete_actions = bool(random_start), bool(discrete_actions)
        self.render_mode = render_mode
        self.img_size = [IMAGE_SIDE, IMAGE_SIDE, 1] if channel_last else [1, IMAGE_SIDE, IMAGE_SIDE]
        self.action_space = spaces.Discrete(4) if discrete_actions else spaces.Box(0, 1, (4,), dtype=np.float32)
        self.observation_space = spaces.Dict({
            "vec": spaces.Box(0, 1, (VECTOR_SIZE,), dtype=np.float64),
            "img": spaces.Box(0, 255, self.img_size, dtype=np.uint8),
        })
        rng = np.random.default_rng(0)
        self._col_vecs = rng.random((self.num_col, VECTOR_SIZE))
        self._row_imgs = rng.integers(0, 255, (self.num_row, *self.img_size), dtype=np.uint8)
        self.max_state = self.num_col * self.num_row - 1
        self.max_count = 100
        self.count, self.state, self.log = 0, 0, ""

    def is_wall(self, state: int) -> bool:
        """Inner cells (not on the grid's border) are walls."""
        row, col = divmod(int(state), self.num_col)
        return 0 < row < self.num_row - 1 and 0 < col < self.num_col - 1

    def _obs(self) -> dict:
        row, col = divmod(self.state, self.num_col)
        return {"vec": self._col_vecs[col].copy(), "img": self._row_imgs[row].copy()}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """-> (obs dict, {}); the start is state 0, or a random open non-goal state with random_start."""
        super().reset(seed=seed)
        self.count = 0
        if self.random_start:
            open_states = [s for s in range(self.max_state) if not self.is_wall(s)]
            self.state = int(open_states[self.np_random.integers(len(open_states))])
        else:
            self.state = 0
        return self._obs(), {}

    def step(self, action):
        """action: 0 left, 1 down, 2 right, 3 up (or a (4,) Box whose argmax is the move)."""
        move = int(np.argmax(action)) if not self.discrete_actions else int(np.asarray(action).reshape(()))
        if not 0 <= move < 4:
            raise ValueError(f"action must be in 0..3, got {action!r}")
        self.count += 1
        prev = self.state
        row, col = divmod(self.state, self.num_col)
        row, col = {0: (row, col - 1), 1: (row + 1, col), 2: (row, col + 1), 3: (row - 1, col)}[move]
        target = row * self.num_col + col
        if 0 <= row < self.num_row and 0 <= col < self.num_col and not self.is_wall(target):
            self.state = target
        got_to_end = self.state == self.max_state
        reward = 1.0 if got_to_end else -0.1
        self.log = f"Went {_ACTIONS[move]} in state {prev}, got to state {self.state}"
        return self._obs(), reward, got_to_end, self.count > self.max_count, {"got_to_end": got_to_end}

    def render(self):
        """human: prints the last move; ansi: returns it."""
        if self.render_mode == "ansi":
            return self.log
        if self.render_mode == "human":
            print(self.log)
        return None
