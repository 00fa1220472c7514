"""Devnet (anvil from npm): lifecycle, state dump/load, snapshots, typed start-up errors, and the devnet command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anacostia_blockchain.chain import ChainClient, Devnet, LocalSigner, TxSender
from anacostia_blockchain.chain.dev import devnet as devnet_module
from anacostia_blockchain.chain.dev import free_port
from anacostia_blockchain.errors import AnvilNotFoundError, AnvilStartError, ChainConnectionError

pytestmark = pytest.mark.anvil_only  # the anvil launcher itself


def test_accounts_funded_and_keys_hidden(devnet: Devnet) -> None:
    assert devnet.running and devnet.rpc_url.startswith("http://127.0.0.1:")
    assert len(devnet.accounts) == 10
    client = ChainClient(devnet.rpc_url, expected_chain_id=31337)
    assert client.balance(devnet.accounts[9].address) > 0
    account = devnet.accounts[0]
    assert LocalSigner.from_key(account.private_key).address == account.address
    assert account.private_key[2:] not in repr(account) + repr(devnet.accounts)


def test_snapshot_and_revert(fresh_chain: Devnet) -> None:
    start = fresh_chain.block_number()
    snapshot = fresh_chain.snapshot()
    fresh_chain.mine(3)
    assert fresh_chain.block_number() == start + 3
    assert fresh_chain.revert(snapshot) is True
    assert fresh_chain.block_number() == start


def test_state_survives_stop_and_restart(tmp_path: Path) -> None:
    state = tmp_path / "chain-state.json"
    receiver = LocalSigner.from_key(os.urandom(32)).address
    with Devnet(state_path=state, chain_id=4242) as chain:
        client = ChainClient(chain.rpc_url, expected_chain_id=4242)
        with TxSender(client, LocalSigner.from_key(chain.accounts[0].private_key)) as sender:
            sender.send_value(receiver, 4242)
        port = chain.port
        chain.restart()  # stop (dumping state) and start on the same port (loading it)
        assert chain.port == port
        assert ChainClient(chain.rpc_url).balance(receiver) == 4242
    assert state.exists() and state.stat().st_size > 0
    with Devnet(state_path=state, chain_id=4242) as again:  # a new process on a new port, same chain
        assert ChainClient(again.rpc_url).balance(receiver) == 4242


def test_kill_simulates_a_crash_and_restart_recovers() -> None:
    chain = Devnet().start()
    try:
        url = chain.rpc_url
        chain.kill()
        assert not chain.running
        with pytest.raises(ChainConnectionError, match="cannot reach"):
            ChainClient(url, timeout=2)
        chain.restart()
        assert chain.rpc_url == url and ChainClient(url).chain_id == 31337
    finally:
        chain.stop()


def test_rpc_url_of_a_never_started_devnet() -> None:
    with pytest.raises(AnvilStartError, match="not running"):
        _ = Devnet().rpc_url


def test_busy_port_is_a_typed_error() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(AnvilStartError, match=f"port {port} .* is busy"):
            Devnet(port=port).start()


def test_anvil_dying_early_is_a_typed_error() -> None:
    with pytest.raises(AnvilStartError, match="exited early"):
        Devnet(extra_args=("--definitely-not-a-flag",)).start()


def test_unrunnable_binary_is_a_typed_error(tmp_path: Path) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("not a program")
    with pytest.raises(AnvilStartError, match="could not start anvil"):
        Devnet(anvil_path=fake).start()


def test_missing_anvil_says_run_npm_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANVIL_PATH", str(tmp_path / "nowhere"))
    with pytest.raises(AnvilNotFoundError, match="does not exist"):
        devnet_module.find_anvil()
    monkeypatch.delenv("ANVIL_PATH")
    monkeypatch.setattr(devnet_module, "NPM_ANVIL", tmp_path / "missing" / "anvil")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AnvilNotFoundError, match="npm ci"):
        Devnet().start()


def _start_cli(*extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    command = [sys.executable, "-m", "anacostia_blockchain.cli.main", "devnet", *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            return process, lines
    process.kill()
    raise AssertionError(f"devnet command did not come up: {lines} {process.stderr.read() if process.stderr else ''}")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_devnet_command_prints_addresses_only_and_stops_on_signal(stop_signal: int, tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / "state.json"
    process, lines = _start_cli("--port", str(port), "--chain-id", "1337", "--state", str(state))
    try:
        assert f"RPC URL:  http://127.0.0.1:{port}" in lines and "Chain id: 1337" in lines
        client = ChainClient(f"http://127.0.0.1:{port}", expected_chain_id=1337)
        account_lines = [line for line in lines if line.strip().startswith("(")]
        assert len(account_lines) == 10 and "key" not in "\n".join(lines)
        assert client.balance(account_lines[0].split()[-1]) > 0
    finally:
        process.send_signal(stop_signal)
        code = process.wait(30)
    assert code == 0
    assert state.exists()  # dumped on the way out
    with pytest.raises(ChainConnectionError):
        ChainClient(f"http://127.0.0.1:{port}", timeout=2)


def test_devnet_command_shows_keys_only_when_asked() -> None:
    process, lines = _start_cli("--port", "0", "--show-keys", "--accounts", "2")
    try:
        keyed = [line for line in lines if " key 0x" in line]
        assert len(keyed) == 2
        address, key = keyed[0].split()[1], keyed[0].split()[-1]
        assert LocalSigner.from_key(key).address == address
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
