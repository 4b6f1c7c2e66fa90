"""SB3's `stable_baselines3.common.torch_layers` (the module name kept; the layers are corenn's): features
extractors, `MlpExtractor`, `create_mlp` and `get_actor_critic_arch`.

A custom `BaseFeaturesExtractor` subclass trains and predicts as it is; saving an agent or policy that uses it
needs `register_features_extractor(MyExtractor)` first (files name extractors, they never pickle classes).
"""
from ..core.feature_extractors import (
    BaseFeaturesExtractor,
    CombinedExtractor,
    FlattenExtractor,
    NatureCNN,
    register_features_extractor,
)
from ..core.networks import create_mlp
from ..policy_gradient.policies import MlpExtractor

__all__ = ["BaseFeaturesExtractor", "FlattenExtractor", "NatureCNN", "CombinedExtractor", "MlpExtractor",
           "create_mlp", "get_actor_critic_arch", "register_features_extractor"]


def get_actor_critic_arch(net_arch) -> tuple[list, list]:
    """Off-policy net_arch -> (actor widths, critic widths): a list for both, or dict(pi=[...], qf=[...])."""
    if isinstance(net_arch, dict):
        unknown = set(net_arch) - {"pi", "qf"}
        if unknown:
            raise ValueError(f"net_arch dict takes the keys 'pi' and 'qf', got {sorted(map(str, unknown))}")
        return list(net_arch.get("pi", [])), list(net_arch.get("qf", []))
    if not isinstance(net_arch, (list, tuple)):
        raise TypeError(f"net_arch must be a list or dict(pi=[...], qf=[...]), got {net_arch!r}")
    return list(net_arch), list(net_arch)
