"""``GasLimits``: one ``eth_estimateGas`` per call shape instead of one per transaction.

A contract function called with arguments of the same ABI length costs about the same gas, so the limit estimated
for the first call of a *shape* (target, selector, whether value is sent, calldata length — see
:func:`call_shape`) is reused for every later call of that shape: no RPC round trip on the hot path.
Deployments are never cached (every one is different). When a cached limit turns out too low for some arguments,
:meth:`GasLimits.forget` drops it and the next lookup estimates afresh (``TxSender`` does that on an out-of-gas
receipt).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

Estimator = Callable[[str | None, bytes, int], int]  # (to, data, value) -> gas limit, margin included
CallShape = tuple[str | None, bytes, bool, int]


def call_shape(to: str | None, data: bytes, value: int) -> CallShape:
    """What a call's gas use depends on, as far as a cache can tell: target, selector, value sent, calldata size."""
    return (to, data[:4], value != 0, len(data))


class GasLimits:
    """Thread-safe cache of gas limits per call shape in front of an estimator."""

    def __init__(self, estimate: Estimator) -> None:
        self._estimate = estimate
        self._limits: dict[CallShape, int] = {}
        self._lock = threading.Lock()

    def for_call(self, to: str | None, data: bytes, value: int) -> int:
        """The gas limit for this call: cached for its shape, estimated on first use (a revert raises)."""
        if to is None:
            return self._estimate(None, data, value)
        key = call_shape(to, data, value)
        cached = self._limits.get(key)
        if cached is not None:
            return cached
        with self._lock:  # concurrent first uses of a shape estimate it once
            cached = self._limits.get(key)
            if cached is None:
                cached = self._estimate(to, data, value)
                self._limits[key] = cached
            return cached

    def cached(self, to: str | None, data: bytes, value: int) -> int | None:
        """The limit cached for this call's shape, or ``None`` when it has not been estimated yet."""
        return self._limits.get(call_shape(to, data, value))

    def forget(self, to: str | None, data: bytes, value: int) -> None:
        """Drop the cached limit for this call's shape (it proved too low)."""
        self._limits.pop(call_shape(to, data, value), None)
