"""``make demo``: one real end-to-end run of the whole system on embedded defaults.

1. start anvil and deploy every contract (RunRegistry, ModelNFT, ModelVersions, the Story-compatible suite, a mock
   ETH/USD Chainlink feed, ModelMarketplace) — :mod:`.world`;
2. launch the training and publishing pipelines — :mod:`.pipelines`;
3. drop data batches into the watched folder, one of them malformed (quarantined, never trained on);
4. for each training run: it is anchored, then published (NFT, Story IP + terms, feed price, on-chain promotion
   gate, listing at a price derived from the anchored accuracy);
5. a second account buys a license through the marketplace API, signs in with SIWE, fetches its wrapped data key,
   decrypts the model and checks its CID — :mod:`.buyer_flow`;
6. verify every anchored run against the chain and return a :class:`~.summary.DemoSummary`.
"""

from __future__ import annotations

import functools
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..actions.promote import promotion_summary
from ..errors import AnacostiaError, PipelineError
from ..resources.anchored_runs import run_location
from .buyer_flow import MarketplaceDemo, run_buyer_flow
from .digits_data import training_batches, write_bad_batch, write_batch
from .pipelines import PublishingPipeline, TrainingPipeline, build_publishing, build_training
from .summary import DemoSummary, collect_summary
from .world import DemoWorld

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    workdir: Path
    batches: int = 3
    bad_batch_after: int = 1  # the malformed file lands after this many good batches
    fresh: bool = True  # start from an empty work directory
    run_timeout: float = 60.0
    rpc_url: str | None = None  # a development node to use instead of starting anvil


def _wait(what: str, condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise PipelineError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.02)


class DemoScenario:
    """Runs the demo; :meth:`close` stops pipelines and the chain (``serve`` keeps them for the dashboard)."""

    def __init__(self, options: DemoOptions, progress: Progress = print) -> None:
        self.options = options
        self.progress = progress
        self.world: DemoWorld | None = None
        self.training: TrainingPipeline | None = None
        self.publishing: PublishingPipeline | None = None
        self.market: MarketplaceDemo | None = None

    def run(self) -> DemoSummary:
        options = self.options
        if options.fresh and options.workdir.exists():
            shutil.rmtree(options.workdir)
        started = time.monotonic()
        self.progress(f"{'connecting' if options.rpc_url else 'starting anvil'} and deploying the contracts ...")
        self.world = world = DemoWorld.start(options.workdir, rpc_url=options.rpc_url)
        deployed = sum(1 for r in world.deployments if r.status != "reused")
        self.progress(f"  chain {world.client.chain_id} at {world.client.rpc_url}: {deployed} contracts deployed")
        self.training = training = build_training(world)
        self.publishing = publishing = build_publishing(world)
        training.pipeline.launch()
        publishing.pipeline.launch()
        self.progress("pipelines launched: digits-training (watched folder) -> digits-publishing (anchored runs)")
        self.market = market = MarketplaceDemo(world, pipeline=[training.pipeline, publishing.pipeline]).start()
        self.progress(f"marketplace API and dashboard at {market.url} (OpenAPI at {market.url}/docs)")

        batches = training_batches(options.batches)
        drops: list[tuple[str, Callable[[Path], Path]]] = []
        for index, (x, y) in enumerate(batches, start=1):
            drops.append((f"batch-{index:02d}.csv", functools.partial(write_batch, x=x, y=y)))
            if index == options.bad_batch_after:
                drops.append(("batch-smudged.csv", write_bad_batch))
        for number, (name, writer) in enumerate(drops, start=1):
            self.progress(f"[{number}/{len(drops)}] dropping {name} into {training.incoming.resource_path}")
            writer(training.incoming.resource_path / name)
            self._await_cycle(name)
        token_id, accuracy = self._best_model()
        self.progress(f"buying a license to model #{token_id} as a second account through the marketplace API ...")
        outcome = run_buyer_flow(market, token_id, accuracy, self.progress)
        return collect_summary(world, training, publishing, outcome, time.monotonic() - started)

    def _best_model(self) -> tuple[int, Decimal]:
        """The minted model whose anchored run has the best held-out accuracy, with that accuracy."""
        assert self.world is not None and self.publishing is not None
        best: tuple[int, Decimal] | None = None
        for run_id, token_id in self.world.nft.minted_runs(self.publishing.reader.pipeline_id).items():
            accuracy = self.publishing.reader.load(run_id).metrics()["accuracy"]
            if best is None or accuracy > best[1]:
                best = (token_id, accuracy)
        if best is None:
            raise PipelineError("no model was published: nothing to buy")
        return best

    def _await_consumed(self, store: Any, resource: str, location: str) -> int:
        """Wait until an artifact at ``location`` was consumed by a run that has ended; that run's id."""
        timeout = self.options.run_timeout
        found: dict[str, int] = {}

        def consumed_and_ended() -> bool:
            artifact = next((a for a in store.runs.list_artifacts(resource, None) if a.location == location), None)
            if artifact is None or artifact.consumed_run_id is None:
                return False
            found["run"] = artifact.consumed_run_id
            return store.runs.get_run(artifact.consumed_run_id)["status"] not in ("running", "pending")

        _wait(f"{resource}/{location} to be consumed by a finished run", consumed_and_ended, timeout)
        return found["run"]

    def _await_cycle(self, file_name: str) -> None:
        """Wait until the training run that consumed ``file_name`` ended and was anchored, then until the
        publishing run that consumed its anchor ended and was anchored too."""
        assert self.training is not None and self.publishing is not None
        training, publishing, timeout = self.training, self.publishing, self.options.run_timeout
        run_id = self._await_consumed(training.store, training.incoming.name, file_name)
        if not training.store.flush_anchors(timeout=timeout):
            raise PipelineError(f"training run {run_id} was not anchored within {timeout:.0f}s")
        export = training.store.runs.export_run(run_id)
        for quarantined in json.loads(export["tags"].get("validate_clean_encrypt.quarantine") or "[]"):
            self.progress(f"  ... quarantined {quarantined['location']}: {quarantined['reason']}")
        metrics = {m["key"]: m["value"] for m in export["metrics"]}
        detail = f"accuracy {metrics['accuracy']:.4f}" if "accuracy" in metrics else "no new model"
        if metrics.get("files_quarantined"):
            detail += f", {int(metrics['files_quarantined'])} file quarantined"
        self.progress(f"  training run {run_id}: {training.store.runs.get_run(run_id)['status']} ({detail}); anchored")
        location = run_location(training.store.anchoring.pipeline, run_id)
        publishing.anchored.notify_anchored()
        published_run = self._await_consumed(publishing.store, publishing.anchored.name, location)
        tags = publishing.store.runs.export_run(published_run)["tags"]
        if "model_nft_token_id" in tags:
            self.progress(
                f"  publishing run {published_run}: model NFT #{tags['model_nft_token_id']}, "
                f"Story ipId {tags.get('story_ip_id', '-')}, price {tags.get('price_action', '-')}, "
                f"{promotion_summary(tags)}"
            )
        else:
            self.progress(f"  publishing run {published_run}: nothing new to publish")
        if not publishing.store.flush_anchors(timeout=timeout):
            raise PipelineError(f"publishing run {published_run} was not anchored within {timeout:.0f}s")

    def close(self) -> None:
        if self.market is not None:
            self.market.stop()
        for part in (self.publishing, self.training):
            if part is not None:
                try:
                    part.pipeline.terminate()
                except AnacostiaError as exc:
                    self.progress(f"warning: stopping {part.store.anchoring.pipeline}: {exc}")
        if self.world is not None:
            self.world.close()
