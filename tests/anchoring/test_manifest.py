"""The canonical run manifest built from ``export_run`` data (pure; no chain, no database)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from anacostia_blockchain.anchoring.manifest import MANIFEST_VERSION, RunManifest, manifest_cid
from anacostia_blockchain.chain.contracts import merkle
from anacostia_blockchain.errors import ManifestItemNotFoundError, MetricValueError, ValidationError

SHA = "ab" * 32


def export() -> dict[str, Any]:
    """The shape ``RunStore.export_run`` returns."""
    return {
        "run": {"id": 4, "status": "success", "started_at": 1.5, "ended_at": 2.5, "trigger": "data", "error": None,
                "hash": None},
        "nodes": [{"id": 9, "run_id": 4, "node_name": "train", "status": "success", "code_fingerprint": "sha256:00"}],
        "metrics": [
            {"run_id": 4, "node_name": "train", "key": "loss", "value": 0.25, "step": 0, "timestamp": 3.0},
            {"run_id": 4, "node_name": "train", "key": "loss", "value": 0.125, "step": 1, "timestamp": 3.1},
            {"run_id": 4, "node_name": "train", "key": "loss", "value": 0.1, "step": 1, "timestamp": 3.2},
            {"run_id": 4, "node_name": "train", "key": "auc", "value": 0.9, "step": None, "timestamp": 3.3},
        ],
        "params": {"lr": 0.001, "layers": [64, 32]},
        "tags": {"stage": "dev"},
        "artifacts": {
            "consumed": [{"id": 1, "resource": "data", "location": "a.csv", "sha256": SHA, "size": 10,
                          "state": "current", "consumed_run_id": 4, "cid": None, "attempts": 0}],
            "produced": [{"id": 2, "resource": "models", "location": "m.pkl", "sha256": SHA, "size": 20,
                          "state": "current", "consumed_run_id": None, "cid": "bafkreimodel", "attempts": 0}],
        },
        "lineage": [{"artifact_id": 1, "relation": "consumed", "node_name": None},
                    {"artifact_id": 2, "relation": "produced", "node_name": "train"}],
    }  # fmt: skip


def test_keys_cover_every_recorded_entry() -> None:
    manifest = RunManifest.from_export("pipe", 4, export())
    keys = set(manifest.by_key)
    assert {
        "run",
        "node:train",
        "metric:loss@0",
        "metric:loss@1",
        "metric:loss@1#2",
        "metric:auc",
        "param:lr",
        "param:layers",
        "tag:stage",
        "artifact:consumed:data:a.csv",
        "artifact:produced:models:m.pkl",
    } <= keys
    assert len([k for k in keys if k.startswith("lineage:")]) == 2
    assert len(manifest.items) == 13
    loss = manifest.item("metric:loss@1#2")
    assert loss.fields == {"name": "loss", "value": str(10**17), "step": 1}
    assert manifest.item("metric:auc").fields["step"] == 0


def test_serialization_is_deterministic_and_round_trips() -> None:
    a = RunManifest.from_export("pipe", 4, export())
    shuffled = export()
    shuffled["params"] = dict(reversed(list(shuffled["params"].items())))
    shuffled["lineage"].reverse()
    b = RunManifest.from_export("pipe", 4, shuffled)
    assert a.to_bytes() == b.to_bytes() and a.root == b.root
    assert manifest_cid(a.to_bytes()) == manifest_cid(b.to_bytes())
    again = RunManifest.from_bytes(a.to_bytes())
    assert again == a and again.root == a.root
    assert json.loads(a.to_bytes())["pipelineId"] == "0x" + merkle.pipeline_id("pipe").hex()


def test_state_changes_after_the_run_do_not_change_the_manifest() -> None:
    before = RunManifest.from_export("pipe", 4, export())
    later = export()
    later["run"]["hash"] = "0x" + "11" * 32  # the store records the root here
    consumed = later["artifacts"]["consumed"][0]
    consumed.update(state="old", attempts=2, consumed_run_id=None)
    assert RunManifest.from_export("pipe", 4, later).root == before.root


def test_diff_names_changed_added_and_removed_items() -> None:
    before = RunManifest.from_export("pipe", 4, export())
    changed = export()
    changed["metrics"][0]["value"] = 0.3
    changed["params"]["lr"] = 0.01
    del changed["tags"]["stage"]
    changed["tags"]["new"] = "x"
    changed["artifacts"]["produced"][0]["cid"] = "bafkreiother"
    after = RunManifest.from_export("pipe", 4, changed)
    assert before.diff(after) == ["artifact:produced:models:m.pkl", "metric:loss@0", "param:lr", "tag:new", "tag:stage"]
    assert before.diff(copy.deepcopy(before)) == []


def test_every_item_has_a_verifiable_proof() -> None:
    manifest = RunManifest.from_export("pipe", 4, export())
    for key in manifest.by_key:
        leaf, proof = manifest.proof(key)
        assert merkle.verify_proof(manifest.root, leaf, proof)
    with pytest.raises(ManifestItemNotFoundError, match="metric:loss@0"):
        manifest.proof("metric:loss@7")


def test_the_run_leaf_binds_pipeline_and_run_id() -> None:
    assert RunManifest.from_export("pipe", 4, export()).root != RunManifest.from_export("pipe", 5, export()).root
    assert RunManifest.from_export("pipe", 4, export()).root != RunManifest.from_export("other", 4, export()).root


def test_an_empty_run_still_has_a_root() -> None:
    manifest = RunManifest.from_export("pipe", 1, {"run": {"id": 1, "status": "success"}})
    assert [item.key for item in manifest.items] == ["run"]
    assert manifest.root == manifest.leaves["run"]


def test_bad_inputs_are_typed_errors() -> None:
    bad_metric = export()
    bad_metric["metrics"][0]["value"] = float("inf")
    with pytest.raises(MetricValueError):
        RunManifest.from_export("pipe", 4, bad_metric)
    no_sha = export()
    no_sha["artifacts"]["produced"][0]["sha256"] = None
    with pytest.raises(ValidationError, match="no sha256"):
        RunManifest.from_export("pipe", 4, no_sha)
    for garbage in (b"not json", b'{"version": 99}', b'{"version": 1, "pipeline": "p"}'):
        with pytest.raises(ValidationError):
            RunManifest.from_bytes(garbage)
    doc = json.loads(RunManifest.from_export("pipe", 4, export()).to_bytes())
    doc["pipelineId"] = "0x" + "00" * 32
    with pytest.raises(ValidationError, match="pipelineId"):
        RunManifest.from_bytes(json.dumps(doc).encode())


def test_the_format_is_written_read_back_and_picks_the_tree_layout() -> None:
    current = RunManifest.from_export("pipe", 4, export())
    assert current.version == MANIFEST_VERSION == 2 and json.loads(current.to_bytes())["version"] == 2
    assert current.root == merkle.MerkleTree(list(current.leaves.values())).root
    format1 = RunManifest.from_export("pipe", 4, export(), version=1)
    assert format1.items == current.items and format1.leaves == current.leaves
    assert format1.root == merkle.OddPromotedMerkleTree(list(format1.leaves.values())).root
    assert len(format1.items) == 13 and format1.root != current.root  # 13 leaves: the two layouts differ
    for manifest in (current, format1):
        again = RunManifest.from_bytes(manifest.to_bytes())
        assert (again.version, again.root, again.to_bytes()) == (manifest.version, manifest.root, manifest.to_bytes())
        for key in manifest.by_key:
            leaf, proof = manifest.proof(key)
            assert merkle.verify_proof(manifest.root, leaf, proof)


@pytest.mark.parametrize("version", [0, 3, True, "2", None])
def test_unknown_formats_are_refused(version: object) -> None:
    doc = json.loads(RunManifest.from_export("pipe", 4, export()).to_bytes())
    doc["version"] = version
    with pytest.raises(ValidationError, match="unsupported manifest version"):
        RunManifest.from_bytes(json.dumps(doc).encode())
    with pytest.raises(ValidationError, match="unsupported manifest version"):
        RunManifest.from_export("pipe", 4, export(), version=version)  # type: ignore[arg-type]
