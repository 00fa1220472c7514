"""``Contract``: a thin handle on a deployed contract — its address and ABI, encoding and decoding with eth-abi.

Function and event lookups are computed once per handle from the ABI, so ``encode`` on a hot path is a dict lookup
plus ``eth_abi.encode``. Overloads are resolved by argument count; pass a full signature (``"f(uint256,bytes)"``)
when two overloads take the same number of arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils import keccak, to_checksum_address

from ..errors import ChainError, ConfigurationError
from .abi_types import abi_type_of, signature_of
from .revert import register_abi

if TYPE_CHECKING:
    from .client import ChainClient
    from .compiler import Artifact
    from .receipt import Receipt


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    signature: str
    selector: bytes
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    mutability: str


@dataclass(frozen=True)
class EventSpec:
    name: str
    signature: str
    topic0: bytes
    inputs: tuple[tuple[str, str, bool], ...]  # (name, type, indexed)
    anonymous: bool


@dataclass(frozen=True)
class EventLog:
    """A decoded log. Indexed dynamic values (string, bytes, arrays) are only available as their keccak hash."""

    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    tx_hash: str
    log_index: int


class Contract:
    """A deployed contract: ``.address``, ``.call(fn, *args)``, ``.encode(fn, *args)``, ``.events(name, ...)``."""

    def __init__(self, client: ChainClient, name: str, abi: list[dict[str, Any]], address: str) -> None:
        self.client = client
        self.name = name
        self.abi = abi
        self.address = to_checksum_address(address)
        #: Set by :meth:`TxSender.deploy` on the handle it returns: the receipt of the creating transaction.
        self.deployment_receipt: Receipt | None = None
        self._functions: dict[str, list[FunctionSpec]] = {}
        self._by_signature: dict[str, FunctionSpec] = {}
        self._events: dict[str, EventSpec] = {}
        self._events_by_topic: dict[bytes, EventSpec] = {}
        for entry in abi:
            if entry.get("type") == "function":
                fn = FunctionSpec(
                    name=entry["name"],
                    signature=signature_of(entry),
                    selector=keccak(text=signature_of(entry))[:4],
                    input_types=tuple(abi_type_of(i) for i in entry.get("inputs", [])),
                    output_types=tuple(abi_type_of(o) for o in entry.get("outputs", [])),
                    mutability=entry.get("stateMutability", "nonpayable"),
                )
                self._functions.setdefault(fn.name, []).append(fn)
                self._by_signature[fn.signature] = fn
            elif entry.get("type") == "event":
                event = EventSpec(
                    name=entry["name"],
                    signature=signature_of(entry),
                    topic0=keccak(text=signature_of(entry)),
                    inputs=tuple((i["name"], abi_type_of(i), bool(i.get("indexed"))) for i in entry["inputs"]),
                    anonymous=bool(entry.get("anonymous")),
                )
                self._events[event.name] = event
                self._events_by_topic[event.topic0] = event
        register_abi(abi, source=name)  # its custom errors decode everywhere, shipped or not

    @classmethod
    def from_abi(cls, client: ChainClient, name: str, abi: list[dict[str, Any]], address: str) -> Contract:
        return cls(client, name, abi, address)

    def __repr__(self) -> str:
        return f"Contract({self.name}, {self.address})"

    # --- functions ----------------------------------------------------------------------------------------------------
    def function(self, fn: str, nargs: int | None = None) -> FunctionSpec:
        """The ABI entry for ``fn`` (a name or a full signature)."""
        if "(" in fn:
            spec = self._by_signature.get(fn.replace(" ", ""))
            if spec is None:
                raise ConfigurationError(f"{self.name} has no function {fn}")
            return spec
        candidates = self._functions.get(fn)
        if not candidates:
            known = ", ".join(sorted(self._functions)) or "none"
            raise ConfigurationError(f"{self.name} has no function {fn!r} (functions: {known})")
        if nargs is not None:
            candidates = [c for c in candidates if len(c.input_types) == nargs]
        if len(candidates) != 1:
            options = ", ".join(c.signature for c in self._functions[fn])
            raise ConfigurationError(f"{self.name}.{fn} with {nargs} arguments is ambiguous or absent: {options}")
        return candidates[0]

    def encode(self, fn: str, *args: Any) -> bytes:
        """Calldata for ``fn(*args)``; wrong argument types raise :class:`ConfigurationError` naming the function."""
        spec = self.function(fn, len(args))
        try:
            return spec.selector + abi_encode(list(spec.input_types), list(args))
        except (EncodingError, TypeError, ValueError, OverflowError) as exc:
            raise ConfigurationError(f"cannot encode {self.name}.{spec.signature} with these arguments: {exc}") from exc

    def decode_output(self, fn: str | FunctionSpec, data: bytes) -> Any:
        spec = fn if isinstance(fn, FunctionSpec) else self.function(fn)
        if not data and spec.output_types:
            raise ChainError(
                f"{self.name}.{spec.signature} returned no data: no contract code at {self.address} at that block?"
            )
        try:
            values = abi_decode(list(spec.output_types), data)
        except (DecodingError, ValueError, OverflowError) as exc:
            raise ChainError(f"{self.name}.{spec.signature} returned undecodable data ({len(data)} bytes)") from exc
        values = tuple(_normalize(v, t) for v, t in zip(values, spec.output_types, strict=True))
        if len(values) == 1:
            return values[0]
        return values if values else None

    def call(self, fn: str, *args: Any, block: int | str = "latest", caller: str | None = None) -> Any:
        """``eth_call`` at ``block`` (as ``caller`` when given: ``msg.sender`` matters for access checks); a revert
        raises the decoded :class:`ContractRevertError`."""
        spec = self.function(fn, len(args))
        data = self.encode(spec.signature, *args)
        tx: dict[str, Any] = {"to": self.address, "data": "0x" + data.hex()}
        if caller is not None:
            tx["from"] = to_checksum_address(caller)
        tag = hex(block) if isinstance(block, int) else block
        result = self.client.rpc("eth_call", [tx, tag])
        return self.decode_output(spec, bytes.fromhex(result[2:]))

    # --- events -------------------------------------------------------------------------------------------------------
    def event(self, name: str) -> EventSpec:
        spec = self._events.get(name)
        if spec is None:
            raise ConfigurationError(f"{self.name} has no event {name!r} (events: {', '.join(sorted(self._events))})")
        return spec

    def events(
        self, event_name: str, from_block: int | str = 0, to_block: int | str = "latest", **indexed: Any
    ) -> list[EventLog]:
        """Decoded logs of one event; ``indexed`` filters on indexed arguments by name (a value, or for an indexed
        ``string``/``bytes`` the value whose keccak the log carries)."""
        spec = self.event(event_name)
        topics: list[Any] = [None if spec.anonymous else "0x" + spec.topic0.hex()]
        for name, kind, is_indexed in spec.inputs:
            if not is_indexed:
                continue
            topics.append(_topic(kind, indexed.pop(name)) if name in indexed else None)
        if indexed:
            raise ConfigurationError(f"{event_name} has no indexed argument(s) {sorted(indexed)}")
        while topics and topics[-1] is None:
            topics.pop()
        params = {
            "address": self.address,
            "fromBlock": hex(from_block) if isinstance(from_block, int) else from_block,
            "toBlock": hex(to_block) if isinstance(to_block, int) else to_block,
            "topics": topics,
        }
        raw_logs = self.client.rpc("eth_getLogs", [params]) or []
        return [log for log in (self._decode_with(spec, raw) for raw in raw_logs) if log is not None]

    def decode_log(self, raw: dict[str, Any]) -> EventLog | None:
        """Decode one raw log emitted by this contract's ABI (``None`` when it is not one of its events)."""
        topics = raw.get("topics") or []
        if not topics:
            return None
        spec = self._events_by_topic.get(bytes.fromhex(topics[0][2:]))
        return self._decode_with(spec, raw) if spec else None

    def _decode_with(self, spec: EventSpec, raw: dict[str, Any]) -> EventLog | None:
        topics = [bytes.fromhex(t[2:]) for t in raw.get("topics", [])]
        if not spec.anonymous:
            topics = topics[1:]
        data = bytes.fromhex(str(raw.get("data", "0x"))[2:])
        plain = [(n, t) for n, t, idx in spec.inputs if not idx]
        try:
            plain_values = abi_decode([t for _, t in plain], data)
        except (DecodingError, ValueError, OverflowError):
            return None
        args: dict[str, Any] = {}
        topic_iter = iter(topics)
        plain_iter = iter(plain_values)
        for name, kind, is_indexed in spec.inputs:
            if is_indexed:
                topic = next(topic_iter, b"")
                args[name] = topic if _is_dynamic(kind) else _normalize(abi_decode([kind], topic)[0], kind)
            else:
                args[name] = _normalize(next(plain_iter), kind)
        return EventLog(
            name=spec.name,
            args=args,
            address=to_checksum_address(raw["address"]),
            block_number=_quantity(raw.get("blockNumber")),
            tx_hash=str(raw.get("transactionHash")),
            log_index=_quantity(raw.get("logIndex")),
        )


def _topic(kind: str, value: Any) -> str:
    """The topic an indexed argument produces: static types ABI-encoded, string/bytes hashed."""
    if kind == "string":
        return "0x" + keccak(text=value).hex()
    if kind == "bytes":
        return "0x" + keccak(bytes(value)).hex()
    if _is_dynamic(kind):
        raise ConfigurationError(f"filtering on an indexed {kind} is not supported: filter after decoding")
    try:
        return "0x" + abi_encode([kind], [value]).hex()
    except (EncodingError, TypeError, ValueError, OverflowError) as exc:
        raise ConfigurationError(f"cannot use {value!r} as an indexed {kind} filter: {exc}") from exc


def _quantity(value: Any) -> int:
    if isinstance(value, str):
        return int(value, 16)
    return int(value or 0)


def _is_dynamic(kind: str) -> bool:
    return kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")


def _normalize(value: Any, kind: str) -> Any:
    if kind == "address" and isinstance(value, str):
        return to_checksum_address(value)
    if kind == "address[]" and isinstance(value, Sequence):
        return [to_checksum_address(v) for v in value]
    return value


def deployment_data(artifact: Artifact, *ctor_args: Any) -> bytes:
    """Creation bytecode followed by the ABI-encoded constructor arguments."""
    ctor = next((e for e in artifact.abi if e.get("type") == "constructor"), {"inputs": []})
    types = [abi_type_of(i) for i in ctor["inputs"]]
    if len(types) != len(ctor_args):
        raise ConfigurationError(f"{artifact.name} constructor takes {len(types)} arguments, got {len(ctor_args)}")
    try:
        encoded = abi_encode(types, list(ctor_args))
    except (EncodingError, TypeError, ValueError, OverflowError) as exc:
        raise ConfigurationError(f"cannot encode {artifact.name} constructor arguments: {exc}") from exc
    return bytes.fromhex(artifact.bytecode[2:]) + encoded
