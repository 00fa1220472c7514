"""PIL terms on the Python side: presets as Story documents them, exact revenue-share units, typed validation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from anacostia_blockchain.chain.story import addresses_for_chain, ip_id_for
from anacostia_blockchain.chain.story.terms import (
    MAX_REVENUE_SHARE,
    PIL_URIS,
    PILTerms,
    commercial_remix,
    commercial_use,
    non_commercial_social_remixing,
    revenue_share_units,
    terms_from_config,
)
from anacostia_blockchain.errors import ConfigurationError

CURRENCY = "0xF2104833d386a2734a4eB3B8ad6FC6812F29E38E"


def test_non_commercial_social_remixing_matches_storys_flavor() -> None:
    terms = non_commercial_social_remixing()
    assert not terms.commercial_use and not terms.commercial_attribution
    assert terms.derivatives_allowed and terms.derivatives_attribution and terms.derivatives_reciprocal
    assert not terms.derivatives_approval and terms.default_minting_fee == 0
    assert terms.uri == PIL_URIS["non_commercial_social_remixing"]


def test_commercial_presets_carry_fee_currency_and_share() -> None:
    use = commercial_use(minting_fee=7, currency=CURRENCY.lower())
    assert use.commercial_use and not use.derivatives_allowed
    assert (use.default_minting_fee, use.currency) == (7, CURRENCY)  # addresses normalized to checksum form
    remix = commercial_remix(minting_fee=3, currency=CURRENCY, rev_share_percent=Decimal("12.5"))
    assert remix.commercial_rev_share == 12_500_000
    assert remix.derivatives_allowed and remix.derivatives_reciprocal
    assert terms_from_config("commercial_remix", minting_fee=3, currency=CURRENCY, rev_share_percent="12.5") == remix


def test_as_tuple_round_trips_all_17_fields() -> None:
    terms = commercial_remix(minting_fee=1, currency=CURRENCY, rev_share_percent=5)
    values = terms.as_tuple()
    assert len(values) == 17
    assert PILTerms.from_tuple(values) == terms


@pytest.mark.parametrize(
    ("percent", "units"), [(0, 0), (100, MAX_REVENUE_SHARE), ("0.000001", 1), ("33.333333", 33_333_333)]
)
def test_revenue_share_units_are_exact(percent: object, units: int) -> None:
    assert revenue_share_units(percent) == units  # type: ignore[arg-type]


@pytest.mark.parametrize("percent", [-1, 101, "0.0000001", "nan", "ten"])
def test_revenue_share_out_of_range_is_a_configuration_error(percent: object) -> None:
    with pytest.raises(ConfigurationError):
        revenue_share_units(percent)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"default_minting_fee": 5},  # a fee without a currency
        {"commercial_attribution": True},  # commercial option on non-commercial terms
        {"derivatives_reciprocal": True},  # derivative option without derivatives
        {"commercial_rev_share": MAX_REVENUE_SHARE + 1},
        {"default_minting_fee": -1},
        {"currency": "0x1234"},
    ],
)
def test_inconsistent_terms_are_refused_before_any_transaction(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        PILTerms(**changes)  # type: ignore[arg-type]


def test_unknown_preset_and_unknown_network_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="unknown PIL preset"):
        terms_from_config("free-for-all")
    with pytest.raises(ConfigurationError, match="no published deployment"):
        addresses_for_chain(31337)


def test_aeneid_and_mainnet_share_core_addresses() -> None:
    aeneid, mainnet = addresses_for_chain(1315), addresses_for_chain(1514)
    assert aeneid.ip_asset_registry == mainnet.ip_asset_registry == "0x77319B4031e6eF1250907aa00018B8B1c67a244b"
    assert aeneid.licensing_module == mainnet.licensing_module == "0x04fbd8a2e56dd85CFD5500A4A4DfA955B9f1dE6f"
    # the same NFT has a different ipId on each chain: the chain id is part of the ERC-6551 salt data
    token = "0x8464135c8F25Da09e49BC8782676a84730C318bC"
    assert ip_id_for(1315, token, 1) != ip_id_for(1514, token, 1)
    with pytest.raises(ConfigurationError):
        ip_id_for(1315, token, 1, salt=b"short")
