"""The deploy plan: which shipped contracts ``anacostia-chain deploy`` deploys, in order, with which constructor
arguments and role grants. It is data — add a :class:`PlannedContract` entry for a new contract.

Constructor arguments and grant targets are callables of the :class:`DeployContext` so that an entry can refer to
the deployer (``ctx.deployer``), to contracts deployed earlier in the plan (``ctx.address_of("RunRegistry")``) or
to ``ctx.settings`` passed by the caller. ``requires`` names entries that must be deployed first.
"""

from __future__ import annotations

from ...errors import DeploymentError, UnsupportedEvmError
from ..story.addresses import STORY_NETWORKS, addresses_for_chain
from .deploy import DeployContext, PlannedContract, RoleGrant, needing
from .story_devnet import STORY_DEPLOY_PLAN, STORY_SUITE

__all__ = ["DEPLOY_PLAN", "DeployContext", "PlannedContract", "RoleGrant"]

DEPLOY_PLAN: list[PlannedContract] = [
    # RunRegistry(admin, anchorer): the deployer administers it and may anchor; more anchorers via grants.
    PlannedContract(
        "RunRegistry",
        args=lambda ctx: (ctx.deployer, ctx.settings.get("anchorer", ctx.deployer)),
    ),
    # --- model NFTs, versions and the marketplace -------------------------------------------------------------
    # settings: model_nft_name / model_nft_symbol, minter (MINTER_ROLE, default deployer), pricer (PRICER_ROLE,
    # default deployer), eth_usd_feed (a real Chainlink ETH/USD proxy; without it the plan's MockV3Aggregator),
    # eth_usd_heartbeat (seconds, default 3600), eth_usd_mock_answer (8 decimals), story_addresses (StoryAddresses;
    # default: the Story suite in this manifest, else Story's published addresses for the chain id).
    PlannedContract(
        "ModelNFT",
        args=lambda ctx: (
            ctx.settings.get("model_nft_name", "Anacostia Models"),
            ctx.settings.get("model_nft_symbol", "AMODEL"),
            ctx.deployer,
            ctx.address_of("RunRegistry"),
        ),
        grants=(RoleGrant("MINTER_ROLE", to=lambda ctx: ctx.settings.get("minter", ctx.deployer)),),
        requires=("RunRegistry",),
    ),
    PlannedContract(
        "ModelVersions",
        args=lambda ctx: (ctx.address_of("ModelNFT"), ctx.address_of("RunRegistry")),
        requires=("ModelNFT", "RunRegistry"),
    ),
    # A local ETH/USD feed (8 decimals like Chainlink's USD feeds); leave it out with `only=` on real networks.
    PlannedContract(
        "MockV3Aggregator",
        args=lambda ctx: (8, int(ctx.settings.get("eth_usd_mock_answer", 2_000 * 10**8))),
    ),
    # --- the local Story Protocol suite: CREATE addresses, ERC-6551 registry at its canonical address, initialized
    # after the LicensingModule; leave it out with `only=` where Story itself is deployed.
    *STORY_DEPLOY_PLAN,
    PlannedContract(
        "ModelMarketplace",
        args=lambda ctx: (
            ctx.deployer,
            ctx.address_of("ModelNFT"),
            _story_address(ctx, "ip_asset_registry", "IPAssetRegistry"),
            _story_address(ctx, "licensing_module", "LicensingModule"),
            _story_address(ctx, "pil_license_template", "PILicenseTemplate"),
            ctx.settings.get("eth_usd_feed") or ctx.address_of("MockV3Aggregator"),
            int(ctx.settings.get("eth_usd_heartbeat", 3600)),
        ),
        grants=(RoleGrant("PRICER_ROLE", to=lambda ctx: ctx.settings.get("pricer", ctx.deployer)),),
        requires=("ModelNFT",),
    ),
]


def _story_address(ctx: DeployContext, field: str, manifest_name: str) -> str:
    """A Story core address: ``settings["story_addresses"]``, else this manifest's suite, else Story's network.

    On a chain with none of them whose EVM cannot run the local suite (older than its oldest build), an
    :class:`UnsupportedEvmError` saying so: the marketplace is skipped with the suite."""
    explicit = ctx.settings.get("story_addresses")
    if explicit is not None:
        return str(getattr(explicit, field))
    try:
        return ctx.address_of(manifest_name)
    except UnsupportedEvmError:
        raise
    except DeploymentError:
        pass
    chain_id = ctx.sender.client.chain_id
    if chain_id not in STORY_NETWORKS:
        try:
            STORY_SUITE.require_runs_on(ctx.sender.client)
        except UnsupportedEvmError as exc:
            raise needing(f"Story's {manifest_name} (it sells Story licenses)", exc) from None
    return str(getattr(addresses_for_chain(chain_id), field))
