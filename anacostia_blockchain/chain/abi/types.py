"""ABI type strings from ABI JSON entries (tuples flattened to ``(t1,t2)``) and readable value formatting."""

from __future__ import annotations

from typing import Any

from ...errors import ConfigurationError
from ..encoding import checksum, to_hex


def abi_type_of(param: dict[str, Any]) -> str:
    """The canonical type of one ABI input/output, e.g. ``uint256``, ``(address,bytes32)[]``."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type_of(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature_of(entry: dict[str, Any]) -> str:
    """``name(type1,type2)`` for a function, event or error entry."""
    return f"{entry['name']}({','.join(abi_type_of(i) for i in entry.get('inputs', []))})"


def format_value(value: Any) -> str:
    """A short, readable rendering for error messages (bytes as hex, addresses checksummed)."""
    if isinstance(value, bytes | bytearray):
        return to_hex(value)
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        try:
            return checksum(value)
        except ConfigurationError:
            return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)
