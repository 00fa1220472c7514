"""The service's live view of the chain: quotes, anchor checks and the on-chain license check for key release.

The index answers "what happened"; this gateway answers the questions that must not be answered from a copy:

- **quote**: ``ModelMarketplace.quote`` (the contract's own USD -> wei conversion, with Chainlink's checks) plus the
  feed round it used (answer, decimals, ``updatedAt``) so a client can show how fresh the price is;
- **anchor verification**: ``RunRegistry.runRoot(pipelineId, runId)`` compared with the root a token or the index
  claims;
- **license check**: before a data key leaves the service, the caller must *currently* own a Story license token
  whose licensor is the model's IP and which is not revoked — read from ``LicenseToken`` on chain. The index only
  proposes which token ids to check (those minted to the caller first, then all minted for that IP, to cover
  transferred licenses); ownership, licensor and revocation are always read live.

Contract addresses come from a ``{name: address}`` map (usually a :class:`~anacostia_blockchain.chain.contracts.
DeploymentManifest`); the names are the artifact names (``ModelNFT``, ``ModelMarketplace``, ``RunRegistry``,
``IPAssetRegistry``, ``LicensingModule``, ``LicenseToken``, ``ModelVersions``). A missing contract makes only the
features that need it unavailable (:class:`ConfigurationError` naming it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

from ..chain.abi import EventReader
from ..chain.contracts import (
    MarketplaceClient,
    ModelNFTClient,
    RunRegistryClient,
    block_timestamp,
    read_feed_round,
)
from ..chain.rpc import ChainClient
from ..chain.story import LicenseTokenClient, LicenseTokenState
from ..errors import ConfigurationError

#: The contracts the marketplace index follows, by artifact name.
FOLLOWED_CONTRACTS = (
    "ModelNFT",
    "ModelMarketplace",
    "RunRegistry",
    "IPAssetRegistry",
    "LicensingModule",
    "ModelVersions",
)
MAX_LICENSE_CANDIDATES = 5000
_Client = TypeVar("_Client")


@dataclass(frozen=True)
class Quote:
    token_id: int
    price_usd_units: int
    wei: int
    feed_address: str
    feed_answer: int
    feed_decimals: int
    feed_updated_at: int
    block_timestamp: int


@dataclass(frozen=True)
class AnchorCheck:
    anchored: bool
    onchain_root: str | None
    matches: bool


class ChainGateway:
    """Live reads for the marketplace service (see the module docstring)."""

    def __init__(self, client: ChainClient, addresses: Mapping[str, str], *, start_block: int = 0) -> None:
        self.client = client
        self.addresses = dict(addresses)
        #: The first block worth indexing (the earliest deployment in the manifest; 0 when unknown).
        self.start_block = start_block
        self._clients: dict[str, object] = {}

    @property
    def chain_id(self) -> int:
        return int(self.client.chain_id)

    def has(self, name: str) -> bool:
        return name in self.addresses

    def _typed(self, name: str, make: Callable[[ChainClient, str], _Client]) -> _Client:
        """The typed client of contract ``name`` (made once by ``make(client, address)``)."""
        if name not in self._clients:
            address = self.addresses.get(name)
            if address is None:
                raise ConfigurationError(f"{name} is not deployed/configured for this service")
            self._clients[name] = make(self.client, address)
        return cast(_Client, self._clients[name])

    def model_nft(self) -> ModelNFTClient:
        return self._typed("ModelNFT", ModelNFTClient)

    def marketplace(self) -> MarketplaceClient:
        return self._typed("ModelMarketplace", MarketplaceClient)

    def run_registry(self) -> RunRegistryClient:
        return self._typed("RunRegistry", RunRegistryClient)

    def license_token(self) -> LicenseTokenClient:
        return self._typed("LicenseToken", LicenseTokenClient)

    def event_reader(self) -> EventReader:
        """An :class:`EventReader` over every followed contract that is configured."""
        followed = {name: self.addresses[name] for name in FOLLOWED_CONTRACTS if name in self.addresses}
        return EventReader.for_artifacts(self.client, followed)

    # --- quotes -------------------------------------------------------------------------------------------------------
    def quote(self, token_id: int) -> Quote:
        """The marketplace's live quote and the feed round behind it (reverts: ``NotListed``, ``StalePrice``)."""
        market = self.marketplace()
        listing = market.listing(token_id)
        wei = market.quote(token_id)
        feed = read_feed_round(self.client, market.feed_config().feed)
        return Quote(
            token_id=token_id,
            price_usd_units=listing.price_usd,
            wei=wei,
            feed_address=feed.feed,
            feed_answer=feed.answer,
            feed_decimals=feed.decimals,
            feed_updated_at=feed.updated_at,
            block_timestamp=block_timestamp(self.client),
        )

    # --- anchors ------------------------------------------------------------------------------------------------------
    def check_anchor(self, pipeline_id: str, run_id: int, claimed_root: str) -> AnchorCheck:
        stored = self.run_registry().run_root(bytes.fromhex(pipeline_id[2:]), run_id)
        root = None if stored is None else "0x" + stored.hex()
        return AnchorCheck(
            anchored=root is not None,
            onchain_root=root,
            matches=root is not None and root.lower() == claimed_root.lower(),
        )

    def owner_of(self, token_id: int) -> str:
        return self.model_nft().owner_of(token_id)

    # --- licenses -----------------------------------------------------------------------------------------------------
    def holds_license(self, holder: str, ip_id: str, candidate_token_ids: Sequence[int]) -> int | None:
        """The first license token id among the candidates that ``holder`` owns now, whose licensor is ``ip_id`` and
        that is not revoked — all read on chain; ``None`` when there is none."""
        token = self.license_token()
        ids = list(dict.fromkeys(candidate_token_ids))[:MAX_LICENSE_CANDIDATES]
        if not ids:
            return None
        owners = token.owners_of(ids)
        mine = [i for i, owner in zip(ids, owners, strict=True) if isinstance(owner, str) and owner == holder]
        for state in token.states(mine):
            if isinstance(state, LicenseTokenState) and state.licenses(ip_id):
                return state.token_id
        return None
