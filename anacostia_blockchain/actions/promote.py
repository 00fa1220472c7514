"""``PromoteModelNode``: move the newest model of a pipeline into a stage through the on-chain promotion gate.

The node picks the newest ModelNFT token minted for its pipeline (:meth:`PromoteModelNode.select_token`), makes it
the family's next version if it is not one yet, reads the stage's gate from ModelVersions, takes the gated metric
*from the anchored manifest* of the token's run together with its Merkle proof, applies the promotion policy and
calls ``promote``. The contract re-checks the proof against RunRegistry and the threshold, so this node cannot
promote a model that misses the bar even if its own checks were wrong.

The promotion policy (``docs/publishing.md``):

1. **the bar** — the gated metric must meet the stage's threshold (checked here first, only to avoid paying for a
   certain revert; the contract enforces it);
2. **no regression** — a model whose gated metric is worse than that of the version in the stage now is not
   promoted (the incumbent's value is the one proven on chain when it was promoted, from its ``VersionPromoted``
   event); equal is not worse, so a newer model with the same score replaces the older one. ``allow_regression=True``
   turns this rule off. The contract does not know this rule: it is this node's.

Outcomes, tagged on the current run as ``promotion_outcome`` (with ``promotion_reason`` for a refusal):

- ``promoted`` -> ``True`` (tags ``promotion_stage``, ``promotion_version``, ``promotion_tx``, ...);
- ``below_bar`` / ``regression`` -> the model stays published but is not promoted; nothing is sent. With
  ``fail_on_refusal=True`` (the default) the node returns ``False``, so the run fails and the nodes after this one
  (e.g. pricing, listing) do not run for it; the store then treats the run's inputs like any failed run's (retried
  after a backoff, then quarantined with the reason). With ``fail_on_refusal=False`` the refusal is recorded and the
  run goes on (``True``): the choice for pipelines that publish every model and promote only the good ones;
- ``already_in_stage`` / ``no_model`` -> ``True`` with nothing sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from ..chain.contracts import ModelNFTClient, ModelVersionsClient
from ..chain.contracts.merkle import unscale_metric
from ..chain.contracts.model_versions import Gate, stage_id
from ..engine import BaseActionNode, BaseNode
from ..errors import ConfigurationError
from .anchored_run import AnchoredRunReader, ProvenMetric

#: The ``promotion_outcome`` tags (see the module docstring).
PROMOTED, BELOW_BAR, REGRESSION, ALREADY_IN_STAGE, NO_MODEL = (
    "promoted", "below_bar", "regression", "already_in_stage", "no_model"
)


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
        allow_regression: bool = False,
        fail_on_refusal: bool = True,
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
        self.allow_regression = allow_regression
        self.fail_on_refusal = fail_on_refusal

    def select_token(self) -> tuple[int, int] | None:
        """``(run_id, token_id)`` to promote: the token of the newest published run (``None`` = none yet)."""
        return self.nft.latest_minted(self.reader.pipeline_id)

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        store = self.coordinator.store
        selected = self.select_token()
        if selected is None:
            self.log("no model NFT to promote yet")
            store.set_tags(promotion_outcome=NO_MODEL)
            return True
        run_id, token_id = selected
        gate = self.versions.gate(self.family_id, self.stage)
        if gate is None:
            raise ConfigurationError(f"family {self.family_id} has no gate for stage {self.stage!r}: set one first")
        version = self._ensure_version(token_id)
        if self.versions.stage_of(self.family_id, version) == self.stage:
            self.log(f"version {version} (token {token_id}) is already in {self.stage}")
            store.set_tags(promotion_outcome=ALREADY_IN_STAGE, promotion_stage=self.stage)
            return True
        metric = self.reader.load(run_id).metric(gate.metric_name, self.metric_step)
        refusal = self.refusal(gate, metric)
        if refusal is not None:
            outcome, reason = refusal
            self.log(f"version {version} (token {token_id}) not promoted: {reason}", level="WARNING")
            store.set_tags(promotion_outcome=outcome, promotion_reason=reason, promotion_stage=self.stage,
                           promotion_refused=f"{metric.name}={metric.decimal}")
            return not self.fail_on_refusal
        promotion = self.versions.promote(
            self.family_id, version, self.stage, metric.name, metric.value, metric.step, metric.proof
        )
        store.set_tags(
            promotion_outcome=PROMOTED,
            promotion_stage=self.stage,
            promotion_version=version,
            promotion_token_id=token_id,
            promotion_tx=promotion.tx_hash,
            promotion_metric=f"{metric.name}={metric.decimal}@{metric.step}",
        )
        self.log(f"promoted version {version} (token {token_id}) to {self.stage} with {metric.name}={metric.decimal}")
        return True

    # --- the policy -----------------------------------------------------------------------------------------------
    def refusal(self, gate: Gate, metric: ProvenMetric) -> tuple[str, str] | None:
        """``(outcome, reason)`` when the policy refuses ``metric`` for the stage, else ``None``."""
        if not gate.admits(metric.value):
            direction = ">=" if gate.higher_is_better else "<="
            return BELOW_BAR, (f"{metric.name}={metric.decimal} does not meet the {self.stage} bar "
                               f"({direction} {unscale_metric(gate.threshold)})")
        if self.allow_regression:
            return None
        incumbent = self.incumbent(gate)
        if incumbent is None:
            return None
        version, value = incumbent
        if value is None:
            return REGRESSION, (f"version {version} in {self.stage} was not promoted on {metric.name}, so a "
                                "regression cannot be ruled out (allow_regression=True promotes anyway)")
        worse = metric.value < value if gate.higher_is_better else metric.value > value
        if worse:
            return REGRESSION, (f"{metric.name}={metric.decimal} would regress {self.stage}, which holds version "
                                f"{version} with {metric.name}={unscale_metric(value)}")
        return None

    def incumbent(self, gate: Gate) -> tuple[int, int | None] | None:
        """``(version, value)`` of the version in the stage now, with its gated metric as proven when it was
        promoted (``None`` value: it was promoted on another metric); ``None`` when the stage is empty."""
        version = self.versions.version_in_stage(self.family_id, self.stage)
        if version == 0:
            return None
        promotions = self.versions.contract.events(
            "VersionPromoted", familyId=self.family_id, version=version, stage=stage_id(self.stage)
        )
        values = [int(log.args["value"]) for log in promotions if log.args["metricName"] == gate.metric_name]
        return version, (values[-1] if values else None)

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


def promotion_summary(tags: dict[str, Any]) -> str:
    """One line for a run's promotion outcome, from the tags :class:`PromoteModelNode` set."""
    outcome = tags.get("promotion_outcome")
    if outcome == PROMOTED:
        return f"promoted to {tags.get('promotion_stage')} ({tags.get('promotion_metric', '').split('@')[0]})"
    if outcome in (BELOW_BAR, REGRESSION):
        return f"not promoted: {tags.get('promotion_reason')}"
    if outcome == ALREADY_IN_STAGE:
        return f"already in {tags.get('promotion_stage')}"
    return "not promoted"
