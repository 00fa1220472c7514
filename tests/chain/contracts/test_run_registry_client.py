"""RunRegistryClient's reads: anchored runs from events, and many anchors re-checked in one batched request."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak

from anacostia_blockchain.chain.contracts import AnchorRequest, RunRegistryClient
from anacostia_blockchain.chain.rpc import ChainClient
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.errors import ChainError

PIPELINE = keccak(text="registry-client")


class CountingClient(ChainClient):
    """A client that counts its round trips."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.batches: list[int] = []

    def rpc_batch(self, calls: Any, timeout: float | None = None) -> list[Any]:
        self.batches.append(len(calls))
        return super().rpc_batch(calls, timeout)


@pytest.fixture
def registry(sender: TxSender) -> RunRegistryClient:
    admin = sender.signer.address
    contract = sender.deploy("RunRegistry", admin, admin)
    return RunRegistryClient(sender.client, contract.address, sender)


def _anchor(registry: RunRegistryClient, run_id: int) -> AnchorRequest:
    request = AnchorRequest(PIPELINE, run_id, keccak(text=f"root-{run_id}"), f"bafy-{run_id}")
    registry.anchor_run(request)
    return request


def test_anchored_runs_are_typed(registry: RunRegistryClient) -> None:
    first, second = _anchor(registry, 1), _anchor(registry, 2)
    anchored = registry.anchored_runs(PIPELINE)
    assert [(a.run_id, a.merkle_root, a.manifest_cid) for a in anchored] == [
        (1, first.merkle_root, "bafy-1"),
        (2, second.merkle_root, "bafy-2"),
    ]
    assert anchored[0].pipeline_id == PIPELINE and anchored[0].block_number < anchored[1].block_number
    assert registry.anchored_run_ids(PIPELINE) == [1, 2]
    assert registry.anchored_run_ids(PIPELINE, from_block=anchored[1].block_number) == [2]
    assert registry.anchored_runs(keccak(text="other")) == []
    record = registry.anchor_record(PIPELINE, 2)
    assert record is not None and record.block_hash == registry.client.header(record.block_number).hash
    assert record.timestamp == registry.client.header(record.block_number).timestamp


def test_check_anchors_is_one_batch(registry: RunRegistryClient, sender: TxSender) -> None:
    first = _anchor(registry, 1)
    counting = CountingClient(sender.client.rpc_url)
    reader = RunRegistryClient(counting, registry.address)
    anchored_at = reader.anchored_runs(PIPELINE)[0].block_number
    head = counting.block_number()
    snapshot = reader.check_anchors([(PIPELINE, 1), (PIPELINE, 9)], [anchored_at, head], at_block=head)
    assert counting.batches == [4]  # 2 block hashes + 2 roots, one request
    assert snapshot.block_hashes == {anchored_at: counting.header(anchored_at).hash, head: counting.header(head).hash}
    assert snapshot.roots == [first.merkle_root, None]
    missing = reader.check_anchors([], [head + 1_000])
    assert missing.block_hashes == {head + 1_000: None} and missing.roots == []
    with pytest.raises(ChainError):
        reader.check_anchors([(PIPELINE, 1)], [], at_block=head + 1_000)  # a failed item fails the whole check
