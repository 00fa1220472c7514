"""``Contract``: a thin handle on a deployed contract — its address and ABI, encoding and decoding with eth-abi.

A handle is built on a connection: :meth:`Contract.at` for a shipped artifact by name (checking that code lives at
the address), :meth:`Contract.from_artifact` for any :class:`~.artifacts.ContractArtifact`, :meth:`Contract.from_abi`
for an ABI from elsewhere. The connection itself never loads artifacts.

Function and event lookups are computed once per handle from the ABI, so ``encode`` on a hot path is a dict lookup
plus ``eth_abi.encode``. Overloads are resolved by argument count; pass a full signature (``"f(uint256,bytes)"``)
when two overloads take the same number of arguments. Events decode as described in :mod:`.events`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils import keccak

from ...errors import ChainConnectionError, ChainError, ConfigurationError, ValidationError
from ..encoding import block_tag, checksum, checksummed, hex_to_bytes, to_hex
from .artifacts import ContractArtifact, load_artifact
from .events import EventLog, EventSpec, event_specs, is_hashed_when_indexed
from .revert import register_abi
from .types import abi_type_of, signature_of

if TYPE_CHECKING:
    from ..rpc.client import ChainClient
    from ..rpc.receipt import Receipt

#: One read in a batch: the call's arguments and the block to read at (a number or a tag such as ``"latest"``).
CallAt = tuple[tuple[Any, ...], int | str]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    signature: str
    selector: bytes
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    mutability: str

    @classmethod
    def from_abi(cls, entry: dict[str, Any]) -> FunctionSpec:
        signature = signature_of(entry)
        return cls(
            name=entry["name"],
            signature=signature,
            selector=keccak(text=signature)[:4],
            input_types=tuple(abi_type_of(i) for i in entry.get("inputs", [])),
            output_types=tuple(abi_type_of(o) for o in entry.get("outputs", [])),
            mutability=entry.get("stateMutability", "nonpayable"),
        )


class Contract:
    """A deployed contract: ``.address``, ``.call(fn, *args)``, ``.encode(fn, *args)``, ``.events(name, ...)``."""

    def __init__(self, client: ChainClient, name: str, abi: list[dict[str, Any]], address: str) -> None:
        self.client = client
        self.name = name
        self.abi = abi
        self.address = checksum(address)
        #: Set by :meth:`TxSender.deploy` on the handle it returns: the receipt of the creating transaction.
        self.deployment_receipt: Receipt | None = None
        self._functions: dict[str, list[FunctionSpec]] = {}
        self._by_signature: dict[str, FunctionSpec] = {}
        for entry in abi:
            if entry.get("type") == "function":
                fn = FunctionSpec.from_abi(entry)
                self._functions.setdefault(fn.name, []).append(fn)
                self._by_signature[fn.signature] = fn
        self._events = {spec.name: spec for spec in event_specs(abi)}
        self._events_by_topic = {spec.topic0_hex: spec for spec in self._events.values() if not spec.anonymous}
        register_abi(abi, source=name)  # its custom errors decode everywhere, shipped or not

    # --- constructors -------------------------------------------------------------------------------------------------
    @classmethod
    def at(cls, client: ChainClient, name: str, address: str, *, check_code: bool = True) -> Contract:
        """The shipped artifact ``name`` at ``address`` (:class:`NoContractCodeError` when no code lives there)."""
        return cls.from_artifact(client, load_artifact(name), address, check_code=check_code)

    @classmethod
    def from_artifact(
        cls, client: ChainClient, artifact: ContractArtifact, address: str, *, check_code: bool = True
    ) -> Contract:
        """A handle with ``artifact``'s ABI at ``address`` (code checked unless ``check_code=False``)."""
        address = client.require_code(address, artifact.name) if check_code else checksum(address)
        return cls(client, artifact.name, artifact.abi, address)

    @classmethod
    def from_abi(cls, client: ChainClient, name: str, abi: list[dict[str, Any]], address: str) -> Contract:
        """A handle with an ABI from elsewhere (a third-party interface); the address is not checked."""
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
        """A call's return data as Python values: one output -> the value, several -> a tuple, none -> ``None``."""
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

    def call_request(
        self, fn: str, *args: Any, block: int | str = "latest", caller: str | None = None
    ) -> tuple[str, list[Any]]:
        """The ``eth_call`` of ``fn(*args)`` as a JSON-RPC ``(method, params)`` pair, e.g. for a larger batch."""
        data = self.encode(fn, *args)
        tx: dict[str, Any] = {"to": self.address, "data": to_hex(data)}
        if caller is not None:
            tx["from"] = checksum(caller)
        return "eth_call", [tx, block_tag(block)]

    def decode_reply(self, fn: str, nargs: int, reply: Any) -> Any:
        """The decoded result of an ``eth_call`` reply to :meth:`call_request` (``fn`` with ``nargs`` arguments)."""
        if not isinstance(reply, str) or not reply.startswith("0x"):
            raise ChainConnectionError(
                f"{self.name}.{fn}: the node answered {type(reply).__name__} instead of hex data"
            )
        try:
            data = hex_to_bytes(reply)
        except ValueError as exc:
            raise ChainConnectionError(f"{self.name}.{fn}: the node answered malformed hex data") from exc
        return self.decode_output(self.function(fn, nargs), data)

    def call(self, fn: str, *args: Any, block: int | str = "latest", caller: str | None = None) -> Any:
        """``eth_call`` at ``block`` (as ``caller`` when given: ``msg.sender`` matters for access checks); a revert
        raises the decoded :class:`ContractRevertError`."""
        method, params = self.call_request(fn, *args, block=block, caller=caller)
        return self.decode_reply(fn, len(args), self.client.rpc(method, params))

    def call_many(self, fn: str, calls: Sequence[CallAt]) -> list[Any]:
        """Many read-only calls of one function in one batched JSON-RPC request.

        ``calls`` are ``(args, block)`` pairs; each result is the decoded value or the :class:`ChainError` the node
        answered for that call (a revert is decoded), so one bad call does not hide the others.
        """
        if not calls:
            return []
        replies = self.client.rpc_batch([self.call_request(fn, *args, block=block) for args, block in calls])
        return [
            reply if isinstance(reply, ChainError) else self.decode_reply(fn, len(args), reply)
            for (args, _block), reply in zip(calls, replies, strict=True)
        ]

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
        topics: list[Any] = [None if spec.anonymous else spec.topic0_hex]
        for name, kind in spec.indexed:
            topics.append(_topic(kind, indexed.pop(name)) if name in indexed else None)
        if indexed:
            raise ConfigurationError(f"{event_name} has no indexed argument(s) {sorted(indexed)}")
        while topics and topics[-1] is None:
            topics.pop()
        params = {
            "address": self.address,
            "fromBlock": block_tag(from_block),
            "toBlock": block_tag(to_block),
            "topics": topics,
        }
        raw_logs = self.client.rpc("eth_getLogs", [params]) or []
        return [log for log in (self._decode(spec, raw) for raw in raw_logs) if log is not None]

    def decode_log(self, raw: dict[str, Any]) -> EventLog | None:
        """Decode one raw log emitted by this contract's ABI (``None`` when it is not one of its events or does not
        decode)."""
        topics = raw.get("topics") or []
        if not topics:
            return None
        spec = self._events_by_topic.get(str(topics[0]).lower())
        return self._decode(spec, raw) if spec else None

    def _decode(self, spec: EventSpec, raw: dict[str, Any]) -> EventLog | None:
        try:
            return spec.decode(raw, self.name)
        except ValidationError:
            return None


def _topic(kind: str, value: Any) -> str:
    """The topic an indexed argument produces: static types ABI-encoded, string/bytes hashed."""
    if kind == "string":
        return to_hex(keccak(text=value))
    if kind == "bytes":
        return to_hex(keccak(bytes(value)))
    if is_hashed_when_indexed(kind):
        raise ConfigurationError(f"filtering on an indexed {kind} is not supported: filter after decoding")
    try:
        return to_hex(abi_encode([kind], [value]))
    except (EncodingError, TypeError, ValueError, OverflowError) as exc:
        raise ConfigurationError(f"cannot use {value!r} as an indexed {kind} filter: {exc}") from exc


def _normalize(value: Any, kind: str) -> Any:
    if kind == "address" and isinstance(value, str):
        return checksummed(value)
    if kind == "address[]" and isinstance(value, Sequence):
        return [checksummed(v) for v in value]
    return value


def deployment_data(artifact: ContractArtifact, *ctor_args: Any) -> bytes:
    """Creation bytecode followed by the ABI-encoded constructor arguments."""
    ctor: dict[str, Any] = next((e for e in artifact.abi if e.get("type") == "constructor"), {"inputs": []})
    types = [abi_type_of(i) for i in ctor["inputs"]]
    if len(types) != len(ctor_args):
        raise ConfigurationError(f"{artifact.name} constructor takes {len(types)} arguments, got {len(ctor_args)}")
    try:
        encoded = abi_encode(types, list(ctor_args))
    except (EncodingError, TypeError, ValueError, OverflowError) as exc:
        raise ConfigurationError(f"cannot encode {artifact.name} constructor arguments: {exc}") from exc
    return hex_to_bytes(artifact.bytecode) + encoded
