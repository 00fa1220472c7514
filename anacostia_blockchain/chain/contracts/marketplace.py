"""``MarketplaceClient``: list model NFTs at a USD price, quote and buy licenses in ETH (``ModelMarketplace.sol``).

Prices are integers with 18 decimals (``usd_units(Decimal("49.99"))``): the marketplace's unit and the scale of
anchored metric values, so a pricing rule maps a metric to a price without rescaling. ``quote`` is the contract's own
conversion through the Chainlink ETH/USD feed (with its staleness / answer / sequencer checks, surfacing as the decoded
``StalePrice`` / ``InvalidPrice`` / ``SequencerDown`` reverts); ``buy`` sends ETH, is refunded the excess and
receives a Story license token. Sellers collect with :meth:`MarketplaceClient.withdraw` (pull payment).

Every price change carries a ``basis`` (bytes32) in the ``PriceUpdated`` event; :func:`metric_basis` derives it from
the anchored metric a price came from, so anyone can trace a price to a metric they can verify against RunRegistry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_abi import encode as abi_encode
from eth_utils import keccak

from ...errors import ConfigurationError
from ..abi.contract import Contract
from ..abi.events import single_event
from ..encoding import checksum
from ..rpc.client import ChainClient

if TYPE_CHECKING:
    from ..tx.sender import TxSender

PRICER_ROLE = keccak(text="PRICER_ROLE")
NO_BASIS = b"\x00" * 32


def metric_basis(pipeline_id: bytes, run_id: int, metric_name: str, value: int, step: int) -> bytes:
    """``keccak256(abi.encode(pipelineId, uint64 runId, name, int256 value, uint256 step))``: the anchored metric a
    price was derived from, recorded in ``PriceUpdated.basis``."""
    return keccak(abi_encode(["bytes32", "uint64", "string", "int256", "uint256"],
                             [pipeline_id, run_id, metric_name, value, step]))


@dataclass(frozen=True)
class MarketplaceListing:
    """A token's listing as the contract stores it (``active`` is false once delisted or never listed)."""

    token_id: int
    seller: str
    license_terms_id: int
    active: bool
    ip_id: str
    price_usd: int


@dataclass(frozen=True)
class FeedConfig:
    """The Chainlink feeds the marketplace prices with: ETH/USD (``feed``) and the optional L2 sequencer uptime feed
    (the zero address when there is none)."""

    feed: str
    heartbeat: int
    sequencer_uptime_feed: str
    grace_period: int


@dataclass(frozen=True)
class Purchase:
    token_id: int
    buyer: str
    seller: str
    price_usd: int
    paid_wei: int
    refund_wei: int
    license_token_id: int
    tx_hash: str
    gas_used: int


class MarketplaceClient:
    """Typed access to one deployed ModelMarketplace. ``sender`` may be ``None`` for read-only use."""

    def __init__(self, client: ChainClient, address: str, sender: TxSender | None = None) -> None:
        self.client = client
        self.contract = Contract.at(client, "ModelMarketplace", address)
        self.sender = sender

    def __repr__(self) -> str:
        return f"MarketplaceClient({self.contract.address})"

    @property
    def address(self) -> str:
        return self.contract.address

    # --- writes ------------------------------------------------------------------------------------------------------
    def list_model(self, token_id: int, price_usd: int, license_terms_id: int, basis: bytes = NO_BASIS) -> int:
        """List a token the sender owns (its Story IP must be registered, the terms attached); returns the gas used."""
        _check_price(price_usd)
        if len(basis) != 32:
            raise ConfigurationError("basis must be 32 bytes")
        receipt = self._sender().transact(self.contract, "list", token_id, price_usd, license_terms_id, basis)
        return int(receipt["gasUsed"])

    def set_price(self, token_id: int, price_usd: int, basis: bytes = NO_BASIS) -> int:
        """Reprice (lister or PRICER_ROLE); ``basis`` from :func:`metric_basis`. Returns the gas used."""
        _check_price(price_usd)
        if len(basis) != 32:
            raise ConfigurationError("basis must be 32 bytes")
        receipt = self._sender().transact(self.contract, "setPrice", token_id, price_usd, basis)
        return int(receipt["gasUsed"])

    def delist(self, token_id: int) -> None:
        self._sender().transact(self.contract, "delist", token_id)

    def buy(self, token_id: int, value_wei: int) -> Purchase:
        """Pay ``value_wei`` (at least :meth:`quote`); the excess comes back in the same transaction."""
        receipt = self._sender().transact(self.contract, "buy", token_id, value=value_wei)
        event = single_event(self.contract, receipt, "Purchased")
        args = event.args
        return Purchase(
            token_id=token_id,
            buyer=checksum(args["buyer"]),
            seller=checksum(args["seller"]),
            price_usd=int(args["priceUsd"]),
            paid_wei=int(args["paidWei"]),
            refund_wei=int(args["refundWei"]),
            license_token_id=int(args["licenseTokenId"]),
            tx_hash=str(receipt["transactionHash"]),
            gas_used=int(receipt["gasUsed"]),
        )

    def withdraw(self) -> int:
        """Withdraw the sender's proceeds; returns the wei withdrawn."""
        receipt = self._sender().transact(self.contract, "withdraw")
        return int(single_event(self.contract, receipt, "ProceedsWithdrawn").args["weiAmount"])

    def grant_pricer(self, account: str) -> None:
        self._sender().transact(self.contract, "grantRole", PRICER_ROLE, checksum(account))

    # --- reads -------------------------------------------------------------------------------------------------------
    def quote(self, token_id: int) -> int:
        return int(self.contract.call("quote", token_id))

    def quote_usd(self, price_usd: int) -> int:
        return int(self.contract.call("quoteUsd", price_usd))

    def listing(self, token_id: int) -> MarketplaceListing:
        seller, terms_id, active, ip_id, price = self.contract.call("listing", token_id)
        return MarketplaceListing(token_id, checksum(seller), int(terms_id), bool(active), checksum(ip_id), int(price))

    def listed_token_ids(self, from_block: int = 0) -> set[int]:
        """Every token that was ever listed (from ``Listed`` events; delisted ones included)."""
        return {int(event.args["tokenId"]) for event in self.contract.events("Listed", from_block=from_block)}

    def feed_config(self) -> FeedConfig:
        feed, heartbeat, sequencer, grace = self.contract.call("feedConfig")
        return FeedConfig(checksum(feed), int(heartbeat), checksum(sequencer), int(grace))

    def proceeds(self, account: str) -> int:
        return int(self.contract.call("proceeds", checksum(account)))

    def _sender(self) -> TxSender:
        if self.sender is None:
            raise ConfigurationError("this MarketplaceClient is read-only: pass a TxSender to send transactions")
        return self.sender


def _check_price(price_usd: int) -> None:
    if isinstance(price_usd, bool) or not isinstance(price_usd, int) or price_usd <= 0:
        raise ConfigurationError(f"a price must be a positive integer of USD with 18 decimals, got {price_usd!r}")
