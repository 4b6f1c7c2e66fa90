"""Identity environments (SB3's IdentityEnv / IdentityEnvBox): reward for repeating the observation."""
import gymnasium as gym
import numpy as np


class IdentityEnv(gym.Env):
    """Observation: a class in Discrete(dim); action: a class; reward 1 when they match; ep_length steps."""

    def __init__(self, dim: int = 4, ep_length: int = 50):
        self.observation_space = gym.spaces.Discrete(dim)
        self.action_space = gym.spaces.Discrete(dim)
        self.ep_length = ep_length
        self.state, self.t = 0, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.state = int(self.np_random.integers(self.observation_space.n))
        return self.state, {}

    def step(self, action):
        reward = float(int(action) == self.state)
        self.t += 1
        self.state = int(self.np_random.integers(self.observation_space.n))
        return self.state, reward, False, self.t >= self.ep_length, {}


class IdentityEnvBox(gym.Env):
    """Observation s ~ U[-1, 1] (shape (1,)); action in Box[-1, 1]; reward 1 when |a - s| <= eps."""

    def __init__(self, eps: float = 0.5, ep_length: int = 50):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.eps, self.ep_length = eps, ep_length
        self.state, self.t = np.zeros(1, np.float32), 0

    def _draw(self):
        self.state = self.np_random.uniform(-1.0, 1.0, (1,)).astype(np.float32)
        return self.state.copy()

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._draw(), {}

    def step(self, action):
        reward = float(abs(float(np.asarray(action).reshape(-1)[0]) - float(self.state[0])) <= self.eps)
        self.t += 1
        return self._draw(), reward, False, self.t >= self.ep_length, {}
