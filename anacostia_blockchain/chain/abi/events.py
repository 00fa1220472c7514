"""Contract events: the one decoder of raw logs, and :class:`EventReader` for several contracts over block ranges.

Decoded values are JSON-ready, whichever way a log was obtained (``Contract.events``, ``Contract.decode_log``,
a receipt, :class:`EventReader`): addresses EIP-55, ``bytes`` / ``bytesN`` as lower-case ``0x`` hex, integers as
``int``, strings as ``str``, arrays and tuples as lists, and an indexed dynamic value (string, bytes, array, tuple) as
its 32-byte topic hash in ``0x`` hex (that is all a log holds). Call *outputs* (``Contract.call``) stay Python values
(``bytes``): they are arguments of further calls, while events are records that get stored and served.

Decoding is cheap on purpose (the marketplace indexer decodes every log of every block): the spec of each event is
computed once per ABI, and data made of static one-word values (the common case) is decoded without eth-abi.

:class:`EventReader` issues one ``eth_getLogs`` for all its addresses per block range and decodes every log whose
topic0 matches an event of that contract's ABI (other logs are skipped, so an upgraded contract emitting new events
does not break a reader). A node that refuses a range as too large (``-32005`` / "query returned more than ...") is
answered by splitting the range in halves, so callers can ask for big ranges and let the reader adapt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak

from ...errors import ChainError, CompilerError, ConfigurationError, ValidationError
from ..encoding import checksummed, hex_to_bytes, quantity, to_hex
from .artifacts import load_artifact
from .types import abi_type_of, signature_of

if TYPE_CHECKING:
    from ..rpc.client import ChainClient
    from ..rpc.receipt import Receipt
    from .contract import Contract

_DYNAMIC_PREFIXES = ("string", "bytes", "tuple")
_ZERO_WORD = bytes(32)

#: Decodes one 32-byte word (a topic, or a word of static event data) into its JSON-ready value.
WordDecoder = Callable[[bytes], Any]


@dataclass(frozen=True)
class EventLog:
    """One decoded log: the event ``name``, its ``args`` (JSON-ready, see the module docstring) and where it is.

    ``contract`` is the name of the emitting contract as the decoder knew it; ``block_hash`` is ``""`` when the
    node's log did not carry one.
    """

    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    tx_hash: str
    log_index: int
    block_hash: str = ""
    contract: str = ""


@dataclass(frozen=True)
class EventSpec:
    """An ABI event, with what decoding needs precomputed (a decoder per topic and, for static data, per word)."""

    name: str
    signature: str
    topic0: bytes
    inputs: tuple[tuple[str, str, bool], ...]  # (name, type, indexed), in declaration order
    anonymous: bool
    indexed: tuple[tuple[str, str], ...]
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    static_data: bool  # every data field is one static word: decoded without eth-abi
    _layout: tuple[tuple[str, bool, int], ...] = field(compare=False, repr=False)  # (name, indexed, position)
    _topic_decoders: tuple[WordDecoder, ...] = field(compare=False, repr=False)
    _word_decoders: tuple[WordDecoder, ...] = field(compare=False, repr=False)

    @classmethod
    def from_abi(cls, entry: Mapping[str, Any]) -> EventSpec:
        inputs = tuple((str(i["name"]), abi_type_of(dict(i)), bool(i.get("indexed"))) for i in entry.get("inputs", []))
        signature = signature_of(dict(entry))
        indexed = tuple((n, t) for n, t, is_indexed in inputs if is_indexed)
        data = [(n, t) for n, t, is_indexed in inputs if not is_indexed]
        static_data = all(_is_word_type(t) for _, t in data)
        positions = {True: 0, False: 0}
        layout = []
        for name, _, is_indexed in inputs:
            layout.append((name, is_indexed, positions[is_indexed]))
            positions[is_indexed] += 1
        return cls(
            name=str(entry["name"]),
            signature=signature,
            topic0=keccak(text=signature),
            inputs=inputs,
            anonymous=bool(entry.get("anonymous")),
            indexed=indexed,
            data_names=tuple(n for n, _ in data),
            data_types=tuple(t for _, t in data),
            static_data=static_data,
            _layout=tuple(layout),
            _topic_decoders=tuple(_topic_decoder(t) for _, t in indexed),
            _word_decoders=tuple(_word_decoder(t) for _, t in data) if static_data else (),
        )

    @property
    def topic0_hex(self) -> str:
        return to_hex(self.topic0)

    def decode(self, raw: Mapping[str, Any], contract: str = "") -> EventLog | None:
        """Decode a raw log of this event; ``None`` when its topics do not fit (another event with the same
        signature but other indexed arguments, e.g. ERC-20 vs ERC-721 ``Transfer``) or the node marked it removed.
        Data that does not decode raises :class:`ValidationError`."""
        if raw.get("removed"):
            return None
        topics = raw.get("topics") or []
        if not self.anonymous:
            topics = topics[1:]
        if len(topics) != len(self._topic_decoders):
            return None
        try:
            topic_values = [decode(_topic_word(t)) for decode, t in zip(self._topic_decoders, topics, strict=True)]
            data_values = self._data_values(hex_to_bytes(str(raw.get("data") or "0x")))
            args = {name: topic_values[i] if is_indexed else data_values[i] for name, is_indexed, i in self._layout}
        except (DecodingError, ValueError, OverflowError) as exc:
            event = f"{contract}.{self.name}" if contract else self.name
            raise ValidationError(f"undecodable {event} log in tx {raw.get('transactionHash')}") from exc
        return EventLog(
            name=self.name,
            args=args,
            address=checksummed(str(raw["address"]).lower()),
            block_number=quantity(raw.get("blockNumber")),
            tx_hash=str(raw.get("transactionHash")),
            log_index=quantity(raw.get("logIndex")),
            block_hash=str(raw.get("blockHash") or ""),
            contract=contract,
        )

    def _data_values(self, data: bytes) -> Sequence[Any]:
        decoders = self._word_decoders
        if self.static_data and len(data) == 32 * len(decoders):
            return [decode(data[32 * i : 32 * i + 32]) for i, decode in enumerate(decoders)]
        decoded = abi_decode(list(self.data_types), data)
        return [_json_value(t, v) for t, v in zip(self.data_types, decoded, strict=True)]


def event_specs(abi: Iterable[Mapping[str, Any]]) -> list[EventSpec]:
    """The events of an ABI."""
    return [EventSpec.from_abi(entry) for entry in abi if entry.get("type") == "event"]


def is_hashed_when_indexed(abi_type: str) -> bool:
    """Indexed strings, dynamic bytes, tuples and arrays are stored as their keccak256 in the topic."""
    if abi_type.endswith("]") or abi_type.startswith("("):
        return True
    return abi_type.startswith(_DYNAMIC_PREFIXES) and not _is_fixed_bytes(abi_type)


def _is_fixed_bytes(abi_type: str) -> bool:
    return abi_type.startswith("bytes") and abi_type[5:].isdigit()


def _is_word_type(abi_type: str) -> bool:
    """An elementary type encoded in exactly one 32-byte word."""
    if "[" in abi_type or "(" in abi_type:
        return False
    return abi_type in ("address", "bool") or abi_type.startswith(("uint", "int")) or _is_fixed_bytes(abi_type)


def _topic_word(topic: str) -> bytes:
    word = hex_to_bytes(topic)
    if len(word) != 32:
        raise ValueError(f"a topic is 32 bytes, got {len(word)}")
    return word


def _topic_decoder(abi_type: str) -> WordDecoder:
    """How an indexed argument of ``abi_type`` reads from its topic (dynamic ones are only their hash)."""
    return to_hex if is_hashed_when_indexed(abi_type) else _word_decoder(abi_type)


def _word_decoder(abi_type: str) -> WordDecoder:
    """A decoder of one 32-byte word of a static elementary type, without eth-abi (the hot path)."""
    if abi_type == "address":
        return lambda word: checksummed("0x" + word[12:].hex())
    if abi_type.startswith("uint"):
        return lambda word: int.from_bytes(word, "big")
    if abi_type.startswith("int"):
        return lambda word: int.from_bytes(word, "big", signed=True)
    if abi_type == "bool":
        return lambda word: word != _ZERO_WORD
    if _is_fixed_bytes(abi_type):
        size = int(abi_type[5:])
        return lambda word: to_hex(word[:size])
    raise ValueError(f"{abi_type} is not a one-word type")


def _json_value(abi_type: str, value: Any) -> Any:
    """An eth-abi decoded value in the JSON-ready form of the module docstring."""
    if abi_type == "address":
        return checksummed(value.lower())
    if isinstance(value, bytes | bytearray):
        return to_hex(value)
    if isinstance(value, list | tuple):
        inner = abi_type[: abi_type.rindex("[")] if abi_type.endswith("]") else ""
        return [_json_value(inner, item) for item in value]
    return value


# --- logs of many contracts ------------------------------------------------------------------------------------------
def _too_many_results(exc: ChainError) -> bool:
    text = str(exc).lower()
    return any(hint in text for hint in ("more than", "too many", "limit exceeded", "range", "-32005", "timeout"))


class EventReader:
    """Reads and decodes the events of several contracts (see the module docstring).

    ``client`` is a :class:`~anacostia_blockchain.chain.rpc.ChainClient`. ``contracts`` maps a name
    (``"ModelNFT"``) to ``(address, abi)``; :meth:`for_artifacts` takes the ABIs from the shipped artifacts.
    """

    def __init__(self, client: ChainClient, contracts: Mapping[str, tuple[str, Sequence[Mapping[str, Any]]]]) -> None:
        self.client = client
        self._by_address: dict[str, tuple[str, dict[str, EventSpec]]] = {}
        for name, (address, abi) in contracts.items():
            table = {spec.topic0_hex: spec for spec in event_specs(abi) if not spec.anonymous}
            self._by_address[address.lower()] = (name, table)
        self.addresses = [checksummed(a) for a in self._by_address]

    @classmethod
    def for_artifacts(cls, client: ChainClient, addresses: Mapping[str, str]) -> EventReader:
        """A reader of shipped contracts by artifact name: ``{"ModelNFT": "0x..", ...}``."""
        contracts: dict[str, tuple[str, Sequence[Mapping[str, Any]]]] = {}
        for name, address in addresses.items():
            try:
                contracts[name] = (address, load_artifact(name).abi)
            except CompilerError as exc:
                raise ConfigurationError(f"no compiled artifact for {name}: run `make compile`") from exc
        return cls(client, contracts)

    def head(self) -> int:
        return self.client.block_number()

    def read(self, from_block: int, to_block: int) -> list[EventLog]:
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

    def decode(self, raw: Mapping[str, Any]) -> EventLog | None:
        """Decode one raw ``eth_getLogs`` entry; ``None`` for an unknown contract/event or a removed log."""
        known = self._by_address.get(str(raw["address"]).lower())
        topics = raw.get("topics") or []
        if known is None or not topics:
            return None
        contract, table = known
        spec = table.get(str(topics[0]).lower())
        return spec.decode(raw, contract) if spec is not None else None

    def block_hashes(self, numbers: Iterable[int]) -> dict[int, str]:
        """Current hashes of the given blocks (one batched request); blocks the node does not have are omitted."""
        return self.client.block_hashes(numbers)


# --- logs in a receipt -----------------------------------------------------------------------------------------------
def receipt_events(contract: Contract, receipt: Receipt, event_name: str) -> list[EventLog]:
    """Every ``event_name`` log ``contract`` emitted in ``receipt``, in log order.

    A receipt holds the logs of every contract the transaction touched (a marketplace purchase also carries the
    license token's ``Transfer``), so logs are matched on the emitting address first.
    """
    found = []
    for raw in receipt.get("logs") or []:
        if str(raw.get("address", "")).lower() != contract.address.lower():
            continue
        log = contract.decode_log(raw)
        if log is not None and log.name == event_name:
            found.append(log)
    return found


def single_event(contract: Contract, receipt: Receipt, event_name: str) -> EventLog:
    """The one ``event_name`` log ``contract`` emitted in ``receipt``; :class:`ChainError` if not exactly one."""
    logs = receipt_events(contract, receipt, event_name)
    if len(logs) != 1:
        raise ChainError(
            f"expected one {contract.name}.{event_name} event in tx {receipt.get('transactionHash')}, got {len(logs)}"
        )
    return logs[0]
