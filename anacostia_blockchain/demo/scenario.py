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

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import AnacostiaError, PipelineError
from .buyer_flow import run_buyer_flow
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

    def run(self) -> DemoSummary:
        options = self.options
        if options.fresh and options.workdir.exists():
            shutil.rmtree(options.workdir)
        started = time.monotonic()
        self.progress("starting anvil and deploying the contracts ...")
        self.world = world = DemoWorld.start(options.workdir)
        deployed = sum(1 for r in world.deployments if r.status != "reused")
        self.progress(f"  chain {world.client.chain_id} at {world.client.rpc_url}: {deployed} contracts deployed")
        self.training = training = build_training(world)
        self.publishing = publishing = build_publishing(world)
        training.pipeline.launch()
        publishing.pipeline.launch()
        self.progress("pipelines launched: digits-training (watched folder) -> digits-publishing (anchored runs)")

        batches = training_batches(options.batches)
        drops: list[tuple[str, Callable[[Path], Path]]] = []
        for index, (x, y) in enumerate(batches, start=1):
            drops.append((f"batch-{index:02d}.csv", lambda path, x=x, y=y: write_batch(path, x, y)))
            if index == options.bad_batch_after:
                drops.append(("batch-smudged.csv", write_bad_batch))
        for number, (name, writer) in enumerate(drops, start=1):
            self.progress(f"[{number}/{len(drops)}] dropping {name} into {training.incoming.resource_path}")
            writer(training.incoming.resource_path / name)
            self._await_cycle(number)
        self.progress("buying a license as a second account through the marketplace API ...")
        purchase = run_buyer_flow(world, self.progress)
        summary = collect_summary(world, training, publishing, purchase, time.monotonic() - started)
        return summary

    def _await_cycle(self, number: int) -> None:
        """Wait until training run ``number`` ended, was anchored, and the publishing run for it ended."""
        assert self.training is not None and self.publishing is not None
        training, publishing, timeout = self.training, self.publishing, self.options.run_timeout
        if not training.pipeline.wait_for_runs(number, timeout=timeout):
            raise PipelineError(f"training run {number} did not finish within {timeout:.0f}s")
        run = training.store.get_run(number)
        if not training.store.flush_anchors(timeout=timeout):
            raise PipelineError(f"training run {number} was not anchored within {timeout:.0f}s")
        self.progress(f"  training run {number}: {run.status}; anchored")
        if not publishing.pipeline.wait_for_runs(number, timeout=timeout):
            raise PipelineError(f"the publishing run for training run {number} did not finish in {timeout:.0f}s")
        tags = publishing.store.export_run(number)["tags"]
        if "model_nft_token_id" in tags:
            self.progress(
                f"  published: model NFT #{tags['model_nft_token_id']} "
                f"(ipId {tags.get('story_ip_id', '-')}), {tags.get('price_action', 'not priced')}"
            )
        else:
            self.progress("  nothing to publish for this run (no new model)")
        _wait("the publishing run's anchor", lambda: publishing.store.flush_anchors(timeout=timeout), timeout)

    def close(self) -> None:
        for part in (self.publishing, self.training):
            if part is not None:
                try:
                    part.pipeline.terminate()
                except AnacostiaError as exc:
                    self.progress(f"warning: stopping {part.store.pipeline}: {exc}")
        if self.world is not None:
            self.world.close()
