"""One pipeline process for the multi-process tests: a watched folder and a slow action on a shared database.

Run as ``python pipeline_process.py --db URL --pipeline NAME --folder DIR --journal FILE [--standby] ...``. The action
appends one JSON line to the journal when it starts and one when it ends (``{"event", "pid", "run", "inputs"}``,
flushed and fsynced), then returns True; so a test can kill the process while a known run executes. ``--anchor``
makes the store a BlockchainMetadataStore (RPC URL and registry address from the arguments, the signer's key from
the environment variable ``ANCHOR_KEY``). The process runs until SIGTERM; a refused launch exits with status 3 and
the error on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from anacostia_blockchain import BaseActionNode, BaseNode, FilesystemStoreNode, Pipeline
from anacostia_blockchain.engine import BaseMetadataStoreNode
from anacostia_blockchain.errors import PipelineLeaseError
from anacostia_blockchain.metadata import SqlMetadataStore

REFUSED_EXIT = 3


def journal(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({**record, "pid": os.getpid(), "at": time.time()}) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


class SlowAction(BaseActionNode):
    """Journals the run's inputs, works for ``seconds``, journals the end."""

    def __init__(self, name: str, predecessors: list[BaseNode], data: FilesystemStoreNode, store: BaseMetadataStoreNode,
                 journal_path: Path, seconds: float) -> None:
        super().__init__(name, predecessors)
        self.data = data
        self.store = store
        self.journal_path = journal_path
        self.seconds = seconds

    def execute(self, *args: object, **kwargs: object) -> bool:
        run = self.store.current_run_id
        inputs = sorted(artifact.location for artifact in self.data.current_inputs())
        journal(self.journal_path, {"event": "start", "run": run, "inputs": inputs})
        time.sleep(self.seconds)
        self.store.log_metrics(inputs=float(len(inputs)))
        journal(self.journal_path, {"event": "end", "run": run, "inputs": inputs})
        return True


def build_store(args: argparse.Namespace) -> BaseMetadataStoreNode:
    options: dict[str, Any] = {"pipeline": args.pipeline, "standby": args.standby, "lease_ttl": args.lease_ttl}
    if args.anchor is None:
        return SqlMetadataStore("metadata", args.db, **options)
    from anacostia_blockchain.chain import LocalSigner
    from anacostia_blockchain.metadata import BlockchainMetadataStore
    from anacostia_blockchain.outbox import Backoff

    rpc_url, registry = args.anchor
    return BlockchainMetadataStore(
        "metadata", args.db, signer=LocalSigner.from_key(os.environ["ANCHOR_KEY"]), rpc_url=rpc_url,
        registry_address=registry, backoff=Backoff(base=0.1, factor=2.0, cap=0.5), confirmations=1,
        recheck_interval=0.2, **options,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--pipeline", required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--journal", type=Path, required=True)
    parser.add_argument("--work", type=float, default=0.2, help="seconds the action works per run")
    parser.add_argument("--standby", action="store_true")
    parser.add_argument("--lease-ttl", type=float, default=15.0)
    parser.add_argument("--anchor", nargs=2, metavar=("RPC_URL", "REGISTRY"))
    args = parser.parse_args()
    store = build_store(args)
    data = FilesystemStoreNode("data", args.folder, store, create=True)
    action = SlowAction("work", [data], data, store, args.journal, args.work)
    pipeline = Pipeline([store, data, action])
    try:
        pipeline.launch()
    except PipelineLeaseError as exc:
        print(f"refused: {exc}", file=sys.stderr, flush=True)
        return REFUSED_EXIT
    journal(args.journal, {"event": "active"})
    pipeline.execute()
    return 0


if __name__ == "__main__":
    sys.exit(main())
