"""One real two-node Ray cluster per test session (a head and a worker node, one CPU each), joined by this process.

Tests using it carry ``pytest.mark.xdist_group("ray_cluster")``, so under ``pytest -n`` one xdist worker runs them all
and starts the cluster once. The worker node has the custom resource ``second_node`` (tasks can be sent there).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from .cluster import RAY_SETTINGS, RayCluster, start_head


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    import ray

    settings = pytest.MonkeyPatch()
    for name, value in RAY_SETTINGS.items():
        settings.setenv(name, value)
    cluster = start_head(cpus=1)
    try:
        cluster.add_worker(cpus=1, resources='{"second_node": 1}')
        ray.init(address=cluster.address, logging_level="WARNING")
        deadline = time.monotonic() + 180
        while ray.cluster_resources().get("CPU", 0) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Ray worker node did not join; see {cluster.temp_dir}")
            time.sleep(0.2)
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.stop()
        settings.undo()
