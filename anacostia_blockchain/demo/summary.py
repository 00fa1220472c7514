"""What the demo did, collected from the stores and the chain, printable as text or JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from ..chain.contracts.price_feed import usd_units
from ..errors import AnacostiaError
from .buyer_flow import BuyerOutcome
from .pipelines import PublishingPipeline, TrainingPipeline
from .world import DemoWorld

WEI_PER_ETH = Decimal(10**18)
USD_UNIT = Decimal(usd_units("1"))


@dataclass
class RunLine:
    pipeline: str
    run_id: int
    status: str
    metrics: dict[str, float]
    quarantined: str | None
    anchor_tx: str | None
    manifest_cid: str | None
    verdict: str


@dataclass
class ModelLine:
    token_id: int
    source_run: int
    metadata_cid: str
    ip_id: str | None
    license_terms_id: int | None
    price_usd: str | None
    price_wei: int | None
    stage: str | None


@dataclass
class DemoSummary:
    chain_id: int
    rpc_url: str
    contracts: dict[str, str]
    runs: list[RunLine]
    models: list[ModelLine]
    eth_usd: str
    purchase: BuyerOutcome | None
    seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def render(self) -> str:
        lines = [f"chain {self.chain_id} at {self.rpc_url}; ETH/USD {self.eth_usd} (Chainlink feed)", "", "contracts:"]
        lines += [f"  {name:<22} {address}" for name, address in sorted(self.contracts.items())]
        lines += ["", "runs:"]
        for run in self.runs:
            metrics = ", ".join(f"{k}={v:g}" for k, v in sorted(run.metrics.items())) or "-"
            lines.append(f"  {run.pipeline} #{run.run_id:<3} {run.status:<8} {run.verdict:<9} {metrics}")
            lines.append(f"      manifest {run.manifest_cid}  anchor tx {run.anchor_tx}")
            if run.quarantined:
                lines.append(f"      quarantined: {run.quarantined}")
        lines += ["", "models:"]
        for model in self.models:
            price = f"${Decimal(model.price_usd):.2f} = {Decimal(model.price_wei or 0) / WEI_PER_ETH:.6f} ETH" \
                if model.price_usd else "not listed"
            lines.append(f"  token #{model.token_id} from training run {model.source_run}: {price}; "
                         f"stage {model.stage or '-'}")
            lines.append(
                f"      metadata ipfs://{model.metadata_cid}  ipId {model.ip_id}  terms {model.license_terms_id}"
            )
        if self.purchase is not None:
            p, outcome = self.purchase.purchase, self.purchase
            lines += ["", "purchase:",
                      f"  {p.buyer} bought token #{p.token_id} for {Decimal(p.paid_wei or 0) / WEI_PER_ETH:.6f} ETH "
                      f"(tx {p.purchase_tx}); license token #{p.license_token_id}",
                      f"  SIWE login ok; key {p.key_id} unwrapped; model {p.plaintext_cid} decrypted, CID verified",
                      f"  decrypted model's held-out accuracy {outcome.decrypted_accuracy} "
                      f"(anchored: {outcome.anchored_accuracy}); stranger refused the key: {outcome.stranger_refused}"]
        lines += ["", f"done in {self.seconds:.1f}s" + ("" if self.ok else f"; PROBLEMS: {'; '.join(self.problems)}")]
        return "\n".join(lines)


def _run_lines(store: Any, pipeline: str, problems: list[str]) -> list[RunLine]:
    lines = []
    for run in store.runs.get_runs():
        run_id = int(run["id"])
        export = store.runs.export_run(run_id)
        metrics = {m["key"]: m["value"] for m in export["metrics"]}
        quarantined = export["tags"].get("validate_clean_encrypt.quarantine")
        anchor = store.anchor_status(run_id)
        try:
            verdict = store.verify_run(run_id).verdict
        except AnacostiaError as exc:
            verdict = type(exc).__name__
            problems.append(f"{pipeline} run {run_id} did not verify: {exc}")
        lines.append(RunLine(
            pipeline=pipeline,
            run_id=run_id,
            status=str(run["status"]),
            metrics=metrics,
            quarantined=str(quarantined) if quarantined else None,
            anchor_tx=(anchor.result or {}).get("txHash") if anchor is not None else None,
            manifest_cid=anchor.payload.get("manifestCid") if anchor is not None else None,
            verdict=verdict,
        ))
    return lines


def collect_summary(
    world: DemoWorld,
    training: TrainingPipeline,
    publishing: PublishingPipeline,
    purchase: BuyerOutcome | None,
    seconds: float,
) -> DemoSummary:
    problems: list[str] = []
    runs = _run_lines(training.store, training.store.anchoring.pipeline, problems)
    runs += _run_lines(publishing.store, publishing.store.anchoring.pipeline, problems)
    reading = world.feed.latest()
    models = []
    for source_run, token_id in sorted(world.nft.minted_runs(publishing.reader.pipeline_id).items()):
        ip_id = world.story.ip_id(world.nft.address, token_id)
        listing = world.market.listing(token_id)
        stage_version = world.versions.version_in_stage(publishing.family_id, "production")
        stage_token = world.versions.version_token(publishing.family_id, stage_version) if stage_version else None
        metadata_cid = world.nft.token_uri(token_id).removeprefix("ipfs://")
        models.append(ModelLine(
            token_id=token_id,
            source_run=source_run,
            metadata_cid=metadata_cid,
            ip_id=ip_id if world.story.is_registered(ip_id) else None,
            license_terms_id=listing.license_terms_id if listing.active else None,
            price_usd=str(Decimal(listing.price_usd) / USD_UNIT) if listing.active else None,
            price_wei=world.market.quote(token_id) if listing.active else None,
            stage="production" if stage_token == token_id else None,
        ))
    if purchase is not None:
        if not purchase.purchase.cid_verified:
            problems.append("the buyer's model did not match its CID")
        if not purchase.stranger_refused:
            problems.append("a stranger without a license was given the key")
        if Decimal(purchase.decrypted_accuracy) != Decimal(purchase.anchored_accuracy):
            problems.append("the model the buyer decrypted does not score its anchored accuracy")
    return DemoSummary(
        chain_id=world.client.chain_id,
        rpc_url=world.client.rpc_url,
        contracts={name: world.manifest.address(name) for name in world.manifest.names()},
        runs=runs,
        models=models,
        eth_usd=str(reading.price),
        purchase=purchase,
        seconds=seconds,
        problems=problems,
    )
