"""Per-datum processing in a real pipeline (watched folders, node threads, SQLite and PostgreSQL): only datums that
are new or whose inputs changed are processed; the others are reused, and each output's lineage is exactly its
datum's inputs."""

from __future__ import annotations

import json
from pathlib import Path

from anacostia_blockchain.artefacts import lineage_graph
from anacostia_blockchain.engine import BaseActionNode, Pipeline
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources import FilesystemStoreNode
from anacostia_blockchain.resources.datums import Datum, Input, join, process_datums


class PerWell(BaseActionNode):
    """Joins images with optional masks per plate/well and writes one result per datum."""

    def __init__(self, name, images, masks, out) -> None:
        super().__init__(name, [images, masks, out])
        self.images, self.masks, self.out = images, masks, out
        self.processed: list[list[str]] = []
        self.reused: list[int] = []

    def execute(self) -> bool:
        done: list[str] = []

        def one(datum: Datum) -> None:
            done.append(datum.name)
            image = self.images.read_bytes(datum.artifact("images"))
            mask = datum.artifact("masks")
            result = {"image": image.decode(), "mask": self.masks.read_bytes(mask).decode() if mask else None}
            groups = datum.group
            self.out.save_artifact(f"{groups['plate']}/{groups['well']}.json", json.dumps(result, sort_keys=True))

        report = process_datums(self, join(Input(self.images), Input(self.masks, optional=True)), one)
        self.processed.append(sorted(done))
        self.reused.append(len(report.reused))
        return report.ok


def drop(folder: Path, name: str, content: str) -> None:
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".tmp-{target.name}"
    tmp.write_text(content)
    tmp.rename(target)


def test_only_new_and_changed_datums_are_processed(tmp_path: Path, store_url: str) -> None:
    store = SqliteMetadataStore("metadata", store_url)
    images = FilesystemStoreNode("images", tmp_path / "images", store, glob="{plate}/{well}.tif", create=True)
    masks = FilesystemStoreNode("masks", tmp_path / "masks", store, glob="{plate}/{well}.mask", create=True)
    out = FilesystemStoreNode("out", tmp_path / "out", store, monitoring=False, glob="{plate}/{well}.json")
    node = PerWell("per_well", images, masks, out)
    for well in ("A01", "A02", "A03"):
        drop(tmp_path / "images", f"P1/{well}.tif", f"image {well}")
    drop(tmp_path / "masks", "P1/A01.mask", "mask A01")
    drop(tmp_path / "images", "P1/readme.txt", "not content: the glob does not match")
    pipeline = Pipeline([store, images, masks, out, node], failure_backoff=0.01, trigger="any")
    with pipeline:
        assert pipeline.wait_for_runs(1, timeout=60)
        assert node.processed == [["images=P1/A01.tif;masks=P1/A01.mask", "images=P1/A02.tif", "images=P1/A03.tif"]]

        drop(tmp_path / "images", "P1/A04.tif", "image A04")  # a new datum
        assert pipeline.wait_for_runs(2, timeout=60)
        assert node.processed[1] == ["images=P1/A04.tif"] and node.reused[1] == 3

        drop(tmp_path / "masks", "P1/A01.mask", "mask A01, redrawn")  # an input of one datum changed
        assert pipeline.wait_for_runs(3, timeout=60)
        assert node.processed[2] == ["images=P1/A01.tif;masks=P1/A01.mask"] and node.reused[2] == 3

        drop(tmp_path / "masks", "P1/A02.mask", "mask A02")  # an optional input appeared: a different datum
        assert pipeline.wait_for_runs(4, timeout=60)
        assert node.processed[3] == ["images=P1/A02.tif;masks=P1/A02.mask"]

    runs = store.runs
    assert [r["status"] for r in runs.get_runs()] == ["success"] * 4
    assert "P1/readme.txt" not in {a.location for a in runs.list_artifacts("images")}
    result = next(a for a in runs.list_artifacts("out") if a.location == "P1/A01.json" and a.produced_run_id == 3)
    assert json.loads((tmp_path / "out" / "P1/A01.json").read_text()) == {"image": "image A01",
                                                                         "mask": "mask A01, redrawn"}
    lineage = runs.lineage(result)
    assert sorted((a.resource, a.location) for a in lineage["inputs"]) == [("images", "P1/A01.tif"),
                                                                           ("masks", "P1/A01.mask")]
    assert lineage["execution"]["unit"] == "images=P1/A01.tif;masks=P1/A01.mask"
    reused = next(a for a in runs.list_artifacts("out") if a.location == "P1/A03.json" and a.produced_run_id == 3)
    assert runs.lineage(reused)["execution"]["reused_from_run"] == 1
    graph = lineage_graph(runs, reused.id)  # the library form of `anacostia-chain lineage`
    step = graph.steps[reused.id]
    assert (step["run"], step["node"], step["reused_from_run"], step["unit"]) == (3, "per_well", 1,
                                                                                  "images=P1/A03.tif")
    assert sorted(graph.runs) == [1, 3] and [graph.artifacts[i].location for i in graph.inputs_of(reused.id)] == [
        "P1/A03.tif"]
