"""EIP-1559 fee estimates, cached.

``maxFeePerGas = base_fee_multiplier * baseFee + tip``, with ``baseFee`` the *next* block's (``eth_feeHistory``),
survives several full blocks of base-fee growth, and the estimate is reused for ``refresh_interval`` seconds so that
a busy sender makes one fee query per interval, not one per transaction. An "underpriced" rejection calls
:meth:`FeeOracle.invalidate` and the next transaction sees a fresh estimate. :func:`bump` computes replacement fees
(nodes require >= 10 % more on both fields).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...errors import ChainError
from ..encoding import quantity

if TYPE_CHECKING:
    from ..rpc.client import ChainClient

DEFAULT_TIP = 1_000_000_000  # 1 gwei, used when the node has no eth_maxPriorityFeePerGas


@dataclass(frozen=True)
class Fees:
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


def bump(old: Fees, percent: float = 12.5, floor: Fees | None = None) -> Fees:
    """Fees for a replacement transaction: at least ``percent`` above ``old`` and at least ``floor``."""
    factor = 1 + percent / 100
    tip = int(old.max_priority_fee_per_gas * factor) + 1
    fee = int(old.max_fee_per_gas * factor) + 1
    if floor is not None:
        tip = max(tip, floor.max_priority_fee_per_gas)
        fee = max(fee, floor.max_fee_per_gas)
    return Fees(max_fee_per_gas=max(fee, tip), max_priority_fee_per_gas=tip)


class FeeOracle:
    """Thread-safe cached fee estimate for one chain."""

    def __init__(
        self,
        client: ChainClient,
        refresh_interval: float = 5.0,
        base_fee_multiplier: int = 2,
        priority_fee: int | None = None,
    ) -> None:
        self.client = client
        self.refresh_interval = refresh_interval
        self.base_fee_multiplier = base_fee_multiplier
        self.priority_fee = priority_fee
        self._lock = threading.Lock()
        self._cached: Fees | None = None
        self._fetched_at = 0.0
        self.refreshes = 0

    def current(self) -> Fees:
        with self._lock:
            if self._cached is not None and time.monotonic() - self._fetched_at < self.refresh_interval:
                return self._cached
        fees = self._fetch()
        with self._lock:
            self._cached = fees
            self._fetched_at = time.monotonic()
            self.refreshes += 1
        return fees

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def _fetch(self) -> Fees:
        # feeHistory's last baseFeePerGas is the *next* block's base fee (what a new transaction must cover); the
        # latest block's own base fee is the fallback and tells a pre-London chain apart.
        calls: list[tuple[str, list[object]]] = [
            ("eth_getBlockByNumber", ["latest", False]),
            ("eth_feeHistory", [1, "latest", []]),
        ]
        if self.priority_fee is None:
            calls.append(("eth_maxPriorityFeePerGas", []))
        replies = self.client.rpc_batch(calls)
        block = replies[0]
        if isinstance(block, Exception):
            raise block
        if not block or block.get("baseFeePerGas") is None:
            raise ChainError("the chain has no EIP-1559 base fee (pre-London node): legacy fees are not supported")
        base_fee = quantity(block["baseFeePerGas"])
        history = replies[1]
        if isinstance(history, dict) and history.get("baseFeePerGas"):
            base_fee = max(base_fee, quantity(history["baseFeePerGas"][-1]))
        tip = self.priority_fee
        if tip is None:
            reply = replies[2]
            tip = DEFAULT_TIP if isinstance(reply, Exception) or reply is None else quantity(reply)
        return Fees(max_fee_per_gas=self.base_fee_multiplier * base_fee + tip, max_priority_fee_per_gas=tip)
