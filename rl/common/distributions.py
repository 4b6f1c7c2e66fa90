"""SB3's `stable_baselines3.common.distributions`: re-exports of `rl.core.distributions` (SAC's squashed
Gaussian is the fused `rl.off_policy_actor_critic.policies.SquashedGaussian`)."""
from ..core.distributions import (
    CategoricalDistribution,
    DiagGaussianDistribution,
    Distribution,
    make_proba_distribution,
)
from ..core.sde_distribution import StateDependentNoiseDistribution

__all__ = ["Distribution", "CategoricalDistribution", "DiagGaussianDistribution", "StateDependentNoiseDistribution",
           "make_proba_distribution"]
