"""rl-zoo3's velocity-masked tasks: MaskVelocityWrapper and the ...NoVel ids."""
import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers the ids)
from envs.masked_velocity import MaskVelocityWrapper


@pytest.mark.parametrize("env_id,base,zeroed", [("CartPoleNoVel-v1", "CartPole-v1", [1, 3]),
                                                ("corenn/CartPoleNoVel-v1", "CartPole-v1", [1, 3]),
                                                ("PendulumNoVel-v1", "Pendulum-v1", [2]),
                                                ("corenn/PendulumNoVel-v1", "Pendulum-v1", [2])])
def test_velocities_are_zero_and_positions_kept(env_id, base, zeroed):
    env, ref = gym.make(env_id), gym.make(base)
    assert env.observation_space == ref.observation_space and env.action_space == ref.action_space
    obs, _ = env.reset(seed=3)
    full, _ = ref.reset(seed=3)
    kept = [i for i in range(len(full)) if i not in zeroed]
    for _ in range(20):
        assert np.all(obs[zeroed] == 0) and np.array_equal(obs[kept], full[kept])
        assert np.any(full[zeroed] != 0) or _ == 0
        action = ref.action_space.sample()
        obs, r, term, trunc, _ = env.step(action)
        full, r_ref, *_ = ref.step(action)
        assert r == r_ref
        if term or trunc:
            break


def test_time_limit_is_the_base_envs():
    env = gym.make("PendulumNoVel-v1")
    env.reset(seed=0)
    steps, term, trunc = 0, False, False
    while not (term or trunc) and steps < 300:
        *_, term, trunc, _ = env.step(env.action_space.sample())
        steps += 1
    assert steps == 200 and trunc


def test_wrapper_errors():
    with pytest.raises(ValueError, match="no velocity indices"):
        MaskVelocityWrapper(gym.make("Acrobot-v1"))
    with pytest.raises(ValueError, match="out of range"):
        MaskVelocityWrapper(gym.make("CartPole-v1"), velocity_indices=[7])
    with pytest.raises(TypeError, match="flat Box"):
        MaskVelocityWrapper(gym.make("FrozenLake-v1"))
    assert np.array_equal(MaskVelocityWrapper(gym.make("Acrobot-v1"), velocity_indices=[4, 5]).mask,
                          [1, 1, 1, 1, 0, 0])
