"""One local Ray instance for every distributed test (starting Ray costs ~7 s and ~700 MB here):
2 CPUs, a 100 MB object store, no dashboard. Import `ray_local` into a test module; the instance
is started by the first test that asks for it and shut down at the end of the session."""

import os

import pytest


@pytest.fixture(scope="session")
def ray_local():
    ray = pytest.importorskip("ray")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if ray.is_initialized():  # another module's copy of this fixture started it
        yield ray
        return
    ray.init(num_cpus=2, object_store_memory=100 * 1024**2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
