"""Pricing rules: a verifiable metric value in, a USD price (18-decimal integer units) out — exactly.

* :class:`TieredPricing` — price steps: ``[(Decimal("0.90"), Decimal("49")), (Decimal("0.95"), Decimal("99"))]``
  means 49 USD from 0.90, 99 USD from 0.95 (the best tier the value reaches; ``higher_is_better=False`` for metrics
  like loss, where reaching means "at or below"). A value reaching no tier gets ``floor`` or is refused.
* :class:`CurvePricing` — a piecewise-linear curve through ``(metric, price)`` points, clamped at both ends.

Everything is ``Decimal``/``Fraction`` arithmetic; the result is floored to whole 1e-18 USD units (the marketplace's
unit), so the same metric always gives the same integer price and anyone can recompute it from the anchored value.
Floats are refused as inputs: ``Decimal("0.9")`` or the string ``"0.9"``, never ``0.9``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Protocol

from ..chain.contracts.price_feed import USD_SCALE
from ..errors import ConfigurationError, ValidationError


def _exact(value: Decimal | int | str, what: str) -> Decimal:
    if isinstance(value, float | bool):
        raise ConfigurationError(f"{what} must be a Decimal, int or decimal string (not {type(value).__name__})")
    try:
        number = Decimal(value)
    except ArithmeticError as exc:
        raise ConfigurationError(f"{what} is not a number: {value!r}") from exc
    if not number.is_finite():
        raise ConfigurationError(f"{what} must be finite, got {value!r}")
    return number


def usd_to_units(price: Fraction | Decimal) -> int:
    """Floor a USD amount to the marketplace's 18-decimal integer units."""
    exact = Fraction(price) * USD_SCALE
    return exact.numerator // exact.denominator


class PricingRule(Protocol):
    def price_units(self, metric: Decimal) -> int:
        """USD price in 18-decimal units for a metric value."""


@dataclass(frozen=True)
class TieredPricing:
    tiers: Sequence[tuple[Decimal | int | str, Decimal | int | str]]
    higher_is_better: bool = True
    floor: Decimal | int | str | None = None

    def __post_init__(self) -> None:
        if not self.tiers:
            raise ConfigurationError("TieredPricing needs at least one (threshold, price) tier")
        parsed = [(_exact(t, "tier threshold"), _exact(p, "tier price")) for t, p in self.tiers]
        for _threshold, price in parsed:
            if price <= 0:
                raise ConfigurationError(f"tier prices must be > 0, got {price}")
        if len({t for t, _ in parsed}) != len(parsed):
            raise ConfigurationError("tier thresholds must be distinct")
        object.__setattr__(self, "tiers", tuple(sorted(parsed, reverse=self.higher_is_better)))
        if self.floor is not None and _exact(self.floor, "floor") <= 0:
            raise ConfigurationError("floor must be > 0")

    def price_units(self, metric: Decimal) -> int:
        value = _exact(metric, "metric")
        for tier_threshold, price in self.tiers:  # best threshold first (parsed to Decimal in __post_init__)
            threshold = Decimal(tier_threshold)
            reached = value >= threshold if self.higher_is_better else value <= threshold
            if reached:
                return usd_to_units(Decimal(price))
        if self.floor is None:
            raise ValidationError(f"metric {value} reaches no pricing tier and no floor price is configured")
        return usd_to_units(_exact(self.floor, "floor"))


@dataclass(frozen=True)
class CurvePricing:
    points: Sequence[tuple[Decimal | int | str, Decimal | int | str]]

    def __post_init__(self) -> None:
        parsed = sorted((_exact(m, "curve metric"), _exact(p, "curve price")) for m, p in self.points)
        if len(parsed) < 2:
            raise ConfigurationError("CurvePricing needs at least two (metric, price) points")
        if len({m for m, _ in parsed}) != len(parsed):
            raise ConfigurationError("curve metric values must be distinct")
        if any(p <= 0 for _, p in parsed):
            raise ConfigurationError("curve prices must be > 0")
        object.__setattr__(self, "points", tuple(parsed))

    def price_units(self, metric: Decimal) -> int:
        value = _exact(metric, "metric")
        points = [(Decimal(m), Decimal(p)) for m, p in self.points]  # already exact: parsed in __post_init__
        if value <= points[0][0]:
            return usd_to_units(Decimal(points[0][1]))
        if value >= points[-1][0]:
            return usd_to_units(Decimal(points[-1][1]))
        (x0, y0), (x1, y1) = next((a, b) for a, b in pairwise(points) if value <= b[0])
        fx0, fy0, fx1, fy1 = (Fraction(v) for v in (x0, y0, x1, y1))
        return usd_to_units(fy0 + (Fraction(value) - fx0) * (fy1 - fy0) / (fx1 - fx0))
