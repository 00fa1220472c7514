"""Decode revert data into typed errors.

- ``Error(string)`` (selector ``0x08c379a0``) -> :class:`RevertWithReason` with the reason as ``error_args[0]``.
- ``Panic(uint256)`` (``0x4e487b71``) -> :class:`PanicError`; the message names the panic (overflow, division by
  zero, ...).
- any custom error declared in a shipped ABI (``chain/artifacts/*.json``, read lazily once) or in an ABI given to
  :func:`register_abi` -> :class:`CustomContractError` with the error name and its decoded arguments.
- anything else (empty data, unknown selector) -> plain :class:`ContractRevertError` with the raw ``data``.

A ``bytes32`` argument named like a role (``neededRole``) that is a known access-control role is shown by its name
in the message (:mod:`.roles`: ``neededRole=MINTER_ROLE``); ``error_args`` keep the raw bytes.

Two contracts may declare the same error signature; that is one selector and one meaning, so the table is keyed by
selector and the first ABI wins.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak

from ...errors import ContractRevertError, CustomContractError, PanicError, RevertWithReason
from ..encoding import hex_to_bytes, to_hex
from .artifacts import shipped_abis
from .roles import register_roles, role_name
from .types import abi_type_of, format_value

ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
PANIC_SELECTOR = bytes.fromhex("4e487b71")

#: Solidity panic codes (docs.soliditylang.org, "Panic via assert and error via require").
PANIC_CODES: dict[int, str] = {
    0x00: "generic compiler-inserted panic",
    0x01: "assert(false)",
    0x11: "arithmetic overflow/underflow",
    0x12: "division or modulo by zero",
    0x21: "conversion to an invalid enum value",
    0x22: "incorrectly encoded storage byte array",
    0x31: ".pop() on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory (too large allocation)",
    0x51: "call to a zero-initialized internal function variable",
}


@dataclass(frozen=True)
class CustomErrorSpec:
    name: str
    input_names: tuple[str, ...]
    input_types: tuple[str, ...]
    source: str

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.input_types)})"


class ErrorTable:
    """Selector -> custom error spec. Thread-safe; shipped ABIs are loaded on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._specs: dict[bytes, CustomErrorSpec] = {}
        self._shipped_loaded = False

    def register_abi(self, abi: Iterable[dict[str, Any]], source: str = "registered") -> int:
        """Add the custom errors of ``abi``; returns how many new selectors were added."""
        added = 0
        with self._lock:
            for entry in abi:
                if entry.get("type") != "error":
                    continue
                inputs = entry.get("inputs", [])
                spec = CustomErrorSpec(
                    name=entry["name"],
                    input_names=tuple(i.get("name") or f"arg{n}" for n, i in enumerate(inputs)),
                    input_types=tuple(abi_type_of(i) for i in inputs),
                    source=source,
                )
                selector = keccak(text=spec.signature)[:4]
                if selector not in self._specs:
                    self._specs[selector] = spec
                    added += 1
        return added

    def _ensure_shipped(self) -> None:
        if self._shipped_loaded:
            return
        for name, abi in shipped_abis():
            self.register_abi(abi, source=name)
        self._shipped_loaded = True

    def lookup(self, selector: bytes) -> CustomErrorSpec | None:
        self._ensure_shipped()
        return self._specs.get(selector)


_TABLE = ErrorTable()


def register_abi(abi: Iterable[dict[str, Any]], source: str = "registered") -> int:
    """Make the custom errors of an extra ABI decodable everywhere (e.g. a third-party contract's), and its role
    getters known by name (:func:`~.roles.register_roles`)."""
    abi = list(abi)
    register_roles(abi)
    return _TABLE.register_abi(abi, source)


def decode_revert(
    data: bytes | str | None,
    fallback_reason: str | None = None,
    *,
    rpc_error: Any = None,
    receipt: Any = None,
    tx_hash: str | None = None,
) -> ContractRevertError:
    """Turn revert data into the matching :class:`ContractRevertError` subclass (returned, not raised).

    ``rpc_error`` (the node's error reply), ``receipt`` and ``tx_hash`` (of a mined transaction that reverted) are
    facts the caller knows; the error is built with them.
    """
    raw = _to_bytes(data)
    facts: dict[str, Any] = {"data": raw, "rpc_error": rpc_error, "receipt": receipt, "tx_hash": tx_hash}
    if len(raw) < 4:
        reason = fallback_reason or "no revert data (a bare revert(), require without message, or out of gas)"
        return ContractRevertError(f"execution reverted: {reason}", **facts)
    selector, body = raw[:4], raw[4:]
    facts["selector"] = to_hex(selector)
    if selector == ERROR_STRING_SELECTOR:
        return _decode_error_string(body, facts)
    if selector == PANIC_SELECTOR:
        return _decode_panic(body, facts)
    return _decode_custom(selector, body, facts)


def _decode_error_string(body: bytes, facts: dict[str, Any]) -> ContractRevertError:
    try:
        (reason,) = abi_decode(["string"], body)
    except (DecodingError, ValueError, OverflowError):
        return ContractRevertError("execution reverted with a malformed Error(string)", **{**facts, "selector": None})
    return RevertWithReason(f"execution reverted: {reason}", error_name="Error", args=(reason,), **facts)


def _decode_panic(body: bytes, facts: dict[str, Any]) -> ContractRevertError:
    try:
        (code,) = abi_decode(["uint256"], body)
    except (DecodingError, ValueError, OverflowError):
        return ContractRevertError("execution reverted with a malformed Panic(uint256)", **{**facts, "selector": None})
    meaning = PANIC_CODES.get(code, "unknown panic code")
    return PanicError(f"panic 0x{code:02x}: {meaning}", error_name="Panic", args=(code,), **facts)


def _decode_custom(selector: bytes, body: bytes, facts: dict[str, Any]) -> ContractRevertError:
    spec = _TABLE.lookup(selector)
    if spec is None:
        return ContractRevertError(
            f"execution reverted with unknown custom error {facts['selector']} (register its ABI with register_abi)",
            **facts,
        )
    try:
        values = tuple(abi_decode(list(spec.input_types), body))
    except (DecodingError, ValueError, OverflowError):
        return ContractRevertError(f"execution reverted with {spec.name} but its arguments do not decode", **facts)
    shown = ", ".join(
        f"{name}={_shown(name, kind, value)}"
        for name, kind, value in zip(spec.input_names, spec.input_types, values, strict=True)
    )
    return CustomContractError(f"{spec.name}({shown})", error_name=spec.name, args=values, **facts)


def _shown(name: str, abi_type: str, value: Any) -> str:
    """An argument as the message shows it: a known role by its name, anything else by :func:`format_value`."""
    if abi_type == "bytes32" and "role" in name.lower():
        known = role_name(value)
        if known is not None:
            return known
    return format_value(value)


def _to_bytes(data: bytes | str | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    try:
        return hex_to_bytes(data)
    except ValueError:
        return b""
