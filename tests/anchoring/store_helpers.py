"""Building BlockchainMetadataStores and producing runs against them (shared by the anchoring tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anacostia_blockchain.chain import ChainClient, LocalSigner
from anacostia_blockchain.engine import RunStatus
from anacostia_blockchain.metadata import BlockchainMetadataStore
from anacostia_blockchain.outbox import Backoff

PIPELINE = "anchoring-test-pipeline"


def make_store(
    db_path: Path,
    private_key: str,
    registry_address: str,
    *,
    client: ChainClient | None = None,
    rpc_url: str | None = None,
    **options: Any,
) -> BlockchainMetadataStore:
    """A store on a SQLite file, opened (tables created) but without its sender thread started."""
    options.setdefault("backoff", Backoff(base=0.1, factor=2.0, cap=0.5))
    options.setdefault("receipt_timeout", 20.0)
    store = BlockchainMetadataStore(
        "metadata",
        f"sqlite:///{db_path}",
        signer=LocalSigner.from_key(private_key),
        client=client,
        rpc_url=rpc_url,
        registry_address=registry_address,
        pipeline=PIPELINE,
        **options,
    )
    store.open_store()
    return store


def produce_run(store: BlockchainMetadataStore, items: int, *, seed: int = 0) -> int:
    """One ended run with ``items`` logged entries (metrics ``acc@step``, plus a param and a tag when items >= 3)."""
    run_id = store.runs.begin_run("test", [])
    metrics = [("acc", round(0.5 + (i + seed) / 10_000, 6), i) for i in range(items if items < 3 else items - 2)]
    params = {"lr": 0.001} if items >= 3 else None
    tags = {"owner": "anchoring-tests"} if items >= 3 else None
    if metrics or params:
        store.log_batch(metrics=metrics, params=params, tags=tags)
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    store.on_run_end(run_id, RunStatus.SUCCESS)
    return run_id
