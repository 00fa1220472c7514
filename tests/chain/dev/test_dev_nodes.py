"""Development nodes: Hardhat/Ganache launchers, ExternalNode, NodeControl on a node of unknown kind, the plugin."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from anacostia_blockchain.chain import ChainClient, LocalSigner
from anacostia_blockchain.chain.dev import (
    Devnet,
    ExternalNode,
    GanacheNode,
    HardhatNode,
    NodeControl,
    dev_accounts,
    free_port,
    js_nodes,
)
from anacostia_blockchain.chain.rpc import NodeKind
from anacostia_blockchain.errors import ChainError, DevNodeStartError

pytestmark = pytest.mark.xdist_group("peer_nodes")


def test_every_dev_node_funds_the_same_mnemonic_accounts(
    anvil_node: Devnet, hardhat_node: HardhatNode, ganache_node: GanacheNode
) -> None:
    assert anvil_node.accounts == dev_accounts(10) == hardhat_node.accounts == ganache_node.accounts
    for node in (hardhat_node, ganache_node):
        client = ChainClient(node.rpc_url, expected_chain_id=node.chain_id)
        assert client.balance(node.accounts[9].address) == 10_000 * 10**18
        assert node.accounts[0].private_key[2:] not in repr(node.accounts) + repr(node)
    assert (hardhat_node.chain_id, ganache_node.chain_id) == (31337, 1337)


def test_an_external_node_is_recognised_and_left_running(hardhat_node: HardhatNode) -> None:
    with ExternalNode(hardhat_node.rpc_url) as external:
        assert external.kind is NodeKind.HARDHAT and external.chain_id == 31337
        assert external.accounts == hardhat_node.accounts
        snapshot = external.snapshot()
        external.mine(3)
        assert external.revert(snapshot) is True
    assert hardhat_node.running and ChainClient(hardhat_node.rpc_url).chain_id == 31337


def test_an_external_node_that_does_not_answer_is_a_typed_error() -> None:
    with pytest.raises(DevNodeStartError, match="no node answers"):
        ExternalNode(f"http://127.0.0.1:{free_port()}").start()


def test_a_busy_port_and_a_missing_install_are_typed_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(DevNodeStartError, match=f"port {port} .* is busy"):
            GanacheNode(port=port).start()
    monkeypatch.setattr(js_nodes, "NODE_BIN", tmp_path)
    with pytest.raises(DevNodeStartError, match="hardhat is not installed: run `npm ci`"):
        HardhatNode().start()


def test_node_control_of_an_unknown_kind_tries_each_method(hardhat_node: HardhatNode) -> None:
    client = ChainClient(hardhat_node.rpc_url)
    unknown = NodeControl(client.rpc, NodeKind.OTHER)
    target = LocalSigner.from_key(os.urandom(32)).address
    assert unknown.set_code(target, b"\x60\x00") == "hardhat_setCode"  # after anvil_setCode was refused
    assert client.get_code(target) == b"\x60\x00"
    refusing = NodeControl(lambda method, params: client.rpc(f"no_{method}", params), NodeKind.OTHER)
    with pytest.raises(ChainError, match=r"set code: this node \(other\) does not offer anvil_setCode / hardhat_"):
        refusing.set_code(target, b"")


def test_the_plugin_points_the_fixtures_at_an_external_node_and_keeps_only_chain_tests(
    hardhat_node: HardhatNode, tmp_path: Path
) -> None:
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n"
        "def test_uses_the_chain(fresh_chain):\n"
        "    assert fresh_chain.kind.value == 'hardhat'\n"
        "@pytest.mark.anvil_only\n"
        "def test_needs_anvil(fresh_chain):\n"
        "    raise AssertionError('must be skipped on Hardhat')\n"
        "def test_without_a_chain():\n"
        "    raise AssertionError('must be deselected')\n"
    )
    env = {**os.environ, "ANACOSTIA_TEST_RPC_URL": hardhat_node.rpc_url}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "--chain-tests-only",
         "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 1 skipped, 1 deselected" in done.stdout
