"""Picking one contract's decoded events out of a transaction receipt.

A receipt holds the logs of every contract the transaction touched (a ModelMarketplace purchase also carries the
LicenseToken's Transfer and the LicensingModule's events), so logs are matched on the emitting address first and
only then decoded with the contract's ABI.
"""

from __future__ import annotations

from ..errors import ChainError
from .contract import Contract, EventLog
from .receipt import Receipt


def receipt_events(contract: Contract, receipt: Receipt, event_name: str) -> list[EventLog]:
    """Every ``event_name`` log ``contract`` emitted in ``receipt``, in log order."""
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
