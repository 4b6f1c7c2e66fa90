"""rl: Stable-Baselines3-shaped reinforcement learning on the corenn engine.

    from rl import PPO, A2C, REINFORCE, QLearning, ValueIteration, evaluate_policy, make_vec_env
    model = PPO("MlpPolicy", "CartPole-v1", seed=0).learn(100_000)

`ALGOS` maps lower-case names ("ppo", "a2c", ...; each class's algo_name lower-cased, plus
"q_learning", "double_dqn" and rl-zoo3's "ppo_lstm" for RecurrentPPO) to classes for the CLI, checkpoints
and benchmarks. BC and CQL learn offline from datasets (`rl.data`), GAIL from expert demonstrations.
"""

from .bc import BC
from .core import callbacks
from .core.evaluation import evaluate_policy
from .core.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise
from .core.sb3_vec_env.env_util import make_vec_env  # SB3's: a DummyVecEnv (Gymnasium's: rl.core.vec_env)
from .core.schedules import get_schedule_fn, linear_schedule
from .cql import CQL
from .gail import GAIL
from .model_based import MBPO
from .multi_goal import HerReplayBuffer
from .off_policy_actor_critic import DDPG, SAC, TD3
from .policy_gradient import A2C, PPO, REINFORCE
from .recurrent import RecurrentPPO
from .tabular import QLearning, ValueIteration
from .value_based import DQN, DoubleDQN

ALGOS = {"ppo": PPO, "a2c": A2C, "reinforce": REINFORCE, "qlearning": QLearning, "q_learning": QLearning,
         "value_iteration": ValueIteration, "dqn": DQN, "doubledqn": DoubleDQN, "ddpg": DDPG, "td3": TD3, "sac": SAC,
         "double_dqn": DoubleDQN, "recurrentppo": RecurrentPPO, "ppo_lstm": RecurrentPPO,
         # offline and imitation learning
         "bc": BC, "cql": CQL, "gail": GAIL,
         # model-based
         "mbpo": MBPO}

__all__ = ["PPO", "A2C", "REINFORCE", "QLearning", "ValueIteration", "DQN", "DoubleDQN", "DDPG", "TD3", "SAC",
           "RecurrentPPO", "BC", "CQL", "GAIL", "MBPO", "HerReplayBuffer", "evaluate_policy", "make_vec_env",
           "callbacks",
           "get_schedule_fn", "linear_schedule", "NormalActionNoise", "OrnsteinUhlenbeckActionNoise", "ALGOS"]
