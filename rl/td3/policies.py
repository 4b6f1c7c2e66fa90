"""SB3's `stable_baselines3.td3.policies`: TD3Policy, its deterministic actor (`Actor`) and aliases (DDPG's too)."""
from ..off_policy_actor_critic.policies import DeterministicActor as Actor
from ..off_policy_actor_critic.policies import TD3CnnPolicy as CnnPolicy
from ..off_policy_actor_critic.policies import TD3MultiInputPolicy as MultiInputPolicy
from ..off_policy_actor_critic.policies import TD3Policy

MlpPolicy = TD3Policy

__all__ = ["Actor", "TD3Policy", "MlpPolicy", "CnnPolicy", "MultiInputPolicy"]
