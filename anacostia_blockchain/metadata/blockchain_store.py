"""``BlockchainMetadataStore``: the SQL metadata store whose runs are Merkle-anchored in ``RunRegistry``.

It *is* a :class:`~anacostia_blockchain.metadata.SqlMetadataStore` (same API, same tables — the SQL database stays
the source of truth) with one more component, ``store.anchoring``: a
:class:`~anacostia_blockchain.anchoring.RunAnchorer` over ``store.runs``. The node wires it to the engine's hooks:

- ``on_start``: resume anchors a stopped process left claimed, anchor ended runs that have none (with
  ``anchor_existing_runs``) and start the sender thread;
- ``on_run_end``: build, archive and enqueue the run's anchor (local writes only: the pipeline never waits for the
  chain; the sender delivers, retries through outages and re-sends anchors whose block was rolled back);
- ``on_stop``: stop the sender and close the chain connection.

``anchor_status``, ``flush_anchors``, ``verify_run``, ``prove`` and ``verify_proof`` are the anchorer's, on the node
for convenience; see :mod:`anacostia_blockchain.anchoring` for the rest (finality checks, the manifest archive, the
outbox).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..anchoring import (
    AnchorEntry,
    ItemProof,
    ProofCheck,
    RegistryConnection,
    RunAnchorer,
    VerificationReport,
)
from ..chain import ChainClient, DeploymentManifest, LocalSigner
from ..engine import RunStatus
from ..errors import ConfigurationError
from ..ipfs.store import BytesByCid
from ..outbox import Backoff
from ..sql import is_memory_sqlite, parse_store_url
from .node import SqlMetadataStore


class BlockchainMetadataStore(SqlMetadataStore):
    """See the module docstring. Exactly one of ``rpc_url``/``client`` and of ``registry_address``/``deployments``.

    ``deployments`` is a :class:`DeploymentManifest` or the path/dir it is loaded from (``RunRegistry`` entry).
    ``signer`` must hold ``ANCHOR_ROLE`` on the registry. ``tx_options`` go to the ``TxSender`` (e.g. a short
    ``submit_timeout`` so an outage is detected quickly). ``pipeline`` (default: the node's name) is hashed into the
    ``pipelineId`` and names the pipeline in the database: pass a stable, unique name if several pipelines share one
    registry or one database. ``content_store``,
    ``batch_size``, ``receipt_timeout``, ``backoff``, ``confirmations`` and ``recheck_interval`` go to the
    :class:`RunAnchorer`. Extra keyword arguments go to ``SqlMetadataStore``.
    """

    def __init__(
        self,
        name: str,
        uri: str,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        *,
        signer: LocalSigner,
        rpc_url: str | None = None,
        client: ChainClient | None = None,
        registry_address: str | None = None,
        deployments: DeploymentManifest | str | Path | None = None,
        chain_id: int | None = None,
        pipeline: str | None = None,
        batch_size: int = 50,
        receipt_timeout: float = 120.0,
        backoff: Backoff | None = None,
        anchor_existing_runs: bool = True,
        tx_options: Mapping[str, Any] | None = None,
        content_store: BytesByCid | None = None,
        confirmations: int | None = None,
        recheck_interval: float = 1.0,
        **sql_options: Any,
    ) -> None:
        super().__init__(name, uri, loggers, pipeline=pipeline, **sql_options)
        if is_memory_sqlite(parse_store_url(uri)):
            raise ConfigurationError(
                f"{name}: anchoring needs a persistent database (its outbox must survive a restart); "
                "use sqlite:///path/to/metadata.db or a PostgreSQL URL"
            )
        connection = RegistryConnection(
            name,
            signer=signer,
            rpc_url=rpc_url,
            client=client,
            registry_address=registry_address,
            deployments=deployments,
            chain_id=chain_id,
            tx_options=tx_options,
        )
        self.anchor_existing_runs = anchor_existing_runs
        #: The anchoring component (outbox, manifest archive, sender, verifier) over ``self.runs``.
        self.anchoring = RunAnchorer(
            self.runs,
            connection,
            pipeline=self.runs.pipeline or name,
            batch_size=batch_size,
            receipt_timeout=receipt_timeout,
            backoff=backoff,
            content_store=content_store,
            confirmations=confirmations,
            recheck_interval=recheck_interval,
            log=self.log,
        )

    def __repr__(self) -> str:
        return f"BlockchainMetadataStore({self.name!r}, {self.runs.url!r}, pipeline={self.anchoring.pipeline!r})"

    # --- engine hooks -----------------------------------------------------------------------------------------------
    def on_start(self) -> None:
        super().on_start()
        self.anchoring.start(reconcile=self.anchor_existing_runs)

    def on_stop(self) -> None:
        try:
            self.anchoring.stop()
        finally:
            super().on_stop()

    def on_run_end(self, run_id: int, status: RunStatus) -> None:
        super().on_run_end(run_id, status)
        self.anchoring.anchor_run(run_id)

    # --- the anchorer's user-facing calls ---------------------------------------------------------------------------
    def anchor_status(self, run_id: int) -> AnchorEntry | None:
        """The run's anchor outbox entry with its ``finality`` (see :meth:`RunAnchorer.status`)."""
        return self.anchoring.status(run_id)

    def flush_anchors(self, timeout: float = 60.0) -> bool:
        """Deliver every due anchor now, synchronously; True when nothing is left pending."""
        return self.anchoring.flush(timeout)

    def verify_run(self, run_id: int) -> VerificationReport:
        """Compare the archived manifest and a fresh export with the chain (see :meth:`RunAnchorer.verify_run`)."""
        return self.anchoring.verify_run(run_id)

    def prove(self, run_id: int, key: str) -> ItemProof:
        """A Merkle proof for one item (``metric:loss@3``, ``param:lr``, ``artifact:produced:models:m.pkl``...)."""
        return self.anchoring.prove(run_id, key)

    def verify_proof(self, proof: ItemProof, *, on_chain: bool = True) -> ProofCheck:
        """Check a proof off chain and (``on_chain``) through ``verifyProof`` / ``verifyMetric``."""
        return self.anchoring.verify_proof(proof, on_chain=on_chain)
