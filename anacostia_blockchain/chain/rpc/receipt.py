"""Transaction receipts as plain data: the node's JSON with hex quantities turned into ints."""

from __future__ import annotations

from typing import Any

from ..encoding import checksummed, quantity

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


class Receipt(dict[str, Any]):
    """A receipt dict with attribute access (``receipt.status``, ``receipt.blockNumber``, ``receipt.logs``).

    Quantities are ints; ``from``, ``to`` and ``contractAddress`` are checksummed; hashes stay hex strings; logs
    stay raw dicts (decode them with :meth:`~anacostia_blockchain.chain.abi.Contract.decode_log`).
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
                receipt[key] = quantity(value)
        for key in ("from", "to", "contractAddress"):
            if isinstance(receipt.get(key), str):
                receipt[key] = checksummed(receipt[key])
        for log in receipt.get("logs", []):
            for key in ("blockNumber", "logIndex", "transactionIndex"):
                if isinstance(log.get(key), str):
                    log[key] = quantity(log[key])
        return receipt
