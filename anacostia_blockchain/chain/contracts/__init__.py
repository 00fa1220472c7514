"""Typed clients of the project's contracts: the only code that knows their function and event names.

- :mod:`.run_registry` — :class:`RunRegistryClient`: anchor runs, read roots and anchors, check proofs;
- :mod:`.model_nft` — :class:`ModelNFTClient`: mint model NFTs, read their provenance;
- :mod:`.model_versions` — :class:`ModelVersionsClient`: families, versions, the promotion gate;
- :mod:`.marketplace` — :class:`MarketplaceClient`: list, price, quote and buy licenses;
- :mod:`.price_feed` — :class:`ChainlinkPriceFeed` (checked reads) and exact USD / wei arithmetic;
- :mod:`.erc1271` — :class:`ERC1271Client`: contract accounts' signatures (EIP-1271, EIP-6492 unwrapping);
- :mod:`.merkle` — leaf encodings and the Merkle tree ``RunRegistry.verifyProof`` checks (pure Python);
- :mod:`.deployments` — :class:`DeploymentManifest`: where each contract lives on a chain.
"""

from .deployments import DeploymentManifest, DeploymentRecord
from .erc1271 import (
    ERC1271_MAGIC_VALUE,
    ERC1271Answer,
    ERC1271Client,
    ERC6492Signature,
    personal_message_hash,
    unwrap_erc6492,
)
from .marketplace import FeedConfig, MarketplaceClient, MarketplaceListing, Purchase, metric_basis
from .merkle import MerkleTree, pipeline_id, scale_metric, unscale_metric
from .model_nft import MintedModel, ModelNFTClient, ModelProvenance, cid_from_token_uri
from .model_versions import Gate, ModelVersionsClient, Promotion, stage_id, stage_name
from .price_feed import (
    ChainlinkPriceFeed,
    FeedRound,
    PriceReading,
    block_timestamp,
    read_feed_round,
    usd_to_wei,
    usd_units,
)
from .run_registry import (
    AnchoredRun,
    AnchorOutcome,
    AnchorRecord,
    AnchorRequest,
    AnchorSnapshot,
    RunRegistryClient,
    SkippedAnchor,
)

__all__ = [
    "ERC1271_MAGIC_VALUE",
    "AnchorOutcome",
    "AnchorRecord",
    "AnchorRequest",
    "AnchorSnapshot",
    "AnchoredRun",
    "ChainlinkPriceFeed",
    "DeploymentManifest",
    "DeploymentRecord",
    "ERC1271Answer",
    "ERC1271Client",
    "ERC6492Signature",
    "FeedConfig",
    "FeedRound",
    "Gate",
    "MarketplaceClient",
    "MarketplaceListing",
    "MerkleTree",
    "MintedModel",
    "ModelNFTClient",
    "ModelProvenance",
    "ModelVersionsClient",
    "PriceReading",
    "Promotion",
    "Purchase",
    "RunRegistryClient",
    "SkippedAnchor",
    "block_timestamp",
    "cid_from_token_uri",
    "metric_basis",
    "personal_message_hash",
    "pipeline_id",
    "read_feed_round",
    "scale_metric",
    "stage_id",
    "stage_name",
    "unscale_metric",
    "unwrap_erc6492",
    "usd_to_wei",
    "usd_units",
]
