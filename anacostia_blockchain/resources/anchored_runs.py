"""``AnchoredRunsNode``: an input resource whose artifacts are the *anchored runs* of another pipeline.

It links the results of one pipeline to the inputs of another through the chain: a training pipeline anchors each
run in ``RunRegistry``; a publishing pipeline whose input is this node starts a run for every newly anchored run and
its actions (mint, register, price, list) publish it. Because the trigger is the
anchor on chain, a publishing run only ever sees runs whose Merkle root is final, and lineage crosses pipelines: the
artifact's location is ``<pipeline>/run-<id>``, its ``cid`` the anchored manifest CID and its ``sha256`` the
anchored Merkle root (hex, without ``0x``).

Detection: a background thread asks for new ``RunAnchored`` logs of the upstream pipeline every ``poll_interval``
seconds (a chain has no push channel over plain JSON-RPC; the wait is an interruptible :class:`threading.Event`, so
stopping is immediate). :meth:`notify_anchored` lets an in-process upstream store wake it at once. The last block
scanned is kept in memory; on start the node rescans from ``from_block`` and records only runs it has not recorded
before, so a restart neither misses nor duplicates a run. An RPC outage is logged and retried on the next tick.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from ..chain.contracts.merkle import pipeline_id as compute_pipeline_id
from ..chain.contracts.run_registry import RunRegistryClient
from ..engine import BaseMetadataStoreNode, BaseResourceNode
from ..errors import ChainError, ConfigurationError


def run_location(pipeline: str, run_id: int) -> str:
    """The artifact location of an anchored run: ``<pipeline>/run-<id>``."""
    return f"{pipeline}/run-{run_id}"


class AnchoredRunsNode(BaseResourceNode):
    """See the module docstring. ``pipeline`` is the *upstream* pipeline's name (its ``pipelineId`` preimage)."""

    def __init__(
        self,
        name: str,
        metadata_store: BaseMetadataStoreNode,
        *,
        registry: RunRegistryClient,
        pipeline: str,
        from_block: int = 0,
        poll_interval: float = 1.0,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
    ) -> None:
        super().__init__(name, metadata_store, loggers, monitoring=True)
        if poll_interval <= 0:
            raise ConfigurationError(f"{name}: poll_interval must be > 0, got {poll_interval}")
        self.registry = registry
        self.pipeline = pipeline
        self.pipeline_id = compute_pipeline_id(pipeline)
        self.from_block = from_block
        self.poll_interval = poll_interval
        self._next_block = from_block
        self._wake = threading.Event()

    def __repr__(self) -> str:
        return f"AnchoredRunsNode({self.name!r}, pipeline={self.pipeline!r})"

    # --- detection -------------------------------------------------------------------------------------------------
    def notify_anchored(self) -> None:
        """Scan now instead of at the next tick (e.g. from the upstream store's anchor callback)."""
        self._wake.set()

    def scan(self) -> int:
        """Record every upstream run anchored since the last scan; returns how many were new."""
        latest = self.registry.client.block_number()
        if latest < self._next_block:
            return 0
        anchored_runs = self.registry.anchored_runs(self.pipeline_id, from_block=self._next_block, to_block=latest)
        present = self.metadata_store.runs.present_artifacts(self.name)
        added = 0
        for anchored in anchored_runs:
            location = run_location(self.pipeline, anchored.run_id)
            if location in present:
                continue
            self.record_detected(location, anchored.merkle_root.hex(), 0, cid=anchored.manifest_cid)
            added += 1
        self._next_block = latest + 1
        return added

    def serve(self) -> None:
        while not self._halt.is_set():
            try:
                added = self.scan()
                if added:
                    self.log(f"{added} newly anchored run(s) of {self.pipeline!r}")
            except ChainError as exc:
                self.log(f"cannot read anchors of {self.pipeline!r} yet: {exc}", level="WARNING")
            self._wake.wait(self.poll_interval)
            self._wake.clear()

    def request_stop(self) -> None:
        super().request_stop()
        self._wake.set()
