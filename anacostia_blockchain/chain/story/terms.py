"""Programmable IP License (PIL) terms: the 17-field ``PILTerms`` struct and the presets Story's SDKs offer.

:class:`PILTerms` mirrors Story's Solidity struct field for field (same order, same types), so ``as_tuple()`` is the
ABI value of ``registerLicenseTerms((bool,address,uint256,uint256,bool,bool,address,bytes,uint32,uint256,bool,bool,
bool,bool,uint256,address,string))``. Percentages are given as percent (0-100, decimals allowed) and converted to
Story's on-chain scale where 100 % is ``100_000_000`` — the same conversion Story's SDKs apply, so terms registered
by this code and by the SDK for the same inputs get the same id (the template deduplicates by the encoded terms).

Presets follow Story's documented PIL flavors (non-commercial social remixing, commercial use, commercial remix);
the ``uri`` of each preset is the flavor's off-chain terms document as published in Story's PIL repository.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from ...errors import ConfigurationError
from ..encoding import checksum

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
#: 100 % in ``commercialRevShare`` units.
MAX_REVENUE_SHARE = 100_000_000
_UINT256_MAX = 2**256 - 1

#: Off-chain terms documents of the PIL flavors (as referenced by Story's SDKs).
PIL_URIS = {
    "non_commercial_social_remixing": "https://github.com/piplabs/pil-document/blob/998c13e6ee1d04eb817aefd1fe16dfe8be3cd7a2/off-chain-terms/NCSR.json",
    "commercial_use": "https://github.com/piplabs/pil-document/blob/9a1f803fcf8101a8a78f1dcc929e6014e144ab56/off-chain-terms/CommercialUse.json",
    "commercial_remix": "https://github.com/piplabs/pil-document/blob/ad67bb632a310d2557f8abcccd428e4c9c798db1/off-chain-terms/CommercialRemix.json",
}


def revenue_share_units(percent: float | int | str | Decimal) -> int:
    """Percent (0-100) -> Story's ``commercialRevShare`` units (exact decimal arithmetic, no float rounding)."""
    try:
        value = Decimal(str(percent))
    except InvalidOperation as exc:
        raise ConfigurationError(f"revenue share must be a number of percent, got {percent!r}") from exc
    if not value.is_finite() or value < 0 or value > 100:
        raise ConfigurationError(f"revenue share must be between 0 and 100 percent, got {percent}")
    units = value * (MAX_REVENUE_SHARE // 100)
    if units != units.to_integral_value():
        raise ConfigurationError(f"revenue share {percent}% has more precision than Story's 1e-6 % steps")
    return int(units)


@dataclass(frozen=True)
class PILTerms:
    """One set of PIL terms (Story's ``PILTerms``); validated on construction with the template's own rules."""

    transferable: bool = True
    royalty_policy: str = ZERO_ADDRESS
    default_minting_fee: int = 0
    expiration: int = 0
    commercial_use: bool = False
    commercial_attribution: bool = False
    commercializer_checker: str = ZERO_ADDRESS
    commercializer_checker_data: bytes = b""
    commercial_rev_share: int = 0
    commercial_rev_ceiling: int = 0
    derivatives_allowed: bool = False
    derivatives_attribution: bool = False
    derivatives_approval: bool = False
    derivatives_reciprocal: bool = False
    derivative_rev_ceiling: int = 0
    currency: str = ZERO_ADDRESS
    uri: str = ""

    def __post_init__(self) -> None:
        for name in ("default_minting_fee", "expiration", "commercial_rev_ceiling", "derivative_rev_ceiling"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _UINT256_MAX:
                raise ConfigurationError(f"PIL terms: {name} must be an integer in uint256 range, got {value!r}")
        if not isinstance(self.commercial_rev_share, int) or not 0 <= self.commercial_rev_share <= MAX_REVENUE_SHARE:
            raise ConfigurationError(
                f"PIL terms: commercial_rev_share must be 0..{MAX_REVENUE_SHARE} units (100% = {MAX_REVENUE_SHARE}),"
                f" got {self.commercial_rev_share!r}; use revenue_share_units(percent)"
            )
        for name in ("royalty_policy", "commercializer_checker", "currency"):
            value = getattr(self, name)
            try:
                normalized = checksum(value)  # one spelling, so equal terms compare equal
            except ConfigurationError:
                raise ConfigurationError(
                    f"PIL terms: {name} must be a 0x-prefixed 20-byte address, got {value!r}"
                ) from None
            object.__setattr__(self, name, normalized)
        object.__setattr__(self, "commercializer_checker_data", bytes(self.commercializer_checker_data))
        if self.default_minting_fee > 0 and self.currency == ZERO_ADDRESS:
            raise ConfigurationError("PIL terms: a minting fee needs a currency (an ERC-20 address)")
        if not self.commercial_use and (
            self.commercial_attribution
            or self.commercial_rev_share
            or self.commercial_rev_ceiling
            or self.derivative_rev_ceiling
            or self.royalty_policy != ZERO_ADDRESS
            or self.commercializer_checker != ZERO_ADDRESS
        ):
            raise ConfigurationError(
                "PIL terms: non-commercial terms cannot carry attribution, revenue share, ceilings, a royalty policy"
                " or a commercializer checker"
            )
        if not self.derivatives_allowed and (
            self.derivatives_attribution
            or self.derivatives_approval
            or self.derivatives_reciprocal
            or self.derivative_rev_ceiling
        ):
            raise ConfigurationError("PIL terms: derivative options need derivatives_allowed=True")

    def as_tuple(self) -> tuple[object, ...]:
        """The ABI value of the struct, in Story's field order."""
        return (
            self.transferable,
            self.royalty_policy,
            self.default_minting_fee,
            self.expiration,
            self.commercial_use,
            self.commercial_attribution,
            self.commercializer_checker,
            self.commercializer_checker_data,
            self.commercial_rev_share,
            self.commercial_rev_ceiling,
            self.derivatives_allowed,
            self.derivatives_attribution,
            self.derivatives_approval,
            self.derivatives_reciprocal,
            self.derivative_rev_ceiling,
            self.currency,
            self.uri,
        )

    @classmethod
    def from_tuple(cls, value: tuple[object, ...] | list[object]) -> PILTerms:
        """The inverse of :meth:`as_tuple` (e.g. ``getLicenseTerms`` output)."""
        if len(value) != 17:
            raise ConfigurationError(f"PILTerms has 17 fields, got {len(value)}")
        return cls(*value)

    def with_changes(self, **changes: object) -> PILTerms:
        return replace(self, **changes)  # type: ignore[arg-type]


# --- presets (Story's PIL flavors) --------------------------------------------------------------------------------
def non_commercial_social_remixing() -> PILTerms:
    """Free remixing with attribution, no commercial use, derivatives under the same terms."""
    return PILTerms(
        derivatives_allowed=True,
        derivatives_attribution=True,
        derivatives_reciprocal=True,
        uri=PIL_URIS["non_commercial_social_remixing"],
    )


def commercial_use(*, minting_fee: int, currency: str, royalty_policy: str = ZERO_ADDRESS) -> PILTerms:
    """Pay ``minting_fee`` (in ``currency`` base units) per license to use the IP commercially; no derivatives."""
    return PILTerms(
        royalty_policy=royalty_policy,
        default_minting_fee=minting_fee,
        commercial_use=True,
        commercial_attribution=True,
        currency=currency,
        uri=PIL_URIS["commercial_use"],
    )


def commercial_remix(
    *,
    minting_fee: int,
    currency: str,
    rev_share_percent: float | int | str | Decimal,
    royalty_policy: str = ZERO_ADDRESS,
) -> PILTerms:
    """Commercial use and derivatives, paying a minting fee and ``rev_share_percent`` of derivative revenue."""
    return PILTerms(
        royalty_policy=royalty_policy,
        default_minting_fee=minting_fee,
        commercial_use=True,
        commercial_attribution=True,
        commercial_rev_share=revenue_share_units(rev_share_percent),
        derivatives_allowed=True,
        derivatives_attribution=True,
        derivatives_reciprocal=True,
        currency=currency,
        uri=PIL_URIS["commercial_remix"],
    )


PRESETS = ("non_commercial_social_remixing", "commercial_use", "commercial_remix")


def terms_from_config(
    preset: str,
    *,
    minting_fee: int = 0,
    currency: str = ZERO_ADDRESS,
    rev_share_percent: float | int | str | Decimal = 0,
    royalty_policy: str = ZERO_ADDRESS,
) -> PILTerms:
    """Build terms from a preset name and its parameters (the form pipelines configure)."""
    if preset == "non_commercial_social_remixing":
        return non_commercial_social_remixing()
    if preset == "commercial_use":
        return commercial_use(minting_fee=minting_fee, currency=currency, royalty_policy=royalty_policy)
    if preset == "commercial_remix":
        return commercial_remix(
            minting_fee=minting_fee,
            currency=currency,
            rev_share_percent=rev_share_percent,
            royalty_policy=royalty_policy,
        )
    raise ConfigurationError(f"unknown PIL preset {preset!r}; choose one of {', '.join(PRESETS)}")
