"""Pricing rules: exact tier and curve prices in 18-decimal USD units, and strict configuration."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from anacostia_blockchain.actions.pricing_rules import CurvePricing, TieredPricing, usd_to_units
from anacostia_blockchain.errors import ConfigurationError, ValidationError

USD = 10**18


@pytest.mark.parametrize(
    ("metric", "price"),
    [("0.97", 99), ("0.95", 99), ("0.9499999", 49), ("0.90", 49), ("0.899", 5), ("-1", 5)],
)
def test_tiers_pick_the_best_tier_reached(metric, price):
    rule = TieredPricing([("0.90", "49"), ("0.95", "99")], floor="5")
    assert rule.price_units(Decimal(metric)) == price * USD


def test_lower_is_better_tiers_and_no_floor():
    rule = TieredPricing([("0.30", "10"), ("0.10", "80")], higher_is_better=False)
    assert rule.price_units(Decimal("0.05")) == 80 * USD
    assert rule.price_units(Decimal("0.2")) == 10 * USD
    with pytest.raises(ValidationError, match="reaches no pricing tier"):
        rule.price_units(Decimal("0.31"))


def test_curve_interpolates_exactly_and_clamps():
    rule = CurvePricing([("0.8", "10"), ("0.9", "40"), ("1.0", "100")])
    assert rule.price_units(Decimal("0.7")) == 10 * USD
    assert rule.price_units(Decimal("1.5")) == 100 * USD
    assert rule.price_units(Decimal("0.85")) == 25 * USD
    # 0.9 + 1/3 of the way to 1.0 -> 40 + 20 = 60, and an irrational-looking point floored to the unit
    third = Decimal("0.9") + Decimal(1) / Decimal(30)
    expected = Fraction(40) + (Fraction(third) - Fraction("0.9")) * 600
    assert rule.price_units(third) == expected.numerator * USD // expected.denominator
    assert rule.price_units(Decimal("0.93")) == 58 * USD


@pytest.mark.parametrize(
    "build",
    [
        lambda: TieredPricing([]),
        lambda: TieredPricing([("0.9", "0")]),
        lambda: TieredPricing([("0.9", "1"), ("0.9", "2")]),
        lambda: TieredPricing([(0.9, "1")]),
        lambda: TieredPricing([("0.9", "1")], floor="0"),
        lambda: CurvePricing([("0.9", "1")]),
        lambda: CurvePricing([("0.9", "1"), ("0.9", "2")]),
        lambda: CurvePricing([("0.8", "1"), ("NaN", "2")]),
        lambda: CurvePricing([("0.8", "-1"), ("0.9", "2")]),
    ],
)
def test_bad_rules_are_configuration_errors(build):
    with pytest.raises(ConfigurationError):
        build()


def test_usd_to_units_floors_to_the_unit():
    assert usd_to_units(Decimal("49.99")) == 49_990_000_000_000_000_000
    assert usd_to_units(Fraction(1, 3)) == 333_333_333_333_333_333
