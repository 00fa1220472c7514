"""The lineage graph of a run: ``GET /pipelines/{name}/runs/{id}/lineage`` read from a real training pipeline's store
(data preparation, training with its dataset batch and checkpoint, evaluation), and the run page drawing it in
headless Chromium on a desktop and on a 390-px phone; the run page also names the values a run copied from a reused
execution. The model page's graph on the demo's anchored world is in
``test_demo_dashboard.py``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cdp import Browser
from dashboard_helpers import as_phone, dashboard_app, no_horizontal_scroll, screenshot
from fastapi.testclient import TestClient
from lineage_world import TrainingWorld

from anacostia_blockchain.service import BackgroundServer

# one xdist worker builds the module's world and runs every test on it
pytestmark = pytest.mark.xdist_group("lineage_world")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrainingWorld]:
    """Run 1 prepares and trains on batches 1 and 2; run 2 on batch 3 (and trains on all three); run 3 gets batch 3
    again under another name: its preparation is reused from run 2."""
    built = TrainingWorld(tmp_path_factory.mktemp("lineage"), batches=3)
    built.launch_with(0, 1)
    built.land(2)
    built.land(2, name="batch-3-again.csv")
    yield built
    built.pipeline.terminate()


def by_kind(view: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [n for n in view["nodes"] if n["kind"] == kind]


def targets(view: dict[str, Any], source: str, kind: str | None = None) -> list[str]:
    return [e["target"] for e in view["edges"] if e["source"] == source and (kind is None or e["type"] == kind)]


def label(view: dict[str, Any], node_id: str) -> str:
    return next(n["label"] for n in view["nodes"] if n["id"] == node_id)


def test_a_run_graph_leads_from_its_checkpoint_to_the_input_files(world: TrainingWorld, tmp_path: Path) -> None:
    with TestClient(dashboard_app(tmp_path, world.pipeline)) as http:
        view = http.get("/pipelines/digits/runs/2/lineage").json()
        missing_run = http.get("/pipelines/digits/runs/99/lineage")
        missing_pipeline = http.get("/pipelines/other/runs/1/lineage")
        bad_id = http.get("/pipelines/digits/runs/0/lineage")
        spec = http.get("/openapi.json").json()
    assert view["source"] == "pipeline" and view["target"] == "run:2" and view["truncated"] == 0
    nodes = {n["id"]: n for n in view["nodes"]}
    [checkpoint] = by_kind(view, "checkpoint")
    assert checkpoint["label"] == "train.model" and checkpoint["href"] == f"ipfs://{checkpoint['cid']}"
    # checkpoint -> the training run -> the batch it trained on -> every prepared file, by CID
    assert targets(view, checkpoint["id"], "produced_by") == ["run:2:train"]
    train = nodes["run:2:train"]
    assert train["href"] == "/dashboard/pipelines/digits/runs/2" and train["current"] and train["run"] == 2
    [batch_id] = targets(view, "run:2:train", "trained_on")
    assert nodes[batch_id]["kind"] == "batch" and nodes[batch_id]["label"] == "digits-training"
    items = targets(view, batch_id, "contains")
    assert sorted(label(view, i) for i in items) == ["batch-1.jsonl.enc", "batch-2.jsonl.enc", "batch-3.jsonl.enc"]
    assert all(nodes[i]["cid"] and nodes[i]["href"] == f"ipfs://{nodes[i]['cid']}" for i in items)
    # each prepared file -> the run that prepared it -> exactly the CSV it was made from
    made = {label(view, i): targets(view, i, "produced_by") for i in items}
    assert made == {"batch-1.jsonl.enc": ["run:1:prepare"], "batch-2.jsonl.enc": ["run:1:prepare"],
                    "batch-3.jsonl.enc": ["run:2:prepare"]}
    assert sorted(label(view, i) for i in targets(view, "run:1:prepare", "read")) == ["batch-1.csv", "batch-2.csv"]
    assert [label(view, i) for i in targets(view, "run:2:prepare", "read")] == ["batch-3.csv"]
    # the training batch derives from run 1's; the checkpoint was evaluated on the held-out batch
    assert [label(view, i) for i in targets(view, batch_id, "derived_from")] == ["digits-training"]
    assert [label(view, i) for i in targets(view, checkpoint["id"], "evaluated_on")] == ["evaluate.held-out"]
    # a SQLite store does not anchor: nothing is marked either way
    assert {n["anchored"] for n in view["nodes"]} == {None}
    assert all(e["source"] in nodes and e["target"] in nodes for e in view["edges"])

    assert missing_run.status_code == 404 and missing_run.json()["error"]["type"] == "RunNotFoundError"
    assert missing_pipeline.status_code == 404 and "'digits'" in missing_pipeline.json()["error"]["message"]
    assert bad_id.status_code == 422
    for path in ("/pipelines/{name}/runs/{run_id}/lineage", "/models/{token_id}/lineage"):
        operation = spec["paths"][path]["get"]
        assert {"200", "404", "422"} <= set(operation["responses"]), path
        assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("LineageBody")


def test_the_run_page_data_names_the_values_copied_from_a_reused_execution(
    world: TrainingWorld, tmp_path: Path
) -> None:
    with TestClient(dashboard_app(tmp_path, world.pipeline)) as http:
        reusing = http.get("/dashboard/api/pipelines/digits/runs/3").json()
        executed = http.get("/dashboard/api/pipelines/digits/runs/2").json()
    assert {n["node_name"]: n["status"] for n in reusing["nodes"]}["prepare"] == "reused"
    reused = reusing["reused_logged"]["prepare"]
    assert reused["from_runs"] == [2] and reused["metrics"]["values"] == 5
    assert reused["metrics"]["keys"] == ["duplicates_dropped", "files_ok", "files_quarantined", "records_in",
                                         "records_out"]
    assert reusing["metrics"]["records_out"]["last"] == executed["metrics"]["records_out"]["last"] > 0
    assert executed["reused_logged"] == {}


def test_a_model_the_index_does_not_hold_is_404(world: TrainingWorld, tmp_path: Path) -> None:
    with TestClient(dashboard_app(tmp_path, world.pipeline)) as http:
        missing = http.get("/models/7/lineage")
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "NotFoundError"


def svg_nodes(browser: Browser) -> list[dict[str, Any]]:
    return list(browser.evaluate(
        "[...document.querySelectorAll('#lineage-graph svg .lineage-node')].map(n => { const r = "
        "n.getBoundingClientRect(); return {id: n.dataset.nodeId, kind: n.dataset.kind, href: n.getAttribute('href'),"
        " left: r.left, right: r.right, anchored: n.dataset.anchored}; })"))


@pytest.mark.slow
def test_the_run_page_draws_the_graph_on_desktop_and_phone(world: TrainingWorld, tmp_path: Path,
                                                           browser: Browser) -> None:
    with BackgroundServer(dashboard_app(tmp_path, world.pipeline)) as server:
        base = f"http://127.0.0.1:{server.port}"
        browser.navigate(f"{base}/dashboard/pipelines/digits/runs/2")
        browser.wait_for(lambda: browser.evaluate("document.body.dataset.loaded") == "true")
        expected = browser.evaluate("fetch('/pipelines/digits/runs/2/lineage').then(r => r.json())")
        drawn = svg_nodes(browser)
        assert sorted(n["id"] for n in drawn) == sorted(n["id"] for n in expected["nodes"])
        links = {n["id"]: n["href"] for n in drawn}
        assert links["run:1:prepare"] == "/dashboard/pipelines/digits/runs/1"
        assert all(links[n["id"]] == n["href"] for n in expected["nodes"])
        edges = browser.evaluate("document.querySelectorAll('#lineage-graph svg .lineage-edge').length")
        assert edges == len(expected["edges"])
        assert browser.evaluate("document.getElementById('lineage-graph').dataset.nodes") == str(len(drawn))
        assert browser.evaluate("document.getElementById('reused-values')") is None  # run 2 reused nothing
        assert browser.console_errors == []
        screenshot(browser, tmp_path / "run-lineage-desktop.png")
        browser.navigate(f"{base}/dashboard/pipelines/digits/runs/3")
        browser.wait_for(lambda: browser.evaluate("document.body.dataset.loaded") == "true")
        reused = browser.evaluate("document.querySelector('#reused-values li[data-node=prepare]').textContent")
        assert "reused 5 metric values (duplicates_dropped, files_ok" in reused and reused.endswith("from run #2")
        assert browser.evaluate("document.querySelector('#reused-values a').pathname") == \
            "/dashboard/pipelines/digits/runs/2"

        as_phone(browser)
        browser.navigate(f"{base}/dashboard/pipelines/digits/runs/2")
        browser.wait_for(lambda: browser.evaluate("document.body.dataset.loaded") == "true")
        assert browser.evaluate("window.innerWidth") == 390 and no_horizontal_scroll(browser)
        drawn = svg_nodes(browser)
        assert len(drawn) == len(expected["nodes"])
        assert all(n["left"] >= 0 and n["right"] <= 390 for n in drawn)  # every node on screen, none cut off
        browser.evaluate("document.getElementById('lineage-graph-section').scrollIntoView()")
        screenshot(browser, tmp_path / "run-lineage-phone.png")
        # a click on a run node opens that run's page
        browser.evaluate("document.querySelector('#lineage-graph [data-node-id=\"run:1:prepare\"]')"
                         ".dispatchEvent(new MouseEvent('click', {bubbles: true}))")
        browser.wait_for(lambda: browser.evaluate("location.pathname") == "/dashboard/pipelines/digits/runs/1")
        browser.wait_for(lambda: browser.evaluate("document.body.dataset.loaded") == "true")
        assert browser.console_errors == []
