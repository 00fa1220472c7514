"""The world the marketplace contract tests run in: the Story suite deployed through ``chain/story_devnet.py``, a
ModelNFT with one model registered as an IP asset with zero-fee commercial terms attached, a MockV3Aggregator
ETH/USD feed and a ModelMarketplace listing that model at 49.99 USD. Constants and handles live here; the fixtures
that build it are in conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from anacostia_blockchain.chain.abi.contract import Contract
from anacostia_blockchain.chain.contracts.marketplace import MarketplaceClient
from anacostia_blockchain.chain.contracts.price_feed import block_timestamp, usd_units
from anacostia_blockchain.chain.dev.compiler import PROJECT_ROOT
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story import StoryAddresses
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner

ZERO = "0x" + "00" * 20
HEARTBEAT = 3600
ETH_USD_8 = 2_000_12345678  # 2000.12345678 USD per ETH, 8 decimals
LIST_PRICE = usd_units("49.99")
TEST_CONTRACTS = PROJECT_ROOT / "tests" / "nft" / "contracts"


@dataclass(frozen=True)
class MarketSetup:
    nft: str
    feed: str
    market: str
    story: StoryAddresses
    token_id: int
    ip_id: str
    terms_id: int


@dataclass
class MarketWorld:
    devnet: Devnet
    client: ChainClient
    setup: MarketSetup
    seller: TxSender
    buyer: TxSender
    stranger: TxSender
    pricer: TxSender

    def market_as(self, sender: TxSender) -> MarketplaceClient:
        return MarketplaceClient(self.client, self.setup.market, sender)

    @property
    def feed(self) -> Contract:
        return Contract.at(self.client, "MockV3Aggregator", self.setup.feed)

    @property
    def license_token(self) -> Contract:
        return Contract.at(self.client, "LicenseToken", self.setup.story.license_token)

    def now(self) -> int:
        return block_timestamp(self.client)

    def advance(self, seconds: int) -> None:
        self.client.rpc("evm_increaseTime", [seconds])
        self.client.rpc("evm_mine", [])


def make_sender(client: ChainClient, devnet: Devnet, index: int) -> TxSender:
    return TxSender(client, LocalSigner.from_key(devnet.accounts[index].private_key))


