"""SB3's `stable_baselines3.common.policies`: re-exports of the rl policy classes.

`BaseModel` is `BasePolicy` (rl has one base class); `ContinuousCritic` is the off-policy critic ensemble.
"""
from ..core.base_policy import BasePolicy
from ..off_policy_actor_critic.policies import ContinuousCritic
from ..policy_gradient.policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy

BaseModel = BasePolicy

__all__ = ["BaseModel", "BasePolicy", "ActorCriticPolicy", "ActorCriticCnnPolicy", "MultiInputActorCriticPolicy",
           "ContinuousCritic"]
