"""``anacostia-chain demo --rpc-url``: the whole demo on a Hardhat Network node and on a Ganache node (Shanghai
EVM: every contract from the Shanghai set, the Story suite included) it did not start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anacostia_blockchain.chain.dev import GanacheNode, HardhatNode

pytestmark = pytest.mark.xdist_group("peer_nodes")


@pytest.mark.slow
def test_the_demo_passes_on_hardhat_through_the_environment_variable(hardhat_node: HardhatNode, tmp_path: Path) -> None:
    snapshot = hardhat_node.snapshot()
    env = {**os.environ, "ANACOSTIA_RPC_URL": hardhat_node.rpc_url}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "anacostia_blockchain.cli.main", "demo", "--workdir", str(tmp_path / "demo"),
             "--batches", "1", "--json"],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
    finally:
        hardhat_node.revert(snapshot)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["problems"] == [] and summary["chain_id"] == 31337
    assert summary["rpc_url"] == hardhat_node.rpc_url  # the node given, not an anvil of its own
    assert summary["purchase"] is not None and summary["purchase"]["stranger_refused"] is True
    assert {run["verdict"] for run in summary["runs"]} == {"verified"}


@pytest.mark.slow
def test_the_demo_passes_on_ganache_with_the_shanghai_build(ganache_node: GanacheNode, tmp_path: Path) -> None:
    snapshot = ganache_node.snapshot()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "anacostia_blockchain.cli.main", "demo", "--rpc-url", ganache_node.rpc_url,
             "--workdir", str(tmp_path / "demo"), "--batches", "1", "--json"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    finally:
        ganache_node.revert(snapshot)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["problems"] == [] and summary["chain_id"] == 1337
    assert summary["purchase"] is not None and summary["purchase"]["stranger_refused"] is True
    assert {run["verdict"] for run in summary["runs"]} == {"verified"}


def test_a_malformed_rpc_url_is_a_usage_error_before_anything_starts(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "anacostia_blockchain.cli.main", "demo", "--rpc-url", "127.0.0.1:8545",
         "--workdir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "not an http(s) JSON-RPC URL" in done.stderr
    assert not (tmp_path / "demo").exists()
