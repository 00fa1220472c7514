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

Contract addresses come from a ``{name: address}`` map (usually a :class:`~anacostia_blockchain.chain.deploy.
DeploymentManifest`); the names are the artifact names (``ModelNFT``, ``ModelMarketplace``, ``RunRegistry``,
``IPAssetRegistry``, ``LicensingModule``, ``LicenseToken``, ``ModelVersions``). A missing contract makes only the
features that need it unavailable (:class:`ConfigurationError` naming it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..chain.client import ChainClient
from ..chain.compiler import load_artifact
from ..chain.contract import Contract
from ..chain.event_reader import EventReader, call_many
from ..chain.price_feed import AGGREGATOR_V3_ABI, block_timestamp
from ..errors import ChainError, CompilerError, ConfigurationError

#: The contracts the marketplace index follows, by artifact name.
FOLLOWED_CONTRACTS = (
    "ModelNFT",
    "ModelMarketplace",
    "RunRegistry",
    "IPAssetRegistry",
    "LicensingModule",
    "ModelVersions",
)
ZERO_ROOT = "0x" + "00" * 32
MAX_LICENSE_CANDIDATES = 5000


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


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, bytes | bytearray) else str(value)


class ChainGateway:
    """Live reads for the marketplace service (see the module docstring)."""

    def __init__(self, client: ChainClient, addresses: Mapping[str, str], *, start_block: int = 0) -> None:
        self.client = client
        self.addresses = dict(addresses)
        #: The first block worth indexing (the earliest deployment in the manifest; 0 when unknown).
        self.start_block = start_block
        self._contracts: dict[str, Contract] = {}

    @property
    def chain_id(self) -> int:
        return int(self.client.chain_id)

    def has(self, name: str) -> bool:
        return name in self.addresses

    def contract(self, name: str) -> Contract:
        if name not in self._contracts:
            address = self.addresses.get(name)
            if address is None:
                raise ConfigurationError(f"{name} is not deployed/configured for this service")
            self._contracts[name] = self.client.contract(name, address)
        return self._contracts[name]

    def event_reader(self) -> EventReader:
        """An :class:`EventReader` over every followed contract that is configured."""
        specs: dict[str, tuple[str, Sequence[Mapping[str, Any]]]] = {}
        for name in FOLLOWED_CONTRACTS:
            if name in self.addresses:
                try:
                    abi = load_artifact(name).abi
                except CompilerError as exc:
                    raise ConfigurationError(f"no compiled artifact for {name}: run `make compile`") from exc
                specs[name] = (self.addresses[name], abi)
        return EventReader(self.client, specs)

    # --- quotes -------------------------------------------------------------------------------------------------------
    def quote(self, token_id: int) -> Quote:
        """The marketplace's live quote and the feed round behind it (reverts: ``NotListed``, ``StalePrice``)."""
        market = self.contract("ModelMarketplace")
        listing = market.call("listing", token_id)
        wei = int(market.call("quote", token_id))
        feed_config = market.call("feedConfig")
        feed_address = str(feed_config[0])
        feed = Contract.from_abi(self.client, "AggregatorV3Interface", AGGREGATOR_V3_ABI, feed_address)
        _round, answer, _started, updated_at, _answered = feed.call("latestRoundData")
        return Quote(
            token_id=token_id,
            price_usd_units=int(listing[4]),
            wei=wei,
            feed_address=feed_address,
            feed_answer=int(answer),
            feed_decimals=int(feed.call("decimals")),
            feed_updated_at=int(updated_at),
            block_timestamp=block_timestamp(self.client),
        )

    # --- anchors ------------------------------------------------------------------------------------------------------
    def check_anchor(self, pipeline_id: str, run_id: int, claimed_root: str) -> AnchorCheck:
        root = _hex(self.contract("RunRegistry").call("runRoot", bytes.fromhex(pipeline_id[2:]), run_id))
        anchored = root != ZERO_ROOT
        return AnchorCheck(
            anchored=anchored,
            onchain_root=root if anchored else None,
            matches=anchored and root.lower() == claimed_root.lower(),
        )

    def owner_of(self, token_id: int) -> str:
        return str(self.contract("ModelNFT").call("ownerOf", token_id))

    # --- licenses -----------------------------------------------------------------------------------------------------
    def holds_license(self, holder: str, ip_id: str, candidate_token_ids: Sequence[int]) -> int | None:
        """The first license token id among the candidates that ``holder`` owns now, whose licensor is ``ip_id`` and
        that is not revoked — all read on chain; ``None`` when there is none."""
        token = self.contract("LicenseToken")
        ids = list(dict.fromkeys(candidate_token_ids))[:MAX_LICENSE_CANDIDATES]
        if not ids:
            return None
        owners = call_many(token, "ownerOf", [((i,), "latest") for i in ids])
        mine = [i for i, owner in zip(ids, owners, strict=True) if isinstance(owner, str) and owner == holder]
        if not mine:
            return None
        licensors = call_many(token, "getLicensorIpId", [((i,), "latest") for i in mine])
        revoked = call_many(token, "isLicenseTokenRevoked", [((i,), "latest") for i in mine])
        for token_id, licensor, is_revoked in zip(mine, licensors, revoked, strict=True):
            if isinstance(licensor, ChainError) or isinstance(is_revoked, ChainError):
                continue
            if str(licensor).lower() == ip_id.lower() and is_revoked is False:
                return token_id
        return None
