"""``anacostia-chain verify``: verdicts and exit codes against a real anvil and a real SQLite database."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from anacostia_blockchain.cli.main import main
from anacostia_blockchain.metadata import BlockchainMetadataStore

from .conftest import RegistryEnv
from .store_helpers import PIPELINE, make_store, produce_run


@pytest.fixture
def anchored(registry_env: RegistryEnv, tmp_path: Path) -> Iterator[tuple[BlockchainMetadataStore, list[str]]]:
    db = tmp_path / "metadata.db"
    store = make_store(
        db, registry_env.devnet.accounts[0].private_key, registry_env.registry.address, client=registry_env.client
    )
    produce_run(store, 12)  # run 1: anchored
    assert store.flush_anchors()
    produce_run(store, 3)  # run 2: pending
    args = [
        "--db",
        f"sqlite:///{db}",
        "--pipeline",
        PIPELINE,
        "--rpc-url",
        registry_env.devnet.rpc_url,
        "--registry",
        registry_env.registry.address,
    ]
    try:
        yield store, args
    finally:
        store.on_stop()
        store.close_store()


def test_verified_run_and_item_exit_0(
    anchored: tuple[BlockchainMetadataStore, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, args = anchored
    assert main(["verify", "1", *args]) == 0
    out = capsys.readouterr().out
    assert out.startswith("VERIFIED") and "run 1 of 'anchoring-test-pipeline': 13 items" in out
    assert main(["verify", "1", "--item", "metric:acc@4", *args]) == 0
    out = capsys.readouterr().out
    assert "PROVEN" in out and "metric:acc@4 = acc=0.5004 @ step 4" in out and "verifyMetric ok" in out


def test_json_output(anchored: tuple[BlockchainMetadataStore, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    _, args = anchored
    assert main(["verify", "1", "--item", "param:lr", "--json", *args]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "verified" and doc["items"] == 13 and doc["anchor"]["block"] > 0
    assert doc["item"]["verdict"] == "proven" and doc["item"]["checks"]["verifyProof"] is True
    assert doc["item"]["checks"]["verifyMetric"] is None and doc["item"]["fields"]["value"] == "0.001"


def test_tampered_run_exit_3_names_the_item(
    anchored: tuple[BlockchainMetadataStore, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    store, args = anchored
    with store.runs.engine.begin() as conn:
        conn.execute(text("UPDATE metrics SET value = 0.1 WHERE run_id = 1 AND step = 2"))
    assert main(["verify", "1", "--json", *args]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "tampered" and doc["changedItems"] == ["metric:acc@2"]
    assert main(["verify", "1", *args]) == 3
    assert capsys.readouterr().out.startswith("TAMPERED")


def test_pending_run_exit_4_and_unknown_item_exit_1(
    anchored: tuple[BlockchainMetadataStore, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, args = anchored
    assert main(["verify", "2", *args]) == 4
    assert "NOT ANCHORED" in capsys.readouterr().out
    assert main(["verify", "1", "--item", "metric:nope", *args]) == 1
    assert "no item 'metric:nope'" in capsys.readouterr().err
    assert main(["verify", "99", *args]) == 1
    assert "no run 99" in capsys.readouterr().err


def test_a_confirmed_anchor_the_chain_does_not_hold_says_the_chain_was_reset(
    anchored: tuple[BlockchainMetadataStore, list[str]], registry_env: RegistryEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    _, args = anchored
    signer = registry_env.admin.signer.address
    empty = registry_env.admin.deploy("RunRegistry", signer, signer)  # what a restarted devnet's deploy gives
    args = [*args[: args.index("--registry")], "--registry", empty.address]
    assert main(["verify", "1", *args]) == 4
    (line,) = capsys.readouterr().out.splitlines()
    assert "run 1 of 'anchoring-test-pipeline' is not on this chain, though this database recorded its anchor as " \
        "confirmed in block " in line
    assert "not anchored yet" not in line and "the chain was reset" in line and "--offline" in line
    assert main(["verify", "1", "--offline", *args]) == 0


def test_missing_configuration_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("ANACOSTIA_DB", "ANACOSTIA_PIPELINE", "ANACOSTIA_RPC_URL"):
        monkeypatch.delenv(var, raising=False)
    assert main(["verify", "1"]) == 1
    assert "verify needs --db, --pipeline, --rpc-url" in capsys.readouterr().err


def test_the_installed_console_script_runs_it(anchored: tuple[BlockchainMetadataStore, list[str]]) -> None:
    _, args = anchored
    done = subprocess.run(
        [sys.executable, "-m", "anacostia_blockchain.cli.main", "verify", "1", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("VERIFIED")
