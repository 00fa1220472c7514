"""AnchoredRunReader: a manifest fetched by CID is only used when its root equals the root anchored on chain."""

from __future__ import annotations

from decimal import Decimal

import pytest

from anacostia_blockchain.chain.contracts.merkle import scale_metric
from anacostia_blockchain.errors import ManifestItemNotFoundError, RunNotAnchoredError, TamperedManifestError


def test_load_verified_run_with_proofs_the_chain_accepts(anchored):
    reader, registry, publish = anchored.reader, anchored.registry, anchored.publish
    publish(1, 0.93)
    publish(2, 0.95)
    assert reader.anchored_run_ids() == [1, 2]
    run = reader.load(1)
    assert run.metrics() == {"accuracy": Decimal("0.93"), "loss": Decimal("0.3")}
    assert run.params() == {"depth": 6}
    assert run.code_fingerprints() == {"train": "sha256:abc"}
    best = run.metric("accuracy")
    assert (best.value, best.step) == (scale_metric(0.93), 1)
    assert registry.verify_metric(run.pipeline_id, 1, "accuracy", best.value, best.step, best.proof)
    first = run.metric("accuracy", step=0)
    assert first.value == scale_metric(0.93 - 0.1)
    assert registry.verify_metric(run.pipeline_id, 1, "accuracy", first.value, 0, first.proof)
    assert not registry.verify_metric(run.pipeline_id, 2, "accuracy", best.value, best.step, best.proof)


def test_a_manifest_that_does_not_match_the_anchored_root_is_tampered(anchored):
    reader, _, publish = anchored.reader, anchored.registry, anchored.publish
    honest, _ = publish(1, 0.93)
    publish(2, 0.99, root_of=honest)  # the chain holds run 1's root, the CID points at a different manifest
    with pytest.raises(TamperedManifestError) as info:
        reader.load(2)
    assert info.value.items == ["root"]


def test_a_manifest_of_another_run_is_rejected(anchored):
    reader, _, publish = anchored.reader, anchored.registry, anchored.publish
    publish(1, 0.93, anchor_as=3)  # run 3 anchored with run 1's manifest and root
    with pytest.raises(TamperedManifestError) as info:
        reader.load(3)
    assert info.value.items == ["run"]


def test_unanchored_runs_and_missing_metrics(anchored):
    reader, _, publish = anchored.reader, anchored.registry, anchored.publish
    with pytest.raises(RunNotAnchoredError):
        reader.load(7)
    publish(1, 0.93)
    run = reader.load(1)
    with pytest.raises(ManifestItemNotFoundError, match="no metric 'f1'"):
        run.metric("f1")
    with pytest.raises(ManifestItemNotFoundError, match="not at step 5"):
        run.metric("accuracy", step=5)
