"""The one place node error objects become exceptions: each client's wordings and revert-data locations.

Nodes agree on the JSON-RPC envelope (``code``, ``message``, ``data``) and on little else. Which condition an error
reports is read from its message, with the wordings of each client (:data:`WORDINGS`, one row per wording seen
from a real node; docs/chain.md shows the table). Revert data sits in different places:

==================== ============================================================================================
``error.data``       anvil and geth (``code`` 3, ``data`` the hex revert bytes)
``error.data.data``  Hardhat Network (``data`` an object: ``message``, ``data`` hex, ``txHash`` for a mined revert)
``error.data.result`` Ganache (``data`` an object: ``result`` hex, ``reason``, ``message``, ``programCounter``)
==================== ============================================================================================

A revert reported by ``eth_sendRawTransaction`` together with a transaction hash (Hardhat's ``error.data.txHash``)
is a *mined* revert: the transaction is in a block and its nonce is used (:attr:`RpcErrorReply.mined_tx_hash`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

from ...errors import ChainError, ContractRevertError, InsufficientFundsError, NonceError, TransactionError
from ..abi.revert import decode_revert
from ..encoding import hex_to_bytes


class Condition(enum.Enum):
    """What a node's error says, whatever its wording."""

    NONCE_TOO_LOW = "nonce too low"
    NONCE_TOO_HIGH = "nonce too high (refused, not queued)"
    INSUFFICIENT_FUNDS = "insufficient funds"
    UNDERPRICED = "fee too low"
    ALREADY_KNOWN = "already known"
    GAS_TOO_LOW = "gas limit below the intrinsic gas"
    METHOD_UNSUPPORTED = "method not supported"
    REVERT = "execution reverted"


@dataclass(frozen=True)
class Wording:
    """One way a client words a condition (``pattern`` is matched case-insensitively against the message)."""

    condition: Condition
    pattern: str
    clients: tuple[str, ...]

    def matches(self, message: str) -> bool:
        return re.search(self.pattern, message, re.IGNORECASE) is not None


#: Every wording recognised, with the clients it was observed from (tests/chain/peer_nodes/test_error_wordings.py
#: provokes each condition on anvil, Hardhat Network and Ganache and checks the row).
WORDINGS: tuple[Wording, ...] = (
    Wording(Condition.NONCE_TOO_LOW, r"nonce too low", ("anvil", "hardhat", "geth")),
    Wording(Condition.NONCE_TOO_LOW, r"nonce has already been used", ("other",)),
    Wording(Condition.NONCE_TOO_LOW, r"the tx doesn't have the correct nonce", ("ganache",)),
    Wording(Condition.NONCE_TOO_HIGH, r"nonce too high", ("hardhat",)),
    Wording(Condition.INSUFFICIENT_FUNDS, r"insufficient funds", ("anvil", "ganache", "geth")),
    Wording(Condition.INSUFFICIENT_FUNDS, r"sender doesn't have enough funds", ("hardhat",)),
    Wording(Condition.UNDERPRICED, r"underpriced", ("anvil", "hardhat", "ganache", "geth")),
    Wording(Condition.UNDERPRICED, r"less than (the )?block base fee|fee cap less than", ("anvil", "geth")),
    Wording(Condition.UNDERPRICED, r"maxfeepergas .* too low for the next block", ("hardhat",)),
    Wording(Condition.UNDERPRICED, r"maxfeepergas .* is less than the block's basefeepergas", ("ganache",)),
    Wording(Condition.GAS_TOO_LOW, r"intrinsic gas too low", ("anvil", "ganache", "geth")),
    Wording(Condition.GAS_TOO_LOW, r"transaction requires at least \d+ gas", ("hardhat",)),
    Wording(Condition.ALREADY_KNOWN, r"already known|already imported|known transaction", ("anvil", "hardhat", "geth")),
    Wording(Condition.METHOD_UNSUPPORTED, r"method not found|method .* is not supported", ("anvil", "hardhat")),
    Wording(Condition.METHOD_UNSUPPORTED, r"method .* does not exist", ("ganache", "geth")),
    Wording(Condition.REVERT, r"\brevert(ed)?\b", ("anvil", "hardhat", "ganache", "geth")),
)

_METHOD_UNSUPPORTED_CODES = (-32601, -32004)
_HEX_DATA = re.compile(r"^0x([0-9a-fA-F]{2})*$")


def _hex_bytes(value: Any) -> bytes | None:
    if isinstance(value, str) and _HEX_DATA.match(value):
        return hex_to_bytes(value)
    return None


@dataclass(frozen=True)
class RpcErrorReply:
    """A JSON-RPC ``error`` object as the node sent it."""

    method: str
    code: int
    message: str
    data: Any = None

    @property
    def lowered(self) -> str:
        return self.message.lower()

    @property
    def conditions(self) -> frozenset[Condition]:
        """Every condition the message words (usually one)."""
        found = {w.condition for w in WORDINGS if w.matches(self.message)}
        if self.code in _METHOD_UNSUPPORTED_CODES:
            found.add(Condition.METHOD_UNSUPPORTED)
        return frozenset(found)

    def says(self, condition: Condition) -> bool:
        return condition in self.conditions

    @property
    def is_nonce_too_low(self) -> bool:
        return self.says(Condition.NONCE_TOO_LOW)

    @property
    def is_nonce_too_high(self) -> bool:
        """The node refused a nonce ahead of the account's instead of queueing it (Hardhat while automining)."""
        return self.says(Condition.NONCE_TOO_HIGH)

    @property
    def is_already_known(self) -> bool:
        return self.says(Condition.ALREADY_KNOWN)

    @property
    def is_underpriced(self) -> bool:
        return self.says(Condition.UNDERPRICED)

    @property
    def is_insufficient_funds(self) -> bool:
        return self.says(Condition.INSUFFICIENT_FUNDS)

    @property
    def is_method_unsupported(self) -> bool:
        return self.says(Condition.METHOD_UNSUPPORTED)

    @property
    def mined_tx_hash(self) -> str | None:
        """The hash of the transaction this error reports as mined and reverted (Hardhat's ``data.txHash``)."""
        if isinstance(self.data, dict):
            tx_hash = self.data.get("txHash") or self.data.get("transactionHash")
            if isinstance(tx_hash, str) and tx_hash.startswith("0x") and len(tx_hash) == 66:
                return tx_hash
        return None

    @property
    def revert_data_location(self) -> str | None:
        """Where the revert bytes sit in this error (``"error.data"``, ``"error.data.data"``, ``"error.data.result"``,
        ``"error.data.data.data"``), ``None`` when it carries none."""
        if _hex_bytes(self.data) is not None:
            return "error.data"
        if not isinstance(self.data, dict):
            return None
        for key in ("data", "result"):
            value = self.data.get(key)
            if _hex_bytes(value) is not None:
                return f"error.data.{key}"
            if isinstance(value, dict) and _hex_bytes(value.get("data")) is not None:
                return f"error.data.{key}.data"
        return None

    @property
    def revert_data(self) -> bytes | None:
        """Revert bytes when this error is an EVM revert, wherever the client put them (``b""`` for a revert
        without data); ``None`` when it is not a revert (Ganache also puts a transaction hash in ``data.result`` of
        errors that are not reverts, so the wording decides, or JSON-RPC code 3)."""
        if self.code != 3 and not self.says(Condition.REVERT):
            return None
        location = self.revert_data_location
        if location is None:
            return b""
        value = self.data
        for key in location.split(".")[2:]:  # below "error.data"
            value = value[key]
        return _hex_bytes(value) or b""

    @property
    def reason(self) -> str | None:
        """The revert reason the node put in words, when the data does not carry one."""
        if isinstance(self.data, dict) and isinstance(self.data.get("reason"), str):
            return str(self.data["reason"])
        return _reason_from_message(self.message)

    def as_revert(self, *, receipt: Any = None, tx_hash: str | None = None) -> ContractRevertError | None:
        """The decoded revert this reply reports (``None`` when it is not a revert), built with the given facts of
        the mined transaction it belongs to, if any (by default, the mined transaction the reply names)."""
        data = self.revert_data
        if data is None:
            return None
        return decode_revert(
            data, fallback_reason=self.reason, rpc_error=self, receipt=receipt, tx_hash=tx_hash or self.mined_tx_hash
        )


_HAVE_WANT = re.compile(r"have (\d+) want (\d+)")
_HARDHAT_FUNDS = re.compile(r"upfront cost is: (\d+) and the sender's (?:account only has|balance is): (\d+)", re.I)


def _funds_detail(message: str) -> str:
    match = _HAVE_WANT.search(message)
    if match:
        return f": needs {int(match.group(2))} wei, account has {int(match.group(1))} wei"
    match = _HARDHAT_FUNDS.search(message)
    if match:
        return f": needs {int(match.group(1))} wei, account has {int(match.group(2))} wei"
    return ""


def translate_rpc_error(error: RpcErrorReply) -> ChainError:
    """Map a node's error reply onto the exception tree (the returned error carries it as ``rpc_error``)."""
    revert = error.as_revert()
    if revert is not None:
        return revert
    if error.is_insufficient_funds:
        detail = _funds_detail(error.message)
        return InsufficientFundsError(
            f"insufficient funds for gas * price + value{detail} ({error.message})", rpc_error=error
        )
    if error.is_nonce_too_low or error.is_nonce_too_high:
        return NonceError(f"{error.method}: {error.message}", rpc_error=error)
    if error.is_underpriced or error.is_already_known or error.says(Condition.GAS_TOO_LOW):
        return TransactionError(f"{error.method}: {error.message}", rpc_error=error)
    return ChainError(f"{error.method} failed ({error.code}): {error.message}", rpc_error=error)


_REVERT_PREFIXES = (
    "execution reverted",
    "error: vm exception while processing transaction: reverted with reason string",
    "vm exception while processing transaction: revert",
)


def _reason_from_message(message: str) -> str | None:
    lowered = message.lower()
    for prefix in _REVERT_PREFIXES:
        if lowered.startswith(prefix):
            rest = message[len(prefix) :].lstrip(": ").strip().strip("'")
            return rest or None
    return None
