"""Access-control roles by name: a ``bytes32`` role id shown as ``MINTER_ROLE`` instead of 32 bytes of hex.

OpenZeppelin's ``AccessControl`` identifies a role by ``keccak256("<NAME>")`` (``DEFAULT_ADMIN_ROLE`` is zero) and
each contract exposes its roles as ``<NAME>()`` getters returning ``bytes32``. The table is built from those getters
in the shipped ABIs (``chain/artifacts/*.json``, read lazily once) and in any ABI given to :func:`register_roles`
(:func:`~.revert.register_abi` does so), so a decoded revert names the role it needs
(``AccessControlUnauthorizedAccount(account=0x…, neededRole=ANCHOR_ROLE)``, :mod:`.revert`). :func:`name_roles`
does the same for text that already carries role ids as ``<name>Role=0x…`` (a stored error, a log line).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

from eth_utils import keccak

from .artifacts import shipped_abis

#: The admin role of every AccessControl contract: 32 zero bytes.
DEFAULT_ADMIN_ROLE = b"\x00" * 32
_ROLE_ARGUMENT = re.compile(r"(\w*[Rr]ole\w*=)(0x[0-9a-fA-F]{64})")


def role_id(name: str) -> bytes:
    """The ``bytes32`` id of the role ``name`` (OpenZeppelin's convention: keccak of the name; admin: zero)."""
    return DEFAULT_ADMIN_ROLE if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)


def role_getters(abi: Iterable[dict[str, Any]]) -> list[str]:
    """Names of the role getters of ``abi``: view functions ``<NAME>_ROLE()`` returning one ``bytes32``."""
    return [
        entry["name"]
        for entry in abi
        if entry.get("type") == "function"
        and str(entry.get("name", "")).endswith("_ROLE")
        and not entry.get("inputs")
        and [output.get("type") for output in entry.get("outputs", [])] == ["bytes32"]
    ]


class RoleTable:
    """Role id -> name. Thread-safe; the shipped ABIs are read on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: dict[bytes, str] = {}
        self._shipped_loaded = False

    def register(self, abi: Iterable[dict[str, Any]]) -> int:
        """Add the roles of ``abi``'s getters; returns how many were new."""
        added = 0
        with self._lock:
            for name in role_getters(abi):
                if role_id(name) not in self._names:
                    self._names[role_id(name)] = name
                    added += 1
        return added

    def name_of(self, role: bytes) -> str | None:
        if not self._shipped_loaded:
            for _, abi in shipped_abis():
                self.register(abi)
            self._shipped_loaded = True
        return self._names.get(bytes(role))


_TABLE = RoleTable()


def register_roles(abi: Iterable[dict[str, Any]]) -> int:
    """Name the roles of an extra ABI's getters everywhere (e.g. a third-party contract's)."""
    return _TABLE.register(abi)


def role_name(role: bytes | str) -> str | None:
    """The name of a role id (bytes or ``0x`` hex), ``None`` when no known contract has that role."""
    if isinstance(role, str):
        try:
            role = bytes.fromhex(role.removeprefix("0x"))
        except ValueError:
            return None
    return _TABLE.name_of(role) if len(role) == 32 else None


def name_roles(text: str) -> str:
    """``text`` with every known role id given as a role argument (``neededRole=0x…``) replaced by its name."""
    if "ole" not in text:
        return text
    return _ROLE_ARGUMENT.sub(lambda m: m.group(1) + (role_name(m.group(2)) or m.group(2)), text)
