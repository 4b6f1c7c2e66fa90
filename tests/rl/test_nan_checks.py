"""NaN/inf guards (SB3's VecCheckNan): an env that returns NaN, a loss that becomes NaN and a
policy whose actions become NaN stop training with a ValueError naming the env and the step, or
the loss and the update, for every algorithm."""
import re

import gymnasium as gym
import numpy as np
import pytest

import rl
from rl.core.validation import check_env_step, check_final_observations
from rl.tabular import QLearning, ValueIteration

from .identity_envs import IdentityEnvBox

SMALL = dict(policy_kwargs=dict(net_arch=[8]), seed=0)
ON_POLICY = dict(n_steps=8)
OFF_POLICY = dict(learning_starts=4, batch_size=8, buffer_size=200, train_freq=1)
ALGOS = {  # (class, Box actions?, constructor arguments)
    "PPO": (rl.PPO, False, dict(ON_POLICY, batch_size=8, n_epochs=1)),
    "PPO-Box": (rl.PPO, True, dict(ON_POLICY, batch_size=8, n_epochs=1)),
    "A2C": (rl.A2C, False, ON_POLICY),
    "REINFORCE": (rl.REINFORCE, False, ON_POLICY),
    "DQN": (rl.DQN, False, OFF_POLICY),
    "DoubleDQN": (rl.DoubleDQN, False, OFF_POLICY),
    "DDPG": (rl.DDPG, True, OFF_POLICY),
    "TD3": (rl.TD3, True, OFF_POLICY),
    "SAC": (rl.SAC, True, OFF_POLICY),
}


class Poison(gym.Wrapper):
    """Returns a NaN (or inf) reward or observation at its `at`-th step (1-based); `truncate` ends that episode."""

    def __init__(self, env, at: int, what: str, value: float = np.nan, truncate: bool = False):
        super().__init__(env)
        self.at, self.what, self.value, self.truncate, self.t = at, what, value, truncate, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.t += 1
        if self.t == self.at:
            if self.what == "reward":
                reward = self.value
            else:
                obs = np.full_like(obs, self.value)
            truncated = truncated or self.truncate
        return obs, reward, terminated, truncated, info


def two_envs(box: bool, **poison) -> gym.vector.VectorEnv:
    """Sub-env 0 clean, sub-env 1 poisoned."""
    def make():
        return IdentityEnvBox(ep_length=50) if box else gym.make("CartPole-v1")
    return gym.vector.SyncVectorEnv([make, lambda: Poison(make(), **poison)],
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


def build(name: str, env=None):
    cls, box, kwargs = ALGOS[name]
    return cls("MlpPolicy", env if env is not None else two_envs(box, at=10**9, what="reward"), **SMALL, **kwargs)


@pytest.mark.parametrize("name", list(ALGOS))
@pytest.mark.parametrize("what", ["reward", "observation"])
def test_nan_from_the_env_names_the_env_and_the_step(name, what):
    model = build(name, two_envs(ALGOS[name][1], at=7, what=what))
    with pytest.raises(ValueError, match=re.escape(f"env 1 returned a NaN {what} at step 14 (num_timesteps)")):
        model.learn(40)
    assert model.num_timesteps == 14  # stopped at once, nothing trained on the bad step


@pytest.mark.parametrize("name", ["PPO-Box", "SAC", "DQN"])
def test_inf_reward_and_nan_final_observation(name):
    with pytest.raises(ValueError, match=re.escape("env 1 returned an inf reward at step 6")):
        build(name, two_envs(ALGOS[name][1], at=3, what="reward", value=np.inf)).learn(20)
    # a NaN in infos["final_obs"] (the observation bootstrapped from at a time limit)
    model = build(name, two_envs(ALGOS[name][1], at=3, what="observation", truncate=True))
    with pytest.raises(ValueError, match=re.escape("env 1 returned a NaN final observation (infos['final_obs']) "
                                                   "at step 6")):
        model.learn(20)


def _poison(model, prefix: str) -> None:
    """Set one weight of the sub-network `prefix` to NaN."""
    params = model.policy.state_dict()
    name = next(k for k in params if k.startswith(prefix) and k.endswith("weight"))
    params[name] = params[name].copy()
    params[name].flat[0] = np.nan
    model.policy.load_state_dict(params)


LOSSES = {  # the sub-network poisoned, and the loss that becomes NaN first
    "PPO": ("mlp_extractor.value_net", "policy gradient loss"),  # the advantages come from V
    "A2C": ("mlp_extractor.value_net", "policy gradient loss"),
    "REINFORCE": ("mlp_extractor.value_net", "policy gradient loss"),  # its advantages use the baseline
    "DQN": ("q_net.", "loss"),
    "DoubleDQN": ("q_net.", "loss"),
    "DDPG": ("critic.", "critic loss"),
    "TD3": ("critic.", "critic loss"),
    "SAC": ("critic.", "critic loss"),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_nan_loss_stops_training_before_the_weights_change(name):
    model = build(name)
    prefix, loss = LOSSES[name]
    _poison(model, prefix)
    before = {k: v.copy() for k, v in model.policy.state_dict().items()}
    with pytest.raises(ValueError, match=rf"the {loss} became NaN at update 1 \(num_timesteps \d+\)"):
        model.learn(40)
    after = model.policy.state_dict()
    assert all(np.array_equal(before[k], after[k], equal_nan=True) for k in before if "target" not in k)


@pytest.mark.parametrize("name, prefix", [("PPO-Box", "action_net"), ("SAC", "actor."), ("TD3", "actor.")])
def test_nan_actions_from_the_policy(name, prefix):
    model = build(name)
    _poison(model, prefix)
    with pytest.raises(ValueError, match=r"the policy returned a NaN action for env 0 at step \d+ \(num_timesteps\)"):
        model.learn(40)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_diverging_learning_rate_is_caught():
    """A learning rate far too large makes the weights overflow: caught as a loss or gradient, not trained on."""
    model = rl.A2C("MlpPolicy", IdentityEnvBox(), learning_rate=1e30, use_rms_prop=False, max_grad_norm=1e30,
                   n_steps=8, **SMALL)
    with pytest.raises(ValueError, match=r"became (NaN|inf) at update \d+|returned a (NaN|inf) action"):
        model.learn(2000)


class NaNRewardFrozenLake(gym.Wrapper):
    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, np.nan, terminated, truncated, info


def test_tabular_algorithms_check_rewards():
    model = QLearning(NaNRewardFrozenLake(gym.make("FrozenLake-v1")), seed=0)
    with pytest.raises(ValueError, match=re.escape("the environment returned a NaN reward at step 1 (num_timesteps)")):
        model.learn(10)
    env = gym.make("FrozenLake-v1")
    env.unwrapped.P[3][1] = [(1.0, 4, np.nan, False)]
    with pytest.raises(ValueError, match="state 3, action 1"):
        ValueIteration(env).learn()


def test_checks_are_cheap_and_quiet_on_finite_data():
    obs, rewards = np.zeros((8, 17), np.float32), np.zeros(8, np.float32)
    check_env_step(obs, rewards, 1)
    check_env_step({"a": obs, "b": np.zeros((8, 2), np.int64)}, rewards, 1)
    check_final_observations({"final_obs": np.array([None, obs[0]], dtype=object)}, [1], 1)
    import timeit
    per_call = min(timeit.repeat(lambda: check_env_step(obs, rewards, 1), number=2000, repeat=3)) / 2000
    assert per_call < 20e-6  # a few microseconds (generous for a loaded CI box)
