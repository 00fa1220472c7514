"""TxSender against a real anvil: concurrency, nonces, fees, gas, stuck transactions, outages, funds."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from anacostia_blockchain.chain import ChainClient, Contract, Devnet, FeeOracle, LocalSigner, PendingTx, TxSender
from anacostia_blockchain.chain.abi import ContractArtifact
from anacostia_blockchain.errors import (
    ChainConnectionError,
    ConfigurationError,
    ContractRevertError,
    InsufficientFundsError,
    TransactionError,
    TransactionTimeoutError,
)


@pytest.fixture
def manual_mining(fresh_chain: Devnet) -> Iterator[Devnet]:
    fresh_chain.set_automine(False)
    try:
        yield fresh_chain
    finally:
        fresh_chain.set_automine(True)


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def _nonce_of(client: ChainClient, tx_hash: str) -> int:
    return int(client.rpc("eth_getTransactionByHash", [tx_hash])["nonce"], 16)


def test_sixteen_threads_fifty_each_one_account(sender: TxSender, probe: Contract, client: ChainClient) -> None:
    receipts: list[dict] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            pendings = [sender.send(probe, "bump", 1) for _ in range(50)]
            mined = [p.wait(120) for p in pendings]
            with lock:
                receipts.extend(mined)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    start_nonce = client.nonce(sender.signer.address)
    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert errors == []
    assert len(receipts) == 800 and all(r.status == 1 for r in receipts)
    assert len({r.transactionHash for r in receipts}) == 800
    assert probe.call("total") == 5 + 800 and probe.call("calls") == 800
    assert client.nonce(sender.signer.address, "latest") == start_nonce + 800
    assert sender.nonces.resyncs == 0 and sender.stats["nonce_repairs"] == 0  # fee re-signs under load are fine


def test_gas_is_estimated_once_per_call_shape(sender: TxSender, probe: Contract) -> None:
    before = sender.stats["estimates"]
    for value in range(1, 21):
        sender.send(probe, "bump", value)
    sender.transact(probe, "bump", 1)
    assert sender.stats["estimates"] == before + 1
    sender.transact(probe, "store", b"x" * 10)
    sender.transact(probe, "store", b"y" * 10)
    assert sender.stats["estimates"] == before + 2
    sender.transact(probe, "store", b"z" * 100)  # longer calldata: a new shape
    assert sender.stats["estimates"] == before + 3
    assert probe.call("blob") == b"z" * 100


def test_out_of_gas_re_estimates_and_resends(sender: TxSender, probe: Contract) -> None:
    assert sender.cached_gas(probe, "fill", 0, 1) is None
    sender.transact(probe, "fill", 0, 1)
    first_gas = sender.cached_gas(probe, "fill", 0, 1)
    assert first_gas is not None and sender.cached_gas(probe, "fill", 100, 30) == first_gas  # one shape
    estimates = sender.stats["estimates"]
    receipt = sender.transact(probe, "fill", 100, 30)  # 30 fresh slots: the cached gas runs out
    assert receipt.status == 1 and receipt.gasUsed > first_gas
    assert sender.stats["estimates"] == estimates + 1
    assert probe.call("slots", 129) == 30 and probe.call("calls") == 2
    assert sender.cached_gas(probe, "fill", 0, 1) > first_gas  # the shape now carries the larger estimate


def test_stuck_transaction_is_resubmitted_with_bumped_fees(
    client: ChainClient, signer: LocalSigner, probe_artifact: ContractArtifact, manual_mining: Devnet
) -> None:
    with TxSender(client, signer, stuck_timeout=0.3) as sender:
        deploying = sender.send_raw_call(None, bytes.fromhex(probe_artifact.bytecode[2:]) + (5).to_bytes(32, "big"))
        _until(lambda: deploying.accepted)
        manual_mining.mine()
        address = deploying.wait(10).contractAddress
        probe = Contract(client, "ChainProbe", probe_artifact.abi, address)
        pending = sender.send(probe, "bump", 7)
        initial_fees = pending.fees
        _until(lambda: len(pending.tx_hashes) >= 2 and pending.accepted)
        assert not pending.done()
        manual_mining.mine()
        receipt = pending.wait(10)
    assert receipt.status == 1
    assert receipt.transactionHash in pending.tx_hashes[1:]
    assert client.rpc("eth_getTransactionByHash", [pending.tx_hashes[0]]) is None  # replaced in the pool
    mined = client.rpc("eth_getTransactionByHash", [receipt.transactionHash])
    assert int(mined["maxFeePerGas"], 16) >= int(initial_fees.max_fee_per_gas * 1.1)
    assert int(mined["maxPriorityFeePerGas"], 16) >= int(initial_fees.max_priority_fee_per_gas * 1.1)
    assert int(mined["nonce"], 16) == pending.nonce
    assert probe.call("calls") == 1 and probe.call("total") == 12  # replaced, not duplicated
    assert sender.stats["resubmits"] >= 1


def test_wait_timeout_keeps_tracking(sender: TxSender, probe: Contract, manual_mining: Devnet) -> None:
    pending = sender.send(probe, "bump", 2)
    with pytest.raises(TransactionTimeoutError, match="still tracked"):
        pending.wait(0.2)
    _until(lambda: pending.accepted)
    manual_mining.mine()
    assert pending.wait(10).status == 1


def test_underpriced_rejection_refreshes_fees(
    client: ChainClient, signer: LocalSigner, probe: Contract, restore_base_fee: Devnet
) -> None:
    fresh_chain = restore_base_fee
    oracle = FeeOracle(client, refresh_interval=3600, base_fee_multiplier=1, priority_fee=1)
    with TxSender(client, signer, fee_oracle=oracle) as sender:
        sender.transact(probe, "bump", 1)
        stale = oracle.current()
        fresh_chain.control.set_next_base_fee(stale.max_fee_per_gas * 50)
        fresh_chain.mine()
        receipt = sender.transact(probe, "bump", 1)
    assert receipt.status == 1
    assert oracle.refreshes >= 2 and sender.stats["repairs"] >= 1
    assert receipt.effectiveGasPrice > stale.max_fee_per_gas


def test_nonce_too_low_resyncs(client: ChainClient, signer: LocalSigner, probe: Contract) -> None:
    with TxSender(client, signer) as ours, TxSender(client, signer) as theirs:
        nonce = ours.nonces.allocate()  # ours now believes `nonce` is free ...
        ours.nonces.release(nonce)
        theirs.transact(probe, "bump", 1)  # ... but another process uses it first
        receipt = ours.transact(probe, "bump", 1)
        assert receipt.status == 1 and ours.nonces.resyncs == 1
        assert _nonce_of(client, receipt.transactionHash) == nonce + 1
    assert probe.call("calls") == 2


@pytest.mark.anvil_only
def test_rpc_outage_fails_cleanly_and_nonce_is_reused(tmp_path: Path, probe_artifact: ContractArtifact) -> None:
    with Devnet(state_path=tmp_path / "state.json") as chain:
        client = ChainClient(chain.rpc_url)
        signer = LocalSigner.from_key(chain.accounts[0].private_key)
        with TxSender(client, signer, submit_timeout=1.0, fee_refresh=600) as sender:
            probe = sender.deploy(probe_artifact, 0)
            sender.transact(probe, "bump", 1)
            chain.stop()
            started = time.monotonic()
            lost: PendingTx = sender.send(probe, "bump", 100)  # gas and fees are cached: no RPC before queueing
            with pytest.raises(ChainConnectionError, match="could not submit"):
                lost.wait(30)
            assert time.monotonic() - started < 15
            with pytest.raises(ChainConnectionError):
                sender.send(probe, "store", b"new shape needs an estimate")
            chain.restart()
            receipt = sender.transact(probe, "bump", 2)
        assert receipt.status == 1
        assert _nonce_of(client, receipt.transactionHash) == lost.nonce  # the hole was filled, not skipped
        assert sender.nonces.resyncs == 1  # recovered from the node's pending count after the outage
        assert probe.call("total") == 3 and probe.call("calls") == 2


def test_insufficient_funds_is_readable(client: ChainClient, sender: TxSender, probe: Contract) -> None:
    poor = LocalSigner.from_key(os.urandom(32))
    sender.send_value(poor.address, 1000)
    with TxSender(client, poor) as theirs:
        with pytest.raises(InsufficientFundsError) as info:
            theirs.transact(probe, "bump", 1, gas=100_000)
        message = str(info.value)
        assert "needs up to" in message and "account has 1000 wei" in message and poor.address in message
        assert info.value.available == 1000 and info.value.needed is not None and info.value.needed > 1000
        sender.send_value(poor.address, 10**18)
        receipt = theirs.transact(probe, "bump", 1, gas=100_000)
        assert receipt.status == 1 and _nonce_of(client, receipt.transactionHash) == 0  # nonce 0 was given back


def test_send_value_deploy_errors_and_close(
    sender: TxSender, client: ChainClient, probe_artifact: ContractArtifact
) -> None:
    to = LocalSigner.from_key(os.urandom(32)).address
    receipt = sender.send_value(to, 777)
    assert receipt.status == 1 and receipt.gasUsed == 21_000 and client.balance(to) == 777
    with pytest.raises(ConfigurationError, match="takes 1 arguments, got 0"):
        sender.deploy(probe_artifact)
    with pytest.raises(ConfigurationError, match="gas_margin"):
        TxSender(client, sender.signer, gas_margin=0.5)
    sender.close()
    with pytest.raises(TransactionError, match="closed"):
        sender.send_value(to, 1)


def test_nonce_hole_behind_a_rejected_transaction_is_filled(
    client: ChainClient, signer: LocalSigner, probe: Contract
) -> None:
    with TxSender(client, signer, stuck_timeout=0.5) as sender:
        with sender.batch():  # both in one JSON-RPC batch
            rejected = sender.send(probe, "bump", 1, gas=10**9)  # above the block gas limit: refused
            waiting = sender.send(probe, "bump", 2)  # the next nonce: accepted, but queued behind the hole
        assert waiting.nonce == rejected.nonce + 1
        with pytest.raises(TransactionError):
            rejected.wait(10)
        receipt = waiting.wait(20)  # after stuck_timeout a 0-value self-transfer fills the hole
    assert receipt.status == 1 and sender.stats["fillers"] == 1
    assert _nonce_of(client, receipt.transactionHash) == rejected.nonce + 1
    assert probe.call("total") == 7 and probe.call("calls") == 1


def test_batch_holds_submission_until_exit(sender: TxSender, probe: Contract) -> None:
    with sender.batch():
        pendings = [sender.send(probe, "bump", 1) for _ in range(5)]
        time.sleep(0.2)
        assert not any(p.accepted for p in pendings)  # nothing left the process yet
    receipts = [p.wait(10) for p in pendings]
    assert [r.status for r in receipts] == [1] * 5 and probe.call("calls") == 5


@pytest.mark.anvil_only
@pytest.mark.parametrize(("max_gap_fill", "expected_nonce", "fillers", "resyncs"), [(16, 3, 3, 0), (0, 0, 0, 1)])
def test_chain_reset_under_the_sender(max_gap_fill: int, expected_nonce: int, fillers: int, resyncs: int) -> None:
    receiver = LocalSigner.from_key(os.urandom(32)).address
    with Devnet() as chain:
        client = ChainClient(chain.rpc_url)
        signer = LocalSigner.from_key(chain.accounts[0].private_key)
        with TxSender(client, signer, stuck_timeout=0.5, fee_refresh=600, max_gap_fill=max_gap_fill) as sender:
            for _ in range(3):
                sender.send_value(receiver, 1)
            chain.kill()
            chain.restart()  # no state file: a brand-new chain where the account's nonce is 0 again
            receipt = sender.send_value(receiver, 5, timeout=30)
        # A small gap is filled with 0-value self-transfers; a large one means a reset: resync and re-sign.
        assert receipt.status == 1 and _nonce_of(client, receipt.transactionHash) == expected_nonce
        assert client.balance(receiver) == 5
        assert sender.stats["fillers"] == fillers and sender.nonces.resyncs == resyncs


def test_explicit_gas_is_not_second_guessed(sender: TxSender, probe: Contract) -> None:
    with pytest.raises(ContractRevertError, match=r"ChainProbe.fill ran out of gas .*of its 60000 gas limit") as info:
        sender.transact(probe, "fill", 0, 50, gas=60_000)
    assert info.value.receipt.status == 0
    assert probe.call("calls") == 0 and sender.cached_gas(probe, "fill", 0, 50) is None


def test_out_of_gas_retry_happens_once_however_often_wait_is_called(sender: TxSender, probe: Contract) -> None:
    sender.transact(probe, "fill", 0, 1)
    pending = sender.send(probe, "fill", 100, 30)
    first, second = pending.wait(30), pending.wait(30)
    assert first is second and first.status == 1
    assert probe.call("calls") == 2  # one retry, not two


def test_stuck_timeout_defaults_follow_automine(client: ChainClient, signer: LocalSigner, fresh_chain: Devnet) -> None:
    if not client.automines():
        pytest.skip("this node cannot say whether it automines (Ganache): tests/chain/peer_nodes covers it")
    with TxSender(client, signer) as automining:
        assert automining.stuck_timeout == 3.0
    fresh_chain.set_automine(False)
    try:
        with TxSender(client, signer) as block_by_block:
            assert block_by_block.stuck_timeout == 30.0
        with TxSender(client, signer, stuck_timeout=7) as explicit:
            assert explicit.stuck_timeout == 7
    finally:
        fresh_chain.set_automine(True)


class _SlowFirstSend:
    """An HTTP forwarder in front of the node that holds the node's answer to the first ``eth_sendRawTransaction``
    request for ``delay`` seconds (the node has the transaction; the client's read times out first)."""

    def __init__(self, target: str, delay: float) -> None:
        import http.server
        import urllib.request

        forwarder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = urllib.request.Request(target, data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as reply:
                    answer = reply.read()
                if b"eth_sendRawTransaction" in body and not forwarder.held:
                    forwarder.held = True
                    time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up waiting
                    self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.held = False
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.anvil_only
def test_a_send_that_timed_out_once_is_retried_not_failed(
    fresh_chain: Devnet, probe_artifact: ContractArtifact
) -> None:
    # The client's read timeout (1 s) is longer than submit_timeout (0.5 s): the first failed attempt starts the
    # submit clock, so the same signed transaction is sent again (the node already has it) instead of failing.
    signer = LocalSigner.from_key(fresh_chain.accounts[0].private_key)
    with TxSender(ChainClient(fresh_chain.rpc_url), signer) as deployer:
        probe = deployer.deploy(probe_artifact, 0)
    forwarder = _SlowFirstSend(fresh_chain.rpc_url, delay=2.0)
    try:
        client = ChainClient(forwarder.url, timeout=1.0)
        with TxSender(client, signer, submit_timeout=0.5, fee_refresh=600) as sender:
            pending = sender.send(probe, "bump", 7, gas=100_000)
            receipt = pending.wait(30)
        assert forwarder.held and receipt.status == 1
        assert probe.call("total") == 7 and probe.call("calls") == 1  # sent twice, mined once
    finally:
        forwarder.close()
