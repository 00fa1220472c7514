"""``anacostia-chain demo`` as a user runs it: a real subprocess, a real anvil, real pipelines, a real purchase."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "anacostia_blockchain.cli.main"]


def run_demo(workdir: Path, *extra: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "demo", "--workdir", str(workdir), "--json", *extra],
        capture_output=True, text=True, timeout=timeout, check=False,
    )


@pytest.fixture(scope="module")
def demo_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    workdir = tmp_path_factory.mktemp("demo")
    return run_demo(workdir), workdir


def test_the_demo_exits_0_and_reports_every_step(demo_result):
    result, _workdir = demo_result
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["problems"] == []
    training = [r for r in summary["runs"] if r["pipeline"] == "digits-training"]
    publishing = [r for r in summary["runs"] if r["pipeline"] == "digits-publishing"]
    # three good batches and one malformed one: four training runs, each published (or found unpublishable)
    assert [r["status"] for r in training] == ["success"] * 4
    assert len(publishing) == 4
    assert all(r["verdict"] == "verified" and r["anchor_tx"] for r in summary["runs"])
    quarantined = [r for r in training if r["quarantined"]]
    assert len(quarantined) == 1 and "batch-smudged.csv" in quarantined[0]["quarantined"]
    assert "accuracy" not in quarantined[0]["metrics"]  # nothing was trained on the bad file's run
    # one model per run that trained, each registered with Story, listed at a price derived from its accuracy
    models = summary["models"]
    trained = [r for r in training if "accuracy" in r["metrics"]]
    assert [m["source_run"] for m in models] == [r["run_id"] for r in trained]
    assert all(m["ip_id"] and m["license_terms_id"] and m["price_wei"] > 0 for m in models)
    prices = [Decimal(m["price_usd"]) for m in models]
    accuracies = [r["metrics"]["accuracy"] for r in trained]
    assert sorted(prices) == [p for _, p in sorted(zip(accuracies, prices, strict=True))]  # better model, higher price
    assert [m["stage"] for m in models].count("production") == 1
    # the purchase: paid on chain, key released only to the license holder, the model decrypts to its anchored score
    purchase = summary["purchase"]
    assert purchase["stranger_refused"] is True
    assert purchase["purchase"]["cid_verified"] is True and int(purchase["purchase"]["paid_wei"]) > 0
    assert Decimal(purchase["decrypted_accuracy"]) == Decimal(purchase["anchored_accuracy"])
    assert Decimal(purchase["anchored_accuracy"]) == Decimal(str(max(accuracies)))


def test_the_demo_shows_progress_and_leaves_its_artifacts(demo_result):
    result, workdir = demo_result
    assert "dropping batch-01.csv" in result.stderr and "quarantined" in result.stderr
    assert (workdir / "bought-model.json").is_file()
    assert json.loads((workdir / "deployments" / "31337.json").read_text())["contracts"]["RunRegistry"]["address"]
    assert sorted(p.name for p in (workdir / "quarantine").rglob("*.csv")) == ["batch-smudged.csv"]


def test_demo_serve_keeps_the_api_up_until_sigterm(tmp_path):
    process = subprocess.Popen(
        [*CLI, "demo", "--workdir", str(tmp_path / "served"), "--batches", "1", "--serve"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        api = None
        deadline = time.monotonic() + 180
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip().startswith("API"):
                api = line.split()[1]
                break
            assert time.monotonic() < deadline, "the demo never printed its URLs"
        assert api is not None and api.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(api, timeout=10) as response:
            page = json.loads(response.read())
        assert page["total"] == 1 and page["items"][0]["listed"] is True
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
