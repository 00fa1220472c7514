"""``DynamicPricingNode``: price the newest model from its anchored evaluation metric, and list or reprice it.

Per execution the node takes the newest ModelNFT token of its pipeline, loads that run's manifest verified against
the anchored root, takes the configured metric with its Merkle proof, asks RunRegistry to confirm the proof
(``verifyMetric`` — the same check a buyer can make), and applies the :mod:`pricing rule <.pricing_rules>`. The price
goes to the marketplace with ``basis = keccak256(abi.encode(pipelineId, runId, name, value, step))``
(:func:`~anacostia_blockchain.chain.contracts.metric_basis`), recorded in the ``Listed`` / ``PriceUpdated`` event:
every on-chain price points at one anchored metric anyone can re-verify and re-price with the published rule.

A token that is not listed yet is listed with ``license_terms_id`` (its Story IP must be registered and the zero-fee
terms attached — RegisterIPNode does that); a listed one is repriced only when the price changed, so re-running
costs nothing. The price is logged as metric ``price_usd``; exact units, basis and metric as tags.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from ..chain.contracts import MarketplaceClient, ModelNFTClient, metric_basis
from ..chain.contracts.price_feed import USD_SCALE
from ..engine import BaseActionNode, BaseNode
from ..errors import ConfigurationError, VerificationError
from .anchored_run import AnchoredRunReader, ProvenMetric, VerifiedRun
from .pricing_rules import PricingRule


class DynamicPricingNode(BaseActionNode):
    """Set the marketplace price of the pipeline's newest model from ``metric_name`` via ``rule``."""

    def __init__(
        self,
        name: str,
        predecessors: Sequence[BaseNode],
        *,
        reader: AnchoredRunReader,
        nft: ModelNFTClient,
        marketplace: MarketplaceClient,
        rule: PricingRule,
        metric_name: str,
        metric_step: int | None = None,
        license_terms_id: int | None = None,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        **retry: Any,
    ) -> None:
        super().__init__(name, predecessors, loggers, **retry)
        self.reader = reader
        self.nft = nft
        self.marketplace = marketplace
        self.rule = rule
        self.metric_name = metric_name
        self.metric_step = metric_step
        self.license_terms_id = license_terms_id

    def select_token(self) -> tuple[int, int] | None:
        """``(run_id, token_id)`` to price: the oldest token of the pipeline that we hold and that was never listed
        (so a listing that failed is retried even after newer models were minted), else the newest token (to keep
        its price current). A token its seller delisted is not listed again."""
        minted = self.nft.minted_runs(self.reader.pipeline_id)
        if not minted:
            return None
        by_token = sorted((token_id, run_id) for run_id, token_id in minted.items())
        ever_listed = self.marketplace.listed_token_ids()
        holder = self.marketplace.sender.signer.address if self.marketplace.sender is not None else None
        for token_id, run_id in by_token:
            if token_id not in ever_listed and self.nft.owner_of(token_id) == holder:
                return run_id, token_id
        token_id, run_id = by_token[-1]
        return run_id, token_id

    def proven_metric(self, run: VerifiedRun) -> ProvenMetric:
        """The metric the price derives from, confirmed by RunRegistry on chain."""
        metric = run.metric(self.metric_name, self.metric_step)
        confirmed = self.reader.registry.verify_metric(
            run.pipeline_id, run.run_id, metric.name, metric.value, metric.step, metric.proof
        )
        if not confirmed:
            raise VerificationError(f"RunRegistry does not confirm {metric.name}@{metric.step} of run {run.run_id}")
        return metric

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        selected = self.select_token()
        if selected is None:
            self.log("no model NFT to price yet")
            return True
        run_id, token_id = selected
        run = self.reader.load(run_id)
        metric = self.proven_metric(run)
        price = self.rule.price_units(metric.decimal)
        basis = metric_basis(run.pipeline_id, run_id, metric.name, metric.value, metric.step)
        listing = self.marketplace.listing(token_id)
        if listing.active and listing.price_usd == price:
            action = "unchanged"
        elif listing.active:
            self.marketplace.set_price(token_id, price, basis)
            action = "repriced"
        else:
            if self.license_terms_id is None:
                raise ConfigurationError(f"token {token_id} is not listed and no license_terms_id is configured")
            self.marketplace.list_model(token_id, price, self.license_terms_id, basis)
            action = "listed"
        self.coordinator.store.log_batch(
            metrics={"price_usd": float(Decimal(price) / USD_SCALE)},
            tags={
                "price_token_id": token_id,
                "price_usd_units": str(price),
                "price_basis": "0x" + basis.hex(),
                "price_metric": f"{metric.name}={metric.decimal}@{metric.step} (run {run_id})",
                "price_action": action,
            },
        )
        self.log(f"token {token_id}: {action} at {Decimal(price) / USD_SCALE} USD from {metric.name}={metric.decimal}")
        return True
