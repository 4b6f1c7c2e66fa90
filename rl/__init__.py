"""rl: Stable-Baselines3-shaped reinforcement learning on the corenn engine.

    from rl import PPO, A2C, REINFORCE, QLearning, ValueIteration, evaluate_policy, make_vec_env
    model = PPO("MlpPolicy", "CartPole-v1", seed=0).learn(100_000)

`ALGOS` maps lower-case names ("ppo", "a2c", ...) to classes for the CLI and benchmarks.
"""

from importlib import import_module

from .core import callbacks
from .core.evaluation import evaluate_policy
from .core.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
from .core.schedules import get_schedule_fn, linear_schedule
from .core.vec_env import make_vec_env
from .policy_gradient import A2C, PPO, REINFORCE
from .tabular import QLearning, ValueIteration

ALGOS = {"ppo": PPO, "a2c": A2C, "reinforce": REINFORCE, "qlearning": QLearning, "q_learning": QLearning,
         "value_iteration": ValueIteration}

__all__ = ["PPO", "A2C", "REINFORCE", "QLearning", "ValueIteration", "evaluate_policy", "make_vec_env",
           "callbacks", "get_schedule_fn", "linear_schedule", "NormalActionNoise", "OrnsteinUhlenbeckActionNoise",
           "ALGOS"]

# packages written in later steps: (subpackage, exported names, which of them are algorithms)
for _module, _names, _algos in (("value_based", ("DQN", "DoubleDQN"), ("DQN", "DoubleDQN")),
                                ("actor_critic", ("DDPG", "TD3", "SAC"), ("DDPG", "TD3", "SAC")),
                                ("multi_goal", ("HerReplayBuffer",), ())):
    try:
        _mod = import_module(f"{__name__}.{_module}")
    except ModuleNotFoundError as _e:
        if _e.name != f"{__name__}.{_module}":
            raise
        continue
    for _name in _names:
        if hasattr(_mod, _name):
            globals()[_name] = getattr(_mod, _name)
            __all__.append(_name)
            if _name in _algos:
                ALGOS[_name.lower()] = getattr(_mod, _name)
if "DoubleDQN" in globals():
    ALGOS["double_dqn"] = globals()["DoubleDQN"]
