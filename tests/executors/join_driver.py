"""A pipeline process joining a running cluster: ``python join_driver.py WORKDIR [ADDRESS]`` runs one pipeline run
over the files already in ``WORKDIR/data`` with ``RayExecutor(ADDRESS)`` (no ADDRESS: ``RayExecutor()``, so
``RAY_ADDRESS`` decides) and prints a JSON summary. For the tests joining a cluster from a fresh process."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from anacostia_blockchain.executors import RayExecutor
from executors.kit import build
from executors.work_fns import upper


def main() -> None:
    work = Path(sys.argv[1])
    executor = RayExecutor(sys.argv[2] if len(sys.argv) > 2 else None)
    kit = build(work, upper, executor)
    with kit.pipeline as pipeline:
        finished = pipeline.wait_for_runs(1, 120)
        capacity = executor.capacity
    run = kit.store.runs.get_runs()[0] if finished else {"status": "not finished", "error": None}
    print(json.dumps({
        "status": run["status"], "error": run["error"], "describe": executor.describe(), "capacity": capacity,
        "driver_pid": os.getpid(), "pids": sorted({m["value"] for m in kit.store.runs.get_metrics(key="pid")}),
        "ppids": sorted({m["value"] for m in kit.store.runs.get_metrics(key="ppid")}),
        "outputs": {location: content.decode() for location, content in kit.outputs().items()},
    }))


if __name__ == "__main__":
    main()
