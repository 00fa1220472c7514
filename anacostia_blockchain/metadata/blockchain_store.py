"""``BlockchainMetadataStore``: the SQL metadata store whose runs are Merkle-anchored in ``RunRegistry``.

It *is* a :class:`~anacostia_blockchain.metadata.SqliteMetadataStore` (same API, same tables — the SQL database stays
the source of truth) plus, at the end of every run (``on_run_end``):

1. ``export_run`` -> canonical :class:`~.manifest.RunManifest` -> Merkle root and manifest CID;
2. the manifest bytes are archived in the same database (:class:`~.manifest_archive.ManifestArchive`) and the root
   is written to ``runs.hash``;
3. an anchor is enqueued in the persistent outbox (:class:`~.outbox.Outbox`, kind ``run-anchor``).

All three are local writes, so the pipeline never waits for the chain. A background :class:`~.anchor_sender.
AnchorSender` (started in ``on_start``, stopped in ``on_stop``) batches pending anchors into one ``anchorRuns``
transaction, records tx hash / block / gas and retries with backoff; when the chain is down the pipeline keeps
running and the anchors land, exactly once, when it is back (see the sender's docstring for the already-anchored
cases). ``on_start`` also reconciles: a run that ended while the process crashed between the steps above gets its
manifest/anchor now.

Finality: an anchor is *confirmed* when its transaction is mined and *final* once its block is ``confirmations``
blocks deep (default: 2 on an automining devnet, 12 on other chains; ``0``/``1``: final at the first receipt, no
rollback detection). Until then the sender re-checks it every ``recheck_interval`` seconds (one cheap head read;
one batched RPC for all watched anchors when the head moved), and an anchor whose block was rolled back goes back
to pending and is anchored again — exactly once. ``anchor_status`` and ``verify_run`` say
``"confirmed (N confirmations)"`` or ``"final"``. See :mod:`.anchor_finality`.

``pipelineId`` is ``keccak256(pipeline)``; ``pipeline`` defaults to the store's node name. Pass a stable, unique
pipeline name if several pipelines share one registry. One blockchain store per database: its outbox delivers every
``run-anchor`` entry in that database with this store's key and registry.

Verification (:meth:`verify_run`, :meth:`prove`, :meth:`verify_proof`) is in :class:`~.run_verifier.RunVerifier`;
it is read-only and needs no key.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from ..chain.client import ChainClient
from ..chain.deploy import DeploymentManifest
from ..chain.merkle import pipeline_id as compute_pipeline_id
from ..chain.run_registry import AnchorRequest, RunRegistryClient
from ..chain.signer import LocalSigner
from ..chain.tx import TxSender
from ..engine import RunStatus
from ..errors import ConfigurationError
from .anchor_finality import AnchorStatus
from .anchor_sender import ANCHOR_KIND, AnchorSender, anchor_key, anchor_payload
from .manifest import RunManifest, manifest_cid
from .manifest_archive import ManifestArchive, StoredManifest
from .outbox import CLAIMED, CONFIRMED, Backoff, Outbox
from .run_verifier import ItemProof, ProofCheck, RunVerifier, VerificationReport
from .sql_connection import is_memory_sqlite, parse_store_url
from .sql_store import SqliteMetadataStore

REGISTRY_CONTRACT = "RunRegistry"


class ManifestPublisher(Protocol):
    """Where manifests are also published for others to fetch by CID (e.g. an ``EmbeddedBlockstore``)."""

    def add_bytes(self, data: bytes, *, cid_version: int) -> Any: ...


class BlockchainMetadataStore(SqliteMetadataStore):
    """See the module docstring. Exactly one of ``rpc_url``/``client`` and of ``registry_address``/``deployments``.

    ``deployments`` is a :class:`DeploymentManifest` or the path/dir it is loaded from (``RunRegistry`` entry).
    ``signer`` must hold ``ANCHOR_ROLE`` on the registry. ``tx_options`` go to the ``TxSender`` (e.g. a short
    ``submit_timeout`` so an outage is detected quickly). ``content_store`` (e.g. an ``EmbeddedBlockstore``) also
    receives every manifest so readers can fetch it by its CID; use a local store here — remote pinning belongs in
    an uploader with its own outbox. ``confirmations`` / ``recheck_interval``: see the module docstring. Extra
    keyword arguments go to ``SqliteMetadataStore``.
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
        content_store: ManifestPublisher | None = None,
        confirmations: int | None = None,
        recheck_interval: float = 1.0,
        **sql_options: Any,
    ) -> None:
        super().__init__(name, uri, loggers, **sql_options)
        if is_memory_sqlite(parse_store_url(uri)):
            raise ConfigurationError(
                f"{name}: anchoring needs a persistent database (its outbox must survive a restart); "
                "use sqlite:///path/to/metadata.db or a PostgreSQL URL"
            )
        if (rpc_url is None) == (client is None):
            raise ConfigurationError(f"{name}: pass exactly one of rpc_url= or client=")
        if (registry_address is None) == (deployments is None):
            raise ConfigurationError(f"{name}: pass exactly one of registry_address= or deployments=")
        if not isinstance(signer, LocalSigner):
            raise ConfigurationError(f"{name}: signer must be a LocalSigner (from_key / from_env / from_keystore)")
        self.pipeline = pipeline or name
        self.pipeline_id = compute_pipeline_id(self.pipeline)
        self.signer = signer
        self.anchor_existing_runs = anchor_existing_runs
        self._rpc_url = rpc_url
        self._client = client
        self._chain_id = chain_id if chain_id is not None else (client.chain_id if client is not None else None)
        self._registry_address = registry_address
        self._deployments = deployments
        self._connect_lock = threading.Lock()
        self._tx_options = dict(tx_options or {})
        self.content_store = content_store
        self._tx_sender: TxSender | None = None
        self._registry: RunRegistryClient | None = None
        self.outbox = Outbox(self.engine, backoff=backoff)
        self.archive = ManifestArchive(self.engine)
        self.sender = AnchorSender(
            self.outbox,
            self._connect,
            batch_size=batch_size,
            receipt_timeout=receipt_timeout,
            confirmations=confirmations,
            recheck_interval=recheck_interval,
        )

    def __repr__(self) -> str:
        return f"BlockchainMetadataStore({self.name!r}, {self.url!r}, pipeline={self.pipeline!r})"

    # --- chain connection (lazy: the store starts even while the chain is down) -------------------------------------
    def _connect(self) -> RunRegistryClient:
        with self._connect_lock:
            if self._registry is not None:
                return self._registry
            client = self._client or ChainClient(str(self._rpc_url), expected_chain_id=self._chain_id)
            self._client = client
            address = self._registry_address
            if address is None:
                manifest = self._deployments
                if not isinstance(manifest, DeploymentManifest):
                    manifest = DeploymentManifest.load(str(manifest), client.chain_id)
                address = manifest.address(REGISTRY_CONTRACT)
            if self._tx_sender is None:
                self._tx_sender = TxSender(client, self.signer, **self._tx_options)
            self._registry = RunRegistryClient(client, address, self._tx_sender)
            return self._registry

    @property
    def registry(self) -> RunRegistryClient:
        """The registry client (connects on first use; raises ``ChainConnectionError`` while the chain is down)."""
        return self._connect()

    @property
    def verifier(self) -> RunVerifier:
        registry = self._registry or self._connect()
        return RunVerifier(
            self.pipeline,
            self.export_run,
            self.archive,
            registry,
            self.outbox,
            confirmations=self.sender.finality.required,
        )

    # --- engine hooks -----------------------------------------------------------------------------------------------
    def on_start(self) -> None:
        super().on_start()
        self.release_stale_claims()
        if self.anchor_existing_runs:
            self.reconcile()
        self.sender.start()

    def release_stale_claims(self) -> int:
        """Give back anchors still claimed when the store starts: they belong to a process that died mid-delivery
        (one blockchain store per database), and would otherwise wait for their lease (two minutes) to expire.

        Safe even if that delivery reached the chain: ``RunRegistry`` never overwrites an anchored run (the batch
        form skips it, the single form reverts ``RunAlreadyAnchored``) and the sender then compares the roots.
        """
        stale = self.outbox.entries(ANCHOR_KIND, CLAIMED)
        for entry in stale:
            self.outbox.release(entry.id)
        if stale:
            self.log(f"resuming {len(stale)} anchor(s) claimed by a process that stopped mid-delivery", "WARNING")
        return len(stale)

    def on_stop(self) -> None:
        try:
            self.sender.stop()
            if self._tx_sender is not None:
                self._tx_sender.close()
                self._tx_sender = None
                self._registry = None
        finally:
            super().on_stop()

    def on_run_end(self, run_id: int, status: RunStatus) -> None:
        super().on_run_end(run_id, status)
        self.anchor_run(run_id)

    # --- anchoring --------------------------------------------------------------------------------------------------
    def anchor_run(self, run_id: int) -> StoredManifest:
        """Build, archive and enqueue the anchor of an ended run (idempotent: a second call changes nothing)."""
        stored = self.archive.load(self.pipeline_id, run_id)
        if stored is None:
            manifest = RunManifest.from_export(self.pipeline, run_id, self.export_run(run_id))
            data = manifest.to_bytes()
            cid = manifest_cid(data)
            if self.content_store is not None:
                published = str(self.content_store.add_bytes(data, cid_version=1).cid)
                if published != cid:
                    raise ConfigurationError(
                        f"{self.name}: the content store gave the manifest CID {published}, expected {cid} "
                        "(CIDv1, raw leaves, 256 KiB chunks): configure it with Kubo's defaults"
                    )
            stored = self.archive.save(manifest, cid)
        self.set_run_hash(run_id, "0x" + stored.root.hex())
        request = AnchorRequest(self.pipeline_id, run_id, stored.root, stored.cid)
        self.outbox.enqueue(ANCHOR_KIND, anchor_key(self.pipeline_id, run_id), anchor_payload(request))
        return stored

    def reconcile(self) -> list[int]:
        """Anchor ended runs that have no manifest or no outbox entry (a crash between the steps); returns them."""
        archived = self.archive.run_ids(self.pipeline_id)
        fixed = []
        for run in self.get_runs():
            run_id = int(run["id"])
            if run["status"] == RunStatus.RUNNING.value:
                continue
            if run_id in archived and self.anchor_status(run_id) is not None:
                continue
            self.anchor_run(run_id)
            fixed.append(run_id)
        if fixed:
            self.log(f"queued anchors for runs {fixed} that ended without one", level="WARNING")
        return fixed

    def anchor_status(self, run_id: int) -> AnchorStatus | None:
        """The run's outbox entry: ``status`` (pending/sent/confirmed/failed), ``attempts``, ``result`` (tx, block,
        block hash), and ``finality``: ``"final"`` or ``"confirmed (N confirmations)"`` (for the latter the depth is
        read from the chain: one ``eth_blockNumber``; ``None`` while the chain is unreachable)."""
        entry = self.outbox.get(ANCHOR_KIND, anchor_key(self.pipeline_id, run_id))
        if entry is None:
            return None
        finality = self.sender.finality
        depth = finality.confirmations(entry) if entry.status == CONFIRMED and not entry.final else None
        return AnchorStatus.of(entry, depth, finality.known_required)

    def check_anchor_finality(self) -> int:
        """Re-check the confirmed, not yet final anchors now (the sender does it every ``recheck_interval``);
        returns how many were examined. Rolled back ones become pending: ``flush_anchors`` re-sends them."""
        return self.sender.recheck_now()

    def flush_anchors(self, timeout: float = 60.0) -> bool:
        """Deliver every due anchor now, synchronously; True when nothing is left pending."""
        return self.sender.flush(timeout)

    # --- verification -----------------------------------------------------------------------------------------------
    def verify_run(self, run_id: int) -> VerificationReport:
        """Recompute the root from the archived manifest *and* from a fresh SQL export and compare both with the
        chain; raises ``TamperedManifestError`` naming the changed items, ``RunNotAnchoredError`` if pending."""
        return self.verifier.verify_run(run_id)

    def prove(self, run_id: int, key: str) -> ItemProof:
        """A Merkle proof for one item (``metric:loss@3``, ``param:lr``, ``artifact:produced:models:m.pkl``...)."""
        return self.verifier.prove(run_id, key)

    def verify_proof(self, proof: ItemProof, *, on_chain: bool = True) -> ProofCheck:
        """Check a proof off chain and (``on_chain``) through ``verifyProof`` / ``verifyMetric``."""
        return self.verifier.verify_proof(proof, on_chain=on_chain)
