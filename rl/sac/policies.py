"""SB3's `stable_baselines3.sac.policies`: SACPolicy, its actor (`Actor`: the squashed Gaussian actor) and aliases."""
from ..off_policy_actor_critic.policies import SACCnnPolicy as CnnPolicy
from ..off_policy_actor_critic.policies import SACMultiInputPolicy as MultiInputPolicy
from ..off_policy_actor_critic.policies import SACPolicy
from ..off_policy_actor_critic.policies import SquashedGaussianActor as Actor

MlpPolicy = SACPolicy

__all__ = ["Actor", "SACPolicy", "MlpPolicy", "CnnPolicy", "MultiInputPolicy"]
