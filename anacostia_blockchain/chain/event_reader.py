"""Decoded contract events in block ranges — the marketplace indexer's only access to the chain.

One :class:`EventReader` watches a fixed set of ``(name, address, abi)`` contracts. :meth:`EventReader.read` issues a
single ``eth_getLogs`` for all their addresses over a block range and decodes every log whose topic0 matches an
event of that contract's ABI (other logs are skipped, so an upgraded contract emitting new events does not break the
indexer). A node that refuses a range as too large (``-32005`` / "query returned more than ...") is answered by
splitting the range in halves, so callers can ask for big ranges and let the reader adapt.

For reorg handling the reader also returns block hashes (:meth:`block_hashes`, one batched request) so the indexer can
compare what it stored with what the node now says.

Values are normalised to JSON-friendly Python: addresses EIP-55, ``bytes``/``bytesN`` as ``0x`` hex, integers as
``int``, indexed dynamic values (strings, bytes, arrays) as the 32-byte topic hash in hex (that is all a log holds).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

from ..errors import ChainError, ValidationError
from .abi_types import abi_type_of

_DYNAMIC_PREFIXES = ("string", "bytes", "tuple")


@dataclass(frozen=True)
class DecodedEvent:
    """One decoded log. ``contract`` is the name the reader was given for the emitting address."""

    contract: str
    event: str
    args: dict[str, Any]
    address: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int


@dataclass(frozen=True)
class _EventSpec:
    name: str
    indexed: tuple[tuple[str, str], ...]
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    static_data: bool  # every data field is one static word: decoded without eth-abi


def _is_hashed_when_indexed(abi_type: str) -> bool:
    """Indexed strings, dynamic bytes, tuples and arrays are stored as their keccak256 in the topic."""
    if abi_type.endswith("]") or abi_type.startswith("("):
        return True
    return abi_type.startswith(_DYNAMIC_PREFIXES) and not _is_fixed_bytes(abi_type)


def _is_fixed_bytes(abi_type: str) -> bool:
    return abi_type.startswith("bytes") and abi_type[5:].isdigit()


@lru_cache(maxsize=65536)
def _checksum(address: str) -> str:
    """EIP-55 form, cached: a log stream repeats the same few addresses and checksumming costs a keccak."""
    return str(to_checksum_address(address))


def _static_word(abi_type: str, word: bytes) -> Any:
    """Decode one 32-byte word of a static elementary type without eth-abi (the hot path); ``None`` if not one."""
    if abi_type == "address":
        return _checksum("0x" + word[12:].hex())
    if abi_type.startswith("uint"):
        return int.from_bytes(word, "big")
    if abi_type.startswith("int"):
        return int.from_bytes(word, "big", signed=True)
    if abi_type == "bool":
        return word != bytes(32)
    if _is_fixed_bytes(abi_type):
        return "0x" + word[: int(abi_type[5:])].hex()
    return None


def _is_word_type(abi_type: str) -> bool:
    """An elementary type encoded in exactly one 32-byte word."""
    if "[" in abi_type or "(" in abi_type:
        return False
    return abi_type in ("address", "bool") or abi_type.startswith(("uint", "int")) or _is_fixed_bytes(abi_type)


def _normalise(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return _checksum(value.lower())
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        inner = abi_type[: abi_type.rindex("[")] if abi_type.endswith("]") else ""
        return [_normalise(inner, item) for item in value]
    return value


def _spec_table(abi: Sequence[Mapping[str, Any]]) -> dict[bytes, _EventSpec]:
    table: dict[bytes, _EventSpec] = {}
    for entry in abi:
        if entry.get("type") != "event" or entry.get("anonymous"):
            continue
        inputs = list(entry.get("inputs", []))
        types = [abi_type_of(dict(item)) for item in inputs]
        topic0 = keccak(text=f"{entry['name']}({','.join(types)})")
        indexed = tuple((i["name"], t) for i, t in zip(inputs, types, strict=True) if i.get("indexed"))
        data = [(i["name"], t) for i, t in zip(inputs, types, strict=True) if not i.get("indexed")]
        table[topic0] = _EventSpec(
            name=entry["name"],
            indexed=indexed,
            data_names=tuple(n for n, _ in data),
            data_types=tuple(t for _, t in data),
            static_data=all(_is_word_type(t) for _, t in data),
        )
    return table


def _hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def _quantity(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _too_many_results(exc: ChainError) -> bool:
    text = str(exc).lower()
    return any(hint in text for hint in ("more than", "too many", "limit exceeded", "range", "-32005", "timeout"))


class EventReader:
    """Reads and decodes the events of several contracts (see the module docstring).

    ``client`` is a :class:`~anacostia_blockchain.chain.client.ChainClient` (anything with ``rpc(method, params)``
    and ``rpc_batch(calls)``). ``contracts`` maps a name (``"ModelNFT"``) to ``(address, abi)``.
    """

    def __init__(self, client: Any, contracts: Mapping[str, tuple[str, Sequence[Mapping[str, Any]]]]) -> None:
        self.client = client
        self._by_address: dict[str, tuple[str, dict[bytes, _EventSpec]]] = {}
        for name, (address, abi) in contracts.items():
            self._by_address[address.lower()] = (name, _spec_table(abi))
        self.addresses = [to_checksum_address(a) for a in self._by_address]

    def head(self) -> int:
        return _quantity(self.client.rpc("eth_blockNumber", []))

    def read(self, from_block: int, to_block: int) -> list[DecodedEvent]:
        """Decoded events in ``[from_block, to_block]`` ordered by (block, log index)."""
        if from_block > to_block:
            return []
        params = {"fromBlock": hex(from_block), "toBlock": hex(to_block), "address": self.addresses}
        try:
            logs = self.client.rpc("eth_getLogs", [params])
        except ChainError as exc:
            if from_block == to_block or not _too_many_results(exc):
                raise
            middle = (from_block + to_block) // 2
            return self.read(from_block, middle) + self.read(middle + 1, to_block)
        events = [event for event in (self.decode(raw) for raw in logs) if event is not None]
        events.sort(key=lambda e: (e.block_number, e.log_index))
        return events

    def decode(self, raw: Mapping[str, Any]) -> DecodedEvent | None:
        """Decode one raw ``eth_getLogs`` entry; ``None`` for an unknown contract/event or a removed log."""
        if raw.get("removed"):
            return None
        known = self._by_address.get(str(raw["address"]).lower())
        topics = [_hex_bytes(t) for t in raw.get("topics", [])]
        if known is None or not topics:
            return None
        contract, table = known
        spec = table.get(topics[0])
        if spec is None or len(topics) - 1 != len(spec.indexed):
            return None
        args: dict[str, Any] = {}
        try:
            for (name, abi_type), topic in zip(spec.indexed, topics[1:], strict=True):
                if _is_hashed_when_indexed(abi_type):
                    args[name] = "0x" + topic.hex()
                else:
                    args[name] = _static_word(abi_type, topic)
            data = _hex_bytes(raw.get("data", "0x"))
            if spec.static_data and len(data) == 32 * len(spec.data_types):
                values = tuple(_static_word(t, data[32 * i : 32 * i + 32]) for i, t in enumerate(spec.data_types))
            else:
                decoded = abi_decode(list(spec.data_types), data)
                values = tuple(_normalise(t, v) for t, v in zip(spec.data_types, decoded, strict=True))
        except (DecodingError, ValueError, OverflowError) as exc:
            raise ValidationError(f"undecodable {contract}.{spec.name} log in tx {raw.get('transactionHash')}") from exc
        for name, value in zip(spec.data_names, values, strict=True):
            args[name] = value
        return DecodedEvent(
            contract=contract,
            event=spec.name,
            args=args,
            address=_checksum(str(raw["address"]).lower()),
            block_number=_quantity(raw["blockNumber"]),
            block_hash=str(raw["blockHash"]),
            tx_hash=str(raw["transactionHash"]),
            log_index=_quantity(raw["logIndex"]),
        )

    def block_hashes(self, numbers: Iterable[int]) -> dict[int, str]:
        """Current hashes of the given blocks (one batched request); blocks the node does not have are omitted."""
        wanted = sorted(set(numbers))
        if not wanted:
            return {}
        replies = self.client.rpc_batch([("eth_getBlockByNumber", [hex(n), False]) for n in wanted])
        hashes: dict[int, str] = {}
        for number, reply in zip(wanted, replies, strict=True):
            if isinstance(reply, Exception):
                raise reply
            if reply:
                hashes[number] = str(reply["hash"])
        return hashes


def call_many(contract: Any, fn: str, calls: Sequence[tuple[tuple[Any, ...], int | str]]) -> list[Any]:
    """Many read-only calls of one function in one batched JSON-RPC request.

    ``calls`` are ``(args, block)`` pairs (``block`` an int or a tag); each result is the decoded value or the
    :class:`ChainError` the node answered for that call (a revert is decoded), so one bad call does not hide others.
    ``contract`` is a :class:`~anacostia_blockchain.chain.contract.Contract`.
    """
    if not calls:
        return []
    requests = []
    for args, block in calls:
        data = contract.encode(fn, *args)
        tag = hex(block) if isinstance(block, int) else block
        requests.append(("eth_call", [{"to": contract.address, "data": "0x" + data.hex()}, tag]))
    replies = contract.client.rpc_batch(requests)
    results: list[Any] = []
    for reply in replies:
        if isinstance(reply, Exception):
            results.append(reply)
        else:
            results.append(contract.decode_output(fn, _hex_bytes(reply)))
    return results
