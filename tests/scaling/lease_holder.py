"""A process holding a pipeline's lease with a run in progress, for the fencing tests.

``python lease_holder.py URL PIPELINE TTL`` records one input, begins a run on it and prints ``ready RUN_ID``; then it
waits for a line on stdin and tries to end the run as a success, printing ``ended`` or ``lost: <error>``.
"""

from __future__ import annotations

import sys

from anacostia_blockchain.engine import RunStatus
from anacostia_blockchain.errors import LeaseLostError
from anacostia_blockchain.metadata import RunStore


def main() -> None:
    url, pipeline, ttl = sys.argv[1], sys.argv[2], float(sys.argv[3])
    store = RunStore(url, name="holder", pipeline=pipeline, lease_ttl=ttl)
    store.open()
    store.record_artifact("data", "a.csv", "a" * 64, 1)
    run_id = store.begin_run("data", ["data"])
    print("ready", run_id, flush=True)
    sys.stdin.readline()
    try:
        store.end_run(run_id, RunStatus.SUCCESS)
        print("ended", flush=True)
    except LeaseLostError as exc:
        print(f"lost: {exc}", flush=True)
    store.close()


if __name__ == "__main__":
    main()
