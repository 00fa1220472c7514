"""Sending on anvil, Hardhat Network and Ganache: bursts mined exactly once, mined reverts decoded, automine."""

from __future__ import annotations

import random
import threading

import pytest

from anacostia_blockchain.chain import ChainClient, Contract, LocalSigner, TxSender
from anacostia_blockchain.chain.contracts import AnchorRequest, RunRegistryClient, merkle
from anacostia_blockchain.chain.dev import DevNode
from anacostia_blockchain.chain.rpc import NodeKind, RpcErrorReply
from anacostia_blockchain.chain.rpc.receipt import Receipt
from anacostia_blockchain.errors import CustomContractError, TransactionError

pytestmark = pytest.mark.xdist_group("peer_nodes")


def test_a_burst_of_200_writes_from_8_threads_is_mined_exactly_once(
    peer: DevNode, peer_client: ChainClient, peer_sender: TxSender, peer_probe: Contract
) -> None:
    address = peer_sender.signer.address
    start = peer_client.nonce(address, "latest")
    receipts: list[Receipt] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            mined = [pending.wait(120) for pending in [peer_sender.send(peer_probe, "bump", 1) for _ in range(25)]]
            with lock:
                receipts.extend(mined)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    assert len(receipts) == 200 and all(r.status == 1 for r in receipts)
    assert len({r.transactionHash for r in receipts}) == 200
    assert peer_probe.call("calls") == 200 and peer_probe.call("total") == 5 + 200
    assert peer_client.nonce(address, "latest") == start + 200  # no filler, no duplicate, no lost nonce
    assert peer_sender.stats["fillers"] == 0 and peer_sender.stats["nonce_repairs"] == 0


def test_a_mined_revert_is_decoded_uses_its_nonce_and_is_not_sent_again(
    peer: DevNode, peer_client: ChainClient, peer_probe: Contract
) -> None:
    with TxSender(peer_client, LocalSigner.from_key(peer.accounts[1].private_key)) as stranger:
        before = peer_client.nonce(stranger.signer.address, "latest")
        with pytest.raises(CustomContractError) as info:
            stranger.transact(peer_probe, "onlyOwnerBump", gas=100_000)  # explicit gas: nothing estimates first
        assert info.value.error_name == "NotAllowed" and info.value.error_args == (stranger.signer.address.lower(), 7)
        assert info.value.receipt is not None and info.value.receipt.status == 0
        assert info.value.tx_hash == info.value.receipt.transactionHash
        if peer.kind is NodeKind.HARDHAT:  # decoded from the send answer itself, which named the mined transaction
            reply = info.value.rpc_error
            assert isinstance(reply, RpcErrorReply) and reply.method == "eth_sendRawTransaction"
            assert reply.mined_tx_hash == info.value.tx_hash
        assert peer_client.nonce(stranger.signer.address, "latest") == before + 1
        assert stranger.stats["sent"] == 1 and stranger.stats["repairs"] == 0
        assert stranger.transact(peer_probe, "bump", 1).status == 1  # the next nonce follows
        assert peer_client.nonce(stranger.signer.address, "latest") == before + 2


def test_a_conflicting_anchor_fails_once_with_run_already_anchored(
    peer: DevNode, peer_client: ChainClient, peer_sender: TxSender
) -> None:
    admin = peer_sender.signer.address
    registry = RunRegistryClient(peer_client, peer_sender.deploy("RunRegistry", admin, admin).address, peer_sender)
    pipeline = merkle.pipeline_id("peer-nodes")
    first = AnchorRequest(pipeline, 7, random.Random(1).randbytes(32), "bafkreifirst")
    registry.anchor_run(first)
    before = peer_client.nonce(admin, "latest")
    sent = peer_sender.stats["sent"]
    with pytest.raises(CustomContractError) as info:  # same call shape: the cached gas limit, no estimate first
        registry.anchor_run(AnchorRequest(pipeline, 7, random.Random(2).randbytes(32), "bafkreisecond"))
    assert info.value.error_name == "RunAlreadyAnchored" and info.value.error_args == (pipeline, 7, first.merkle_root)
    assert info.value.receipt is not None and info.value.receipt.status == 0
    assert peer_client.nonce(admin, "latest") == before + 1 and peer_sender.stats["sent"] == sent + 1
    assert registry.run_root(pipeline, 7) == first.merkle_root


def test_automine_is_read_from_each_nodes_own_method(
    peer: DevNode, peer_client: ChainClient, peer_sender: TxSender
) -> None:
    # anvil_getAutomine, hardhat_getAutomine, Ganache's eth_mining (its instamine mines each transaction at once)
    assert peer_client.automines() is True
    assert peer_sender.stuck_timeout == 3.0
    peer.set_automine(False)  # block by block from now on (miner_stop on Ganache)
    try:
        assert peer_client.automines() is False
        with TxSender(peer_client, peer_sender.signer) as block_by_block:
            assert block_by_block.stuck_timeout == 30.0
    finally:
        peer.set_automine(True)
    assert peer_client.automines() is True


def test_a_nonce_hole_behind_a_rejected_transaction_is_filled(
    peer_client: ChainClient, peer_sender: TxSender, peer_probe: Contract
) -> None:
    with TxSender(peer_client, peer_sender.signer, stuck_timeout=0.5) as sender:
        with sender.batch():  # both in one submission round
            rejected = sender.send(peer_probe, "bump", 1, gas=10**9)  # above the block gas limit: refused
            waiting = sender.send(peer_probe, "bump", 2)  # the next nonce, behind the hole
        with pytest.raises(TransactionError):
            rejected.wait(30)
        receipt = waiting.wait(60)  # a 0-value self-transfer took the rejected nonce (Ganache: before sending it)
    assert receipt.status == 1 and sender.stats["fillers"] == 1
    assert peer_probe.call("total") == 5 + 2 and peer_probe.call("calls") == 1
