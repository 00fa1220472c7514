"""The dashboard on the demo's real world: both demo pipelines served and named, the model page (price in USD and
ETH, metrics, lineage to its training run, the lineage graph down to the input files with its anchored parts marked,
versions and stage, sales), the run page of the run that quarantined a file (anchor, verification kept across a
reload), each in headless Chromium on a desktop and on a 390-px phone."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cdp import Browser
from dashboard_helpers import as_phone, no_horizontal_scroll, screenshot

from anacostia_blockchain.demo.scenario import DemoOptions, DemoScenario
from anacostia_blockchain.demo.summary import DemoSummary
from anacostia_blockchain.service import BackgroundServer, ServiceConfig, create_app, free_port

# one xdist worker builds the module's world and runs every test on it
pytestmark = pytest.mark.xdist_group("demo_dashboard")


@dataclass
class ServedDemo:
    url: str
    summary: DemoSummary
    config: ServiceConfig


def short(hex_text: str) -> str:
    """How the pages shorten a hash or an address."""
    return f"{hex_text[:8]}\u2026{hex_text[-4:]}"


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def wait_indexed(url: str, summary: DemoSummary, timeout: float = 90) -> None:
    """Until every model is indexed with verified metadata and the purchase is counted."""
    deadline = time.monotonic() + timeout
    bought = summary.purchase.purchase.token_id if summary.purchase else None
    while True:
        items = get_json(f"{url}/models?page_size=100")["items"]
        ready = len(items) == len(summary.models) and all(m["metadata_status"] == "verified" for m in items)
        if ready and (bought is None or any(m["token_id"] == bought and m["sales"] == 1 for m in items)):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the dashboard's index did not catch up: {items}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedDemo]:
    workdir = tmp_path_factory.mktemp("demo")
    scenario = DemoScenario(DemoOptions(workdir=workdir / "world", batches=2), progress=lambda _message: None)
    try:
        summary = scenario.run()
        assert scenario.market is not None and scenario.training is not None and scenario.publishing is not None
        port = free_port()
        config = replace(scenario.market.config, database_url=f"sqlite:///{workdir / 'dashboard-index.db'}",
                         port=port, siwe_domain=f"127.0.0.1:{port}")
        app = create_app(config, pipeline=[scenario.training.pipeline, scenario.publishing.pipeline])
        with BackgroundServer(app, port=port) as server:
            wait_indexed(server.url, summary)
            yield ServedDemo(server.url, summary, config)
    finally:
        scenario.close()


def loaded(browser: Browser) -> None:
    browser.wait_for(lambda: browser.evaluate("document.body.dataset.loaded") == "true", timeout=60)


@pytest.mark.slow
def test_both_demo_pipelines_are_served_named_and_linked_from_their_anchors(
    browser: Browser, demo: ServedDemo, tmp_path: Path
) -> None:
    browser.navigate(f"{demo.url}/dashboard")
    browser.wait_for(lambda: browser.evaluate("document.querySelectorAll('section.pipeline').length") == 2)
    names = browser.evaluate("[...document.querySelectorAll('section.pipeline h2')].map(h => h.textContent)")
    assert names == ["digits-training", "digits-publishing"]
    anchored = len(demo.summary.runs)
    browser.wait_for(lambda: browser.evaluate("document.querySelectorAll('#anchors "
                                              "tr[data-anchor]').length") == anchored)
    served = browser.evaluate("[...document.querySelectorAll('#anchors tr[data-anchor] "
                              "td:first-child')].map(c => c.textContent)")
    assert sorted(set(served)) == ["digits-publishing", "digits-training"]  # named, not a hashed pipeline id
    links = browser.evaluate("[...document.querySelectorAll('#anchors tr[data-anchor] td:nth-child(2) "
                             "a')].map(a => a.pathname)")
    assert "/dashboard/pipelines/digits-training/runs/1" in links and len(links) == anchored
    browser.wait_for(lambda: browser.evaluate(
        "document.querySelectorAll('section[data-pipeline=\"digits-training\"] figure[data-metric=accuracy] .uplot')"
        ".length") == 1)
    browser.pump(0.3)
    assert browser.console_errors == []
    screenshot(browser, tmp_path / "demo-overview.png")
    as_phone(browser)
    browser.navigate(f"{demo.url}/dashboard")
    browser.wait_for(lambda: browser.evaluate("document.querySelectorAll('#anchors "
                                              "tr[data-anchor]').length") == anchored)
    assert no_horizontal_scroll(browser)
    screenshot(browser, tmp_path / "demo-overview-phone.png")


@pytest.mark.slow
def test_model_page_shows_price_metrics_lineage_versions_and_sales(
    browser: Browser, demo: ServedDemo, tmp_path: Path
) -> None:
    assert demo.summary.purchase is not None
    bought = demo.summary.purchase.purchase
    line = next(m for m in demo.summary.models if m.token_id == bought.token_id)
    quote = get_json(f"{demo.url}/models/{bought.token_id}/quote")
    browser.navigate(f"{demo.url}/dashboard/models/{bought.token_id}")
    loaded(browser)
    tile = "(f => document.querySelector(`[data-field=${f}] .value`).textContent)"
    assert browser.evaluate(f"{tile}('price-usd')") == f"${Decimal(line.price_usd or 0):.2f}"
    eth = browser.evaluate(f"{tile}('price-eth')")
    shown = Decimal(eth.removesuffix(" ETH"))
    assert eth.endswith(" ETH") and shown == Decimal(quote["eth"]).quantize(shown)
    assert browser.evaluate(f"{tile}('sales')") == "1"
    sale = browser.evaluate("[...document.querySelectorAll('#sales-table tr[data-sale] td')].map(c => c.textContent)")
    assert sale[0] == short(bought.buyer) and sale[5] == short(bought.purchase_tx or "")
    assert Decimal(sale[1]) == (Decimal(bought.paid_wei or 0) / 10**18).quantize(Decimal(sale[1]))
    accuracy = browser.evaluate("document.querySelector('[data-metric=accuracy] .value').textContent")
    trained = next(r for r in demo.summary.runs if r.pipeline == "digits-training" and r.run_id == line.source_run)
    assert float(accuracy) == pytest.approx(trained.metrics["accuracy"], abs=1e-4)
    run_link = browser.evaluate("document.getElementById('training-run').pathname")
    assert run_link == f"/dashboard/pipelines/digits-training/runs/{line.source_run}"
    assert browser.evaluate("document.querySelector('[data-fact=\"Live check\"] "
                            "[data-live]').dataset.live") == "verified"
    by_version = browser.evaluate("(() => {"
                                  " const f = document.querySelector('#version-charts figure[data-metric=accuracy]');"
                                  " return dashCharts.get(f.querySelector('.chart').id).chart.data; })()")
    assert by_version[0] == [1, 2] and len(by_version[1]) == 2  # accuracy across the family's versions
    versions = browser.evaluate("[...document.querySelectorAll('#version-table tr[data-version]')].map(r => "
                                "r.dataset.version)")
    assert len(versions) == len(demo.summary.models) >= 2
    stages = [m.stage for m in demo.summary.models if m.token_id == bought.token_id]
    assert browser.evaluate(f"{tile}('stage')") == (stages[0] or "none")
    browser.pump(0.3)
    assert browser.console_errors == []
    screenshot(browser, tmp_path / "demo-model.png")
    as_phone(browser)
    browser.navigate(f"{demo.url}/dashboard/models/{bought.token_id}")
    loaded(browser)
    assert no_horizontal_scroll(browser)
    screenshot(browser, tmp_path / "demo-model-phone.png")


@pytest.mark.slow
def test_run_page_shows_quarantine_and_keeps_its_verification_after_a_reload(
    browser: Browser, demo: ServedDemo, tmp_path: Path
) -> None:
    smudged = next(r for r in demo.summary.runs if r.pipeline == "digits-training" and r.quarantined)
    url = f"{demo.url}/dashboard/pipelines/digits-training/runs/{smudged.run_id}"
    browser.navigate(url)
    loaded(browser)
    reason = browser.evaluate("document.querySelector('#quarantine "
                              "li[data-location=\"batch-smudged.csv\"]').textContent")
    assert "row 4: field 'p10'" in reason and "validate_clean_encrypt" in reason
    fact = "(k => document.querySelector(`[data-fact=\"${k}\"]`).textContent)"
    assert browser.evaluate(f"{fact}('Manifest CID')") == smudged.manifest_cid
    assert browser.evaluate(f"{fact}('Transaction')") == short(smudged.anchor_tx or "")
    assert browser.evaluate("document.querySelector('[data-fact=Anchor] .status').textContent") == "confirmed"
    assert browser.evaluate("document.querySelector('#verdict [data-verdict]').dataset.verdict") == "none"
    browser.evaluate("document.getElementById('verify').click()")
    verdict = "document.querySelector('#verdict [data-verdict]').dataset.verdict"
    browser.wait_for(lambda: browser.evaluate(verdict) == "verified", timeout=60)
    browser.navigate(url)  # a refresh: the verdict is still there, with when and how it was checked
    loaded(browser)
    kept = browser.evaluate("document.querySelector('#verdict [data-verdict]').textContent")
    assert kept.startswith("verified") and "(store)" in kept
    assert browser.evaluate("document.querySelectorAll('#nodes tr[data-node]').length") >= 3
    browser.pump(0.3)
    assert browser.console_errors == []
    screenshot(browser, tmp_path / "demo-run.png")
    as_phone(browser)
    browser.navigate(url)
    loaded(browser)
    assert no_horizontal_scroll(browser)
    screenshot(browser, tmp_path / "demo-run-phone.png")


def targets(view: dict[str, Any], source: str, kind: str) -> list[str]:
    return [e["target"] for e in view["edges"] if e["source"] == source and e["type"] == kind]


def assert_model_to_items(view: dict[str, Any], token_id: int, properties: dict[str, Any]) -> tuple[str, list[str]]:
    """model -> checkpoint -> training run -> training batch -> its items, each as the token's metadata names them
    and anchored; returns the run node and the item nodes."""
    nodes = {n["id"]: n for n in view["nodes"]}
    top = nodes[f"model:{token_id}"]
    assert top["anchored"] is True and top["href"] == f"/dashboard/models/{token_id}"
    [checkpoint] = targets(view, top["id"], "checkpoint")
    assert nodes[checkpoint]["kind"] == "checkpoint" and nodes[checkpoint]["anchored"] is True
    assert nodes[checkpoint]["cid"] == properties["checkpoint"]["cid"]
    assert nodes[checkpoint]["href"] == f"ipfs://{properties['checkpoint']['cid']}"
    [run] = targets(view, checkpoint, "produced_by")
    assert nodes[run]["kind"] == "run" and nodes[run]["anchored"] is True
    [batch] = targets(view, run, "trained_on")
    assert nodes[batch]["cid"] == properties["training_batch"]["cid"] and nodes[batch]["anchored"] is True
    items = targets(view, batch, "contains")
    assert sorted(nodes[i]["cid"] for i in items) == sorted(properties["dataset_cids"])
    assert all(nodes[i]["anchored"] is True for i in items)
    return run, items


@pytest.mark.slow
def test_model_lineage_graph_reaches_the_input_files_with_the_anchored_parts_marked(
    browser: Browser, demo: ServedDemo, tmp_path: Path
) -> None:
    line = demo.summary.models[-1]
    properties = get_json(f"{demo.url}/models/{line.token_id}")["metadata"]["document"]["properties"]
    view = get_json(f"{demo.url}/models/{line.token_id}/lineage")
    assert view["source"] == "pipeline" and view["truncated"] == 0
    nodes = {n["id"]: n for n in view["nodes"]}
    run, items = assert_model_to_items(view, line.token_id, properties)
    assert nodes[run]["run"] == line.source_run and nodes[run]["label"] == f"run #{line.source_run} · train"
    assert nodes[run]["href"] == f"/dashboard/pipelines/digits-training/runs/{line.source_run}"
    assert "anchored in block" in nodes[run]["detail"]
    for item in items:  # each prepared batch -> the run that prepared it -> exactly the CSV it was made from
        [prep] = targets(view, item, "produced_by")
        assert nodes[prep]["label"].endswith("· validate_clean_encrypt") and nodes[prep]["anchored"] is True
        sources = [nodes[i] for i in targets(view, prep, "read")]
        assert sources and all(s["kind"] == "file" and s["label"].endswith(".csv") and s["anchored"] is True
                               for s in sources)
        assert "batch-smudged.csv" not in [s["label"] for s in sources]  # quarantined: nothing was made from it

    browser.navigate(f"{demo.url}/dashboard/models/{line.token_id}")
    loaded(browser)
    drawn = browser.evaluate("[...document.querySelectorAll('#lineage-graph .lineage-node')].map(n => "
                             "[n.dataset.nodeId, n.dataset.anchored, n.getAttribute('href')])")
    assert sorted(d[0] for d in drawn) == sorted(nodes)
    assert {d[0]: d[1] for d in drawn} == {i: str(n["anchored"]).lower() if n["anchored"] is not None else "none"
                                           for i, n in nodes.items()}
    assert {d[0]: d[2] for d in drawn} == {i: n["href"] for i, n in nodes.items()}
    marks = browser.evaluate("document.querySelectorAll('#lineage-graph .lineage-node .mark-true').length")
    assert marks == sum(n["anchored"] is True for n in view["nodes"])
    assert browser.console_errors == []
    screenshot(browser, tmp_path / "demo-model-lineage.png")
    as_phone(browser)
    browser.navigate(f"{demo.url}/dashboard/models/{line.token_id}")
    loaded(browser)
    assert no_horizontal_scroll(browser)
    edges = browser.evaluate("[...document.querySelectorAll('#lineage-graph .lineage-node')].map(n => "
                             "[n.getBoundingClientRect().left, n.getBoundingClientRect().right])")
    assert len(edges) == len(nodes) and all(left >= 0 and right <= 390 for left, right in edges)
    browser.evaluate("document.getElementById('lineage-section').scrollIntoView()")
    screenshot(browser, tmp_path / "demo-model-lineage-phone.png")


@pytest.mark.slow
def test_a_marketplace_without_the_pipeline_draws_the_model_from_its_verified_metadata(
    demo: ServedDemo, tmp_path: Path
) -> None:
    port = free_port()
    config = replace(demo.config, database_url=f"sqlite:///{tmp_path / 'market-only.db'}", port=port,
                     siwe_domain=f"127.0.0.1:{port}")
    line = demo.summary.models[0]
    with BackgroundServer(create_app(config), port=port) as server:
        wait_indexed(server.url, demo.summary)
        properties = get_json(f"{server.url}/models/{line.token_id}")["metadata"]["document"]["properties"]
        view = get_json(f"{server.url}/models/{line.token_id}/lineage")
    assert view["source"] == "metadata"
    run, _ = assert_model_to_items(view, line.token_id, properties)
    node = next(n for n in view["nodes"] if n["id"] == run)
    key = f"{properties['pipeline_id'].lower()}-{line.source_run}"
    assert node["href"] == f"/runs/{key}" and node["run"] == line.source_run
    assert any("not served here" in note for note in view["notes"])
