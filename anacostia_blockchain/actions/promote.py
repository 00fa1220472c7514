"""``PromoteModelNode``: move the newest model of a pipeline into a stage through the on-chain promotion gate.

The node picks the newest ModelNFT token minted for its pipeline (:meth:`PromoteModelNode.select_token`), makes it
the family's next version if it is not one yet, reads the stage's gate from ModelVersions, takes the gated metric
*from the anchored manifest* of the token's run together with its Merkle proof, and calls ``promote``. The contract
re-checks everything (proof against RunRegistry, threshold), so this node cannot promote a model that misses the bar
even if its own checks were wrong; it checks the threshold locally first only to avoid paying for a certain revert.

Outcome per execution: promoted -> ``True`` (tags ``promotion_*`` on the current run); the gate refuses -> ``False``
(tag ``promotion_refused``; nothing is sent); already in that stage or no model yet -> ``True`` with nothing sent.
A refusal fails the run on purpose — a model below the bar is a compliance event, not a detail — so the nodes after
this one (pricing, listing) do not run for it, and the store handles the run's inputs like any failed run's (retried
after a backoff, then quarantined with the reason).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from ..chain.contracts import ModelNFTClient, ModelVersionsClient
from ..engine import BaseActionNode, BaseNode
from ..errors import ConfigurationError
from .anchored_run import AnchoredRunReader


class PromoteModelNode(BaseActionNode):
    """Promote the pipeline's newest model into ``stage`` of family ``family_id`` (see the module docstring)."""

    def __init__(
        self,
        name: str,
        predecessors: Sequence[BaseNode],
        *,
        reader: AnchoredRunReader,
        nft: ModelNFTClient,
        versions: ModelVersionsClient,
        family_id: int,
        stage: str,
        metric_step: int | None = None,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        **retry: Any,
    ) -> None:
        super().__init__(name, predecessors, loggers, **retry)
        self.reader = reader
        self.nft = nft
        self.versions = versions
        self.family_id = family_id
        self.stage = stage
        self.metric_step = metric_step

    def select_token(self) -> tuple[int, int] | None:
        """``(run_id, token_id)`` to promote: the token of the newest published run (``None`` = none yet)."""
        return self.nft.latest_minted(self.reader.pipeline_id)

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        selected = self.select_token()
        if selected is None:
            self.log("no model NFT to promote yet")
            return True
        run_id, token_id = selected
        gate = self.versions.gate(self.family_id, self.stage)
        if gate is None:
            raise ConfigurationError(f"family {self.family_id} has no gate for stage {self.stage!r}: set one first")
        version = self._ensure_version(token_id)
        if self.versions.stage_of(self.family_id, version) == self.stage:
            self.log(f"version {version} (token {token_id}) is already in {self.stage}")
            return True
        metric = self.reader.load(run_id).metric(gate.metric_name, self.metric_step)
        store = self.coordinator.store
        if not gate.admits(metric.value):
            direction = ">=" if gate.higher_is_better else "<="
            self.log(f"version {version}: {metric.name}={metric.decimal} does not meet {direction} "
                     f"{gate.threshold / 10**18} for {self.stage}; not promoted", level="WARNING")
            store.set_tags(promotion_refused=f"{metric.name}={metric.decimal}", promotion_stage=self.stage)
            return False
        promotion = self.versions.promote(
            self.family_id, version, self.stage, metric.name, metric.value, metric.step, metric.proof
        )
        store.set_tags(
            promotion_stage=self.stage,
            promotion_version=version,
            promotion_token_id=token_id,
            promotion_tx=promotion.tx_hash,
            promotion_metric=f"{metric.name}={metric.decimal}@{metric.step}",
        )
        self.log(f"promoted version {version} (token {token_id}) to {self.stage} with {metric.name}={metric.decimal}")
        return True

    def _ensure_version(self, token_id: int) -> int:
        family = self.versions.family_of_token(token_id)
        if family == 0:
            return self.versions.add_version(self.family_id, token_id)
        if family != self.family_id:
            raise ConfigurationError(f"token {token_id} is a version of family {family}, not {self.family_id}")
        version = self.versions.version_of_token(self.family_id, token_id)
        if version is None:
            raise ConfigurationError(f"token {token_id} belongs to family {family} but has no VersionAdded event")
        return version
