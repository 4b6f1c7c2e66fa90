"""Sources of pretrained agents, which `python -m rl enjoy/eval` fall back to and `python -m rl zoo` lists.

A source offers `load(algo, env_id, **kwargs)` (a ready agent; KeyError when it has no such agent)
and `table()` (a printable listing); an optional `title` names it in messages. Packages declare
sources as entry points, found on first use:

    [project.entry-points."rl.agent_sources"]
    agents_zoo = "agents_zoo.source:ZOO_SOURCE"

or register them at run time with `register_agent_source(name, source)`.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points
from typing import Any, Protocol

__all__ = ["ENTRY_POINT_GROUP", "AgentSource", "AgentSourceRegistry", "REGISTRY", "register_agent_source",
           "unregister_agent_source", "agent_sources", "source_title", "load_pretrained"]

ENTRY_POINT_GROUP = "rl.agent_sources"


class AgentSource(Protocol):
    def load(self, algo: str, env_id: str, **kwargs) -> Any: ...

    def table(self) -> str: ...


class AgentSourceRegistry:
    """Named agent sources: those registered here, plus the entry points of `group` (read once)."""

    def __init__(self, group: str | None = ENTRY_POINT_GROUP):
        self.group = group
        self._sources: dict[str, AgentSource] = {}
        self._discovered = group is None

    def register(self, name: str, source: AgentSource) -> None:
        if not (callable(getattr(source, "load", None)) and callable(getattr(source, "table", None))):
            raise TypeError(f"agent source {name!r} must offer load(algo, env_id, **kwargs) and table()")
        self._sources[name] = source

    def unregister(self, name: str) -> None:
        self._sources.pop(name, None)

    def sources(self) -> dict[str, AgentSource]:
        """All sources by name, in registration order (installed entry points first)."""
        if not self._discovered:
            self._discovered = True
            for ep in entry_points(group=self.group):
                if ep.name in self._sources:  # registered explicitly: that one wins
                    continue
                try:
                    self.register(ep.name, ep.load())
                except Exception as exc:  # a broken plugin must not break the CLI
                    warnings.warn(f"agent source {ep.name!r} ({ep.value}) could not be loaded: {exc}", stacklevel=2)
        return dict(self._sources)

    def load(self, algo: str, env_id: str, **kwargs) -> tuple[Any, str]:
        """(agent, source name) from the first source that has `algo` on `env_id`; KeyError if none has."""
        for name, source in self.sources().items():
            try:
                return source.load(algo, env_id, **kwargs), name
            except KeyError:
                continue
        raise KeyError(f"no pretrained {algo} agent for {env_id} in any agent source")


REGISTRY = AgentSourceRegistry()


def register_agent_source(name: str, source: AgentSource) -> None:
    """Add (or replace) a source of pretrained agents."""
    REGISTRY.register(name, source)


def unregister_agent_source(name: str) -> None:
    REGISTRY.unregister(name)


def agent_sources() -> dict[str, AgentSource]:
    """The sources of pretrained agents by name."""
    return REGISTRY.sources()


def source_title(name: str) -> str:
    """How messages name a source: its `title`, else its registered name."""
    return getattr(REGISTRY.sources().get(name), "title", name)


def load_pretrained(algo: str, env_id: str, **kwargs) -> tuple[Any, str]:
    """(agent, source name) from the first source that has one; KeyError if none has."""
    return REGISTRY.load(algo, env_id, **kwargs)
