"""Request and response bodies of the marketplace API (pydantic models; they are the OpenAPI schema).

Big integers (wei, 18-decimal USD units, license token ids) travel as decimal *strings*: JSON numbers lose precision
above 2**53 in browsers. ``price_usd`` is also given as a float for display and sorting.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..index.listing import COUNT_AHEAD


class ErrorDetail(BaseModel):
    type: str = Field(description="The error class, e.g. NotFoundError, SiweError, LicenseRequiredError")
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class ModelSummary(BaseModel):
    token_id: int
    name: str | None
    owner: str
    ip_id: str | None
    listed: bool
    price_usd: float | None
    price_usd_units: str | None
    metadata_cid: str | None
    metadata_status: str | None
    minted_block: int
    sales: int
    metrics: dict[str, float]


TOTAL = f"matches, counted up to {COUNT_AHEAD:,} past the end of the page (without a filter: every one)"
TOTAL_EXACT = "false when there are more matches than total (total is then a lower bound)"


class ModelPage(BaseModel):
    total: int = Field(description=TOTAL)
    total_exact: bool = Field(description=TOTAL_EXACT)
    page: int
    page_size: int
    items: list[ModelSummary]


class Lineage(BaseModel):
    pipeline_id: str
    run_id: int
    run_key: str
    anchor_root: str
    manifest_cid: str
    family_id: int | None
    version: int | None
    stage: str | None
    versions: list[dict[str, Any]]


class AnchorInfo(BaseModel):
    indexed: bool = Field(description="a RunAnchored event for this run is in the index")
    block_number: int | None
    tx_hash: str | None
    merkle_root: str | None
    manifest_cid: str | None


class LiveVerification(BaseModel):
    checked: bool = Field(description="false when the chain could not be read (see error)")
    anchored: bool | None = None
    onchain_root: str | None = None
    matches_token: bool | None = Field(default=None, description="RunRegistry's root equals the root the token claims")
    manifest_matches: bool | None = Field(default=None, description="the anchored manifest CID equals the token's")
    error: str | None = None


class LicenseInfo(BaseModel):
    ip_id: str | None
    license_template: str | None
    license_terms_ids: list[str]
    listing_terms_id: str | None


class ListingInfo(BaseModel):
    listed: bool
    seller: str | None
    price_usd: float | None
    price_usd_units: str | None
    sales: int


class MetadataInfo(BaseModel):
    cid: str | None
    status: str
    document: dict[str, Any] | None
    error: str | None


class ModelDetail(BaseModel):
    token_id: int
    owner: str
    minter: str
    token_uri: str | None
    metadata: MetadataInfo
    metrics: dict[str, float]
    lineage: Lineage
    anchor: AnchorInfo
    verification: LiveVerification
    license: LicenseInfo
    listing: ListingInfo
    has_key: bool = Field(description="the service holds this model's data key")


class QuoteBody(BaseModel):
    token_id: int
    price_usd: float
    price_usd_units: str
    wei: str
    eth: str
    feed_address: str
    feed_answer: str
    feed_decimals: int
    feed_updated_at: int = Field(description="the feed round's updatedAt (unix seconds)")
    feed_age_seconds: int
    block_timestamp: int


class RunBody(BaseModel):
    key: str = Field(description="<pipelineId hex>-<runId>")
    pipeline_id: str
    run_id: int
    merkle_root: str
    manifest_cid: str
    block_number: int
    tx_hash: str
    models: list[int] = []


class RunPage(BaseModel):
    total: int = Field(description=TOTAL)
    total_exact: bool = Field(description=TOTAL_EXACT)
    page: int
    page_size: int
    items: list[RunBody]


class RunVerification(BaseModel):
    key: str
    anchored: bool
    onchain_root: str | None
    indexed_root: str
    matches: bool
    manifest_verified: bool | None = Field(
        None, description="the manifest fetched by CID recomputes to the anchored root (null: not checked)"
    )
    detail: str | None = None


class NonceBody(BaseModel):
    nonce: str
    domain: str
    uri: str
    chain_id: int
    statement: str
    expires_in: int = Field(description="seconds the nonce stays usable")


class LoginRequest(BaseModel):
    message: str = Field(max_length=4096, description="the exact EIP-4361 text that was signed")
    signature: str = Field(
        max_length=4096,
        description="0x-prefixed signature: 65-byte personal_sign for an account, or what an EIP-1271 contract wallet "
        "accepts (e.g. concatenated owner signatures)",
    )


class SessionBody(BaseModel):
    token: str
    address: str
    expires_at: float


class WrappedKeyBody(BaseModel):
    token_id: int
    key_id: str = Field(description="fingerprint of the data key (safe to show)")
    wrapped_key: str = Field(description="hex: the data key wrapped (ECIES secp256k1) for the caller's public key")
    license_token_id: str | None = Field(description="the license token that authorised the release")


class DepositKeyRequest(BaseModel):
    wrapped_key: str = Field(max_length=1024, description="hex of the data key wrapped for GET /service/key")


class ServiceKeyBody(BaseModel):
    public_key: str = Field(description="compressed secp256k1 public key (hex) to wrap model data keys for")


class StatusBody(BaseModel):
    chain_id: int | None
    next_block: int | None
    models: int
    runs: int
    events: int
    indexer_error: str | None
    explorer_tx_url: str | None = Field(default=None, description="prefix of transaction links shown by the dashboard")
