"""Conservative Q-Learning (CQL(H) on SAC), offline from `rl.data` datasets: `CQL` and its `CQLPolicy`."""
from .cql import CQL, CQLPolicy, as_flat_dataset, cql_gap

MlpPolicy = CQLPolicy

__all__ = ["CQL", "CQLPolicy", "MlpPolicy", "as_flat_dataset", "cql_gap"]
