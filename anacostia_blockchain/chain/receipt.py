"""Transaction receipts as plain data: the node's JSON with hex quantities turned into ints."""

from __future__ import annotations

import functools
from typing import Any

from eth_utils import to_checksum_address

_QUANTITIES = (
    "blockNumber",
    "cumulativeGasUsed",
    "effectiveGasPrice",
    "gasUsed",
    "status",
    "transactionIndex",
    "type",
    "blobGasUsed",
    "blobGasPrice",
)


@functools.lru_cache(maxsize=4096)
def _checksummed(address: str) -> str:
    """Receipts repeat the same few addresses (sender, contract): checksum each once (it costs a keccak)."""
    return to_checksum_address(address)


class Receipt(dict[str, Any]):
    """A receipt dict with attribute access (``receipt.status``, ``receipt.blockNumber``, ``receipt.logs``).

    Quantities are ints; ``from``, ``to`` and ``contractAddress`` are checksummed; hashes stay hex strings; logs
    stay raw dicts (decode them with :meth:`Contract.decode_log`).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    @property
    def succeeded(self) -> bool:
        return self.get("status") == 1

    @classmethod
    def from_rpc(cls, raw: dict[str, Any]) -> Receipt:
        receipt = cls(raw)
        for key in _QUANTITIES:
            value = receipt.get(key)
            if isinstance(value, str):
                receipt[key] = int(value, 16)
        for key in ("from", "to", "contractAddress"):
            if isinstance(receipt.get(key), str):
                receipt[key] = _checksummed(receipt[key])
        for log in receipt.get("logs", []):
            for key in ("blockNumber", "logIndex", "transactionIndex"):
                if isinstance(log.get(key), str):
                    log[key] = int(log[key], 16)
        return receipt
