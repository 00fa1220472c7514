"""``MintModelNFTNode``: publish an anchored run's model as an ERC-721 token whose metadata lives on IPFS.

Per execution the node picks one anchored run of the source pipeline that has no token yet (:meth:`select_run`,
oldest first), loads its manifest by CID and checks it against the anchored root (:mod:`.anchored_run`), builds
the metadata JSON (:mod:`.model_metadata`), stores it in the content store (by default the reader's, i.e. where
the manifests live: an ``EmbeddedBlockstore`` or a ``KuboClient``) and mints with ``tokenURI = ipfs://<cid>`` and
the run's provenance. When the run saved a model checkpoint, the metadata points at it and at the exact dataset
batch it was trained on (both fetched by CID and checked against the anchored run first). Token id, tx hash,
metadata CID and the source run are recorded as tags of the current run in the metadata store.

Why it is safe to retry or restart: what is unpublished is derived from the chain (``RunAnchored`` minus
``ModelMinted`` for the pipeline), so an outage only delays publishing; and ModelNFT accepts one token per
(pipeline, run): a retry racing an earlier attempt that was mined late gets ``RunAlreadyMinted`` and adopts that
token, so a run is never minted twice. No outbox is needed because the chain itself records what is done. The
metadata bytes are canonical, so a retried attempt stores the same CID again (a no-op for a content store).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..chain.contracts import MintedModel, ModelNFTClient
from ..engine import BaseActionNode, BaseNode
from ..errors import ConfigurationError, CustomContractError
from ..ipfs.store import BytesByCid
from .anchored_run import AnchoredRunReader, VerifiedRun
from .model_metadata import ModelMetadataOptions, build_model_metadata, metadata_bytes


@dataclass(frozen=True)
class PublishedModel:
    run_id: int
    metadata_cid: str
    minted: MintedModel


class MintModelNFTNode(BaseActionNode):
    """Mint one model NFT per anchored run of ``reader.pipeline`` (see the module docstring)."""

    def __init__(
        self,
        name: str,
        predecessors: Sequence[BaseNode],
        *,
        reader: AnchoredRunReader,
        nft: ModelNFTClient,
        options: ModelMetadataOptions,
        content: BytesByCid | None = None,
        owner: str | None = None,
        required_metrics: Sequence[str] = (),
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        **retry: Any,
    ) -> None:
        super().__init__(name, predecessors, loggers, **retry)
        self.reader = reader
        self.nft = nft
        store = content if content is not None else reader.content
        if not callable(getattr(store, "add_bytes", None)):
            raise ConfigurationError(f"{name}: pass content= a store with add_bytes (the reader's store has none)")
        self.content: BytesByCid = store
        self.options = options
        self.owner = owner
        self.required_metrics = tuple(required_metrics)
        self._unpublishable: set[int] = set()
        self.published: list[PublishedModel] = []

    # --- hooks a subclass may override ---------------------------------------------------------------------------
    def select_run(self) -> int | None:
        """The run to publish now: the oldest anchored, publishable run without a token (``None`` = nothing to do).

        Runs found unpublishable (see :meth:`publishable`) are remembered and not fetched again.
        """
        minted = self.nft.minted_runs(self.reader.pipeline_id)
        for run_id in self.reader.anchored_run_ids():
            if run_id in minted or run_id in self._unpublishable:
                continue
            if self.publishable(self.reader.load(run_id)):
                return run_id
            self._unpublishable.add(run_id)
        return None

    def publishable(self, run: VerifiedRun) -> bool:
        """Whether an anchored run deserves a model NFT: it succeeded and logged every ``required_metrics``."""
        return run.status == "success" and all(run.has_metric(name) for name in self.required_metrics)

    def build_metadata(self, run: VerifiedRun) -> dict[str, Any]:
        """The metadata document (override to add fields; keep it derived from ``run``). The run's checkpoint and
        training batch documents are fetched from the reader's content store (where the run's outputs live)."""
        return build_model_metadata(run, self.options, self.reader.content)

    def token_owner(self) -> str:
        """Who receives the token: ``owner`` if given, else the minting account."""
        if self.owner is not None:
            return self.owner
        if self.nft.sender is None:
            raise ConfigurationError(f"{self.name}: the ModelNFTClient needs a TxSender to mint")
        return self.nft.sender.signer.address

    # --- the job -------------------------------------------------------------------------------------------------
    def execute(self, *args: Any, **kwargs: Any) -> bool:
        run_id = self.select_run()
        if run_id is None:
            self.log("no anchored run waiting for a model NFT")
            return True
        published = self.publish(run_id)
        store = self.coordinator.store
        store.set_tags(
            model_nft_contract=self.nft.address,
            model_nft_token_id=published.minted.token_id,
            model_nft_tx=published.minted.tx_hash,
            model_nft_metadata_cid=published.metadata_cid,
            model_nft_source_run=run_id,
        )
        return True

    def publish(self, run_id: int) -> PublishedModel:
        """Verify, store the metadata and mint for ``run_id``; a run that already has a token returns that token."""
        run = self.reader.load(run_id)
        data = metadata_bytes(self.build_metadata(run))
        cid = str(self.content.add_bytes(data).cid)
        try:
            minted = self.nft.mint(
                self.token_owner(),
                f"ipfs://{cid}",
                pipeline_id=run.pipeline_id,
                run_id=run_id,
                anchor_root=run.anchor.merkle_root,
                manifest_cid=run.anchor.manifest_cid,
            )
        except CustomContractError as exc:
            if exc.error_name != "RunAlreadyMinted":
                raise
            # an earlier attempt (e.g. one whose receipt wait timed out) was mined in the meantime: adopt it
            already = self.nft.minted_for_run(run.pipeline_id, run_id)
            if already is None:
                raise
            self.log(f"run {run_id} already has token {already.token_id}; not minting again", level="WARNING")
            return PublishedModel(run_id, cid, already)
        self.log(f"minted model token {minted.token_id} for run {run_id} (metadata {cid}, tx {minted.tx_hash})")
        published = PublishedModel(run_id, cid, minted)
        self.published.append(published)
        return published
