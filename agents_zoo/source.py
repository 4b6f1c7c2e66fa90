"""agents_zoo as a source of pretrained agents for `rl` (`python -m rl enjoy/eval/zoo`).

pyproject.toml declares ZOO_SOURCE in the entry point group "rl.agent_sources", where rl.pretrained
finds it; `rl` itself never imports agents_zoo.
"""
import agents_zoo

__all__ = ["ZooSource", "ZOO_SOURCE"]


class ZooSource:
    """The agents of this package: load() raises KeyError for an agent the zoo does not have."""

    title = "agents zoo"

    def load(self, algo, env_id, **kwargs):
        return agents_zoo.load(algo, env_id, **kwargs)

    def table(self):
        return agents_zoo.table()


ZOO_SOURCE = ZooSource()
