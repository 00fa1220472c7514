"""The one event decoder, offline: JSON-ready values on both decoding paths, what is skipped, what is refused."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak

from anacostia_blockchain.chain.abi import EventLog, EventReader, EventSpec, event_specs
from anacostia_blockchain.chain.rpc import Receipt
from anacostia_blockchain.errors import ValidationError

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
EMITTER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"

ABI: list[dict[str, Any]] = [
    {
        "type": "event",
        "name": "Anchored",
        "inputs": [
            {"name": "pipelineId", "type": "bytes32", "indexed": True},
            {"name": "runId", "type": "uint64", "indexed": True},
            {"name": "root", "type": "bytes32", "indexed": False},
            {"name": "by", "type": "address", "indexed": False},
            {"name": "delta", "type": "int256", "indexed": False},
            {"name": "ok", "type": "bool", "indexed": False},
        ],
    },
    {
        "type": "event",
        "name": "Noted",
        "inputs": [
            {"name": "tag", "type": "string", "indexed": True},
            {"name": "by", "type": "address", "indexed": True},
            {"name": "text", "type": "string", "indexed": False},
            {"name": "blob", "type": "bytes", "indexed": False},
            {"name": "owners", "type": "address[]", "indexed": False},
        ],
    },
]
ANCHORED, NOTED = event_specs(ABI)


def _topic(value: bytes) -> str:
    return "0x" + value.hex()


def _log(spec: EventSpec, topics: list[bytes], data: bytes, **extra: Any) -> dict[str, Any]:
    raw = {
        "address": EMITTER.lower(),
        "topics": [_topic(spec.topic0), *(_topic(t) for t in topics)],
        "data": "0x" + data.hex(),
        "blockNumber": "0x10",
        "blockHash": "0x" + "ab" * 32,
        "transactionHash": "0x" + "cd" * 32,
        "logIndex": "0x2",
    }
    raw.update(extra)
    return raw


def _anchored_log() -> dict[str, Any]:
    pid, root = keccak(text="pipeline"), keccak(text="root")
    data = encode(["bytes32", "address", "int256", "bool"], [root, ALICE, -5, True])
    return _log(ANCHORED, [pid, encode(["uint64"], [7])], data)


def test_static_data_decodes_to_json_ready_values() -> None:
    event = ANCHORED.decode(_anchored_log(), "Registry")
    assert event == EventLog(
        name="Anchored",
        args={
            "pipelineId": _topic(keccak(text="pipeline")),
            "runId": 7,
            "root": _topic(keccak(text="root")),
            "by": ALICE,
            "delta": -5,
            "ok": True,
        },
        address=EMITTER,
        block_number=16,
        tx_hash="0x" + "cd" * 32,
        log_index=2,
        block_hash="0x" + "ab" * 32,
        contract="Registry",
    )
    assert list(event.args) == ["pipelineId", "runId", "root", "by", "delta", "ok"]  # declaration order


def test_dynamic_data_goes_through_eth_abi_with_the_same_representation() -> None:
    data = encode(["string", "bytes", "address[]"], ["hello", b"\x01\x02", [ALICE.lower(), EMITTER.lower()]])
    raw = _log(NOTED, [keccak(text="alpha"), encode(["address"], [ALICE])], data)
    event = NOTED.decode(raw)
    assert event is not None
    assert event.args == {
        "tag": _topic(keccak(text="alpha")),  # an indexed string is only its hash
        "by": ALICE,
        "text": "hello",
        "blob": "0x0102",
        "owners": [ALICE, EMITTER],
    }


def test_what_is_skipped_and_what_is_refused() -> None:
    raw = _anchored_log()
    assert ANCHORED.decode({**raw, "removed": True}) is None
    assert ANCHORED.decode({**raw, "topics": raw["topics"][:2]}) is None  # same signature, other indexed layout
    with pytest.raises(ValidationError, match=r"undecodable Registry\.Anchored log"):
        ANCHORED.decode({**raw, "data": "0x1234"}, "Registry")


def test_reader_picks_the_contract_by_address_and_the_event_by_topic() -> None:
    reader = EventReader(client=None, contracts={"Registry": (EMITTER, ABI)})  # type: ignore[arg-type]
    assert reader.addresses == [EMITTER]
    event = reader.decode(_anchored_log())
    assert event is not None and (event.contract, event.name) == ("Registry", "Anchored")
    assert reader.decode({**_anchored_log(), "address": ALICE}) is None
    assert reader.decode({**_anchored_log(), "topics": [_topic(keccak(text="Other()"))]}) is None


def test_receipt_events_match_the_emitter_first() -> None:
    from anacostia_blockchain.chain.abi import Contract, receipt_events, single_event

    handle = Contract.from_abi(client=None, name="Registry", abi=ABI, address=EMITTER)  # type: ignore[arg-type]
    ours = _anchored_log()
    theirs = {**_anchored_log(), "address": ALICE.lower()}
    receipt = Receipt.from_rpc({"transactionHash": "0x" + "cd" * 32, "logs": [theirs, ours]})
    (event,) = receipt_events(handle, receipt, "Anchored")
    assert event.address == EMITTER and event.args["runId"] == 7
    assert single_event(handle, receipt, "Anchored") == event
    assert handle.decode_log({**ours, "data": "0x1234"}) is None  # a handle skips what does not decode
