"""Deploy the local Story suite: at fresh addresses (recorded in a manifest) or at Story's own addresses (story-compat).

Two layouts, one set of contracts (``contracts/story/``, MIT, ABI-identical to Story's for the calls the SDKs make):

- :data:`STORY_DEPLOY_PLAN` (part of ``deploy_plan.DEPLOY_PLAN``; :func:`deploy_story_suite` runs it alone) deploys
  at ordinary CREATE addresses recorded in a :class:`DeploymentManifest`, idempotently; ``StoryClient.from_manifest``
  finds them.
- :func:`place_story_suite` puts every contract at the address Story's SDKs hard-code for Aeneid (chain id 1315), so
  third-party Story tooling runs unchanged against a local anvil started with ``--chain-id 1315``
  (:func:`start_story_devnet`, ``anacostia-chain devnet --story-compat``).

How the placement works (dev nodes only): each contract is first deployed normally, with constructor arguments that
already name the *target* addresses of its dependencies. Its runtime code — which embeds those immutables and the
``DEPLOYER`` — is read back with ``eth_getCode`` and set at the target address (node's set-code method). Storage
is not copied: every contract of the suite keeps its roles and links out of the constructor, in a one-time
``initialize`` that only ``DEPLOYER`` may call, and that call is made at the target address. The ERC-6551 registry
has no immutables and no storage, so its code goes straight to the canonical address
0x000000006551c19487814612e58FE06813775758 — in both layouts, so ipIds are real ERC-6551 account addresses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import ConfigurationError, DeploymentError
from ..abi.artifacts import load_artifact
from ..abi.contract import Contract
from ..contracts.deployments import DeploymentManifest
from ..rpc.client import ChainClient
from ..story.addresses import (
    AENEID_CHAIN_ID,
    ERC6551_REGISTRY,
    STORY_NETWORKS,
    StoryAddresses,
    addresses_from_manifest,
)
from ..tx.evm_target import artifact_for
from ..tx.sender import TxSender
from ..tx.signer import LocalSigner
from .deploy import DeployContext, PlannedContract, deploy_all
from .devnet import Devnet
from .placement import place_contract, set_code_at

STORY_COMPAT_CHAIN_ID = AENEID_CHAIN_ID


def place_code(client: ChainClient, address: str, code: bytes) -> None:
    """Write runtime code at an address with the node's set-code method (anvil, Hardhat, Ganache)."""
    set_code_at(client, address, code)


#: The salt of the canonical ERC-6551 registry's CREATE2 deployment (EIP-6551).
ERC6551_REGISTRY_SALT = bytes.fromhex("0000000000000000000000000000000000000000fd8eb4e1dca713016c518e31")


def ensure_erc6551_registry(sender: TxSender, address: str = ERC6551_REGISTRY) -> str:
    """Make sure the ERC-6551 registry answers at its canonical address; place it there when absent
    (:func:`~.placement.place_contract`: CodePlacementError when the node offers no way)."""
    client = sender.client
    if client.get_code(address):
        return address
    staged = sender.deploy("ERC6551Registry")
    init_code = bytes.fromhex(artifact_for(client, "ERC6551Registry").bytecode[2:])
    runtime = client.get_code(staged.address)
    place_contract(sender, "ERC6551Registry", address, runtime, init_code=init_code, salt=ERC6551_REGISTRY_SALT)
    return address


def _initialize(sender: TxSender, contract: Contract, *args: Any) -> None:
    """Run the one-time ``initialize`` unless it already ran at this address (idempotent re-deploys)."""
    if not contract.call("initialized"):
        sender.transact(contract, "initialize", *args)


def initialize_story_suite(sender: TxSender, addresses: StoryAddresses, admin: str | None = None) -> None:
    """Grant the roles and links of a deployed suite (no-op where already initialized)."""
    client = sender.client
    admin = admin or sender.signer.address
    _initialize(
        sender,
        Contract.at(client, "LicenseRegistry", addresses.license_registry),
        admin,
        addresses.licensing_module,
        addresses.pil_license_template,
    )
    _initialize(sender, Contract.at(client, "LicenseToken", addresses.license_token), admin, addresses.licensing_module)
    currencies = [c for c in (addresses.test_currency, addresses.wip) if int(c, 16) and client.get_code(c)]
    royalty_module = Contract.at(client, "RoyaltyModule", addresses.royalty_module)
    _initialize(sender, royalty_module, admin, addresses.licensing_module, currencies)


def _initialize_after_deploy(ctx: DeployContext, contract: Contract) -> None:
    initialize_story_suite(ctx.sender, addresses_from_manifest(ctx.manifest), ctx.settings.get("story_admin"))


#: The suite as deploy-plan entries (appended to ``deploy_plan.DEPLOY_PLAN``): CREATE addresses recorded in the
#: manifest, the ERC-6551 registry at its canonical address, everything initialized after the LicensingModule.
STORY_DEPLOY_PLAN: list[PlannedContract] = [
    PlannedContract("IPAccountImpl"),
    PlannedContract(
        "IPAssetRegistry",
        args=lambda ctx: (ensure_erc6551_registry(ctx.sender), ctx.address_of("IPAccountImpl")),
        requires=("IPAccountImpl",),
    ),
    PlannedContract("PILicenseTemplate"),
    PlannedContract("MockERC20"),
    PlannedContract("LicenseRegistry"),
    PlannedContract("LicenseToken"),
    PlannedContract(
        "RoyaltyModule", args=lambda ctx: (ctx.address_of("IPAssetRegistry"),), requires=("IPAssetRegistry",)
    ),
    PlannedContract(
        "LicensingModule",
        args=lambda ctx: (
            ctx.address_of("IPAssetRegistry"),
            ctx.address_of("LicenseRegistry"),
            ctx.address_of("LicenseToken"),
            ctx.address_of("RoyaltyModule"),
        ),
        requires=("IPAssetRegistry", "LicenseRegistry", "LicenseToken", "RoyaltyModule", "PILicenseTemplate"),
        after=_initialize_after_deploy,
    ),
]


def deploy_story_suite(sender: TxSender, manifest: DeploymentManifest, *, admin: str | None = None) -> StoryAddresses:
    """Deploy (or reuse) the suite at CREATE addresses, recorded in ``manifest``; returns its addresses."""
    settings = {"story_admin": admin} if admin else None
    deploy_all(sender, manifest, plan=STORY_DEPLOY_PLAN, settings=settings)
    return addresses_from_manifest(manifest)


def place_story_suite(
    sender: TxSender, *, admin: str | None = None, addresses: StoryAddresses | None = None
) -> StoryAddresses:
    """Place the suite at Story's Aeneid addresses on an anvil chain (see the module docs); returns them."""
    client = sender.client
    target = addresses or STORY_NETWORKS[STORY_COMPAT_CHAIN_ID]
    admin = admin or sender.signer.address
    ensure_erc6551_registry(sender, target.erc6551_registry)
    # (field of StoryAddresses, contract, constructor arguments naming target addresses)
    layout: list[tuple[str, str, tuple[Any, ...]]] = [
        ("ip_account_impl", "IPAccountImpl", ()),
        ("ip_asset_registry", "IPAssetRegistry", (target.erc6551_registry, target.ip_account_impl)),
        ("pil_license_template", "PILicenseTemplate", ()),
        ("test_currency", "MockERC20", ()),
        ("license_registry", "LicenseRegistry", ()),
        ("license_token", "LicenseToken", ()),
        ("royalty_module", "RoyaltyModule", (target.ip_asset_registry,)),
        (
            "licensing_module",
            "LicensingModule",
            (target.ip_asset_registry, target.license_registry, target.license_token, target.royalty_module),
        ),
    ]
    for field_name, name, args in layout:
        address = getattr(target, field_name)
        if not int(address, 16):
            raise DeploymentError(f"no target address for {name} in {target}")
        if client.get_code(address):
            continue  # already placed (a re-run on the same chain)
        staged = sender.deploy(name, *args)
        place_code(client, address, client.get_code(staged.address))
    initialize_story_suite(sender, target, admin)
    return target


def place_story_suite_on_devnet(devnet: Devnet) -> StoryAddresses:
    """Place the suite on a running :class:`Devnet` of chain 1315, deployed and administered by dev account 0."""
    if devnet.chain_id != STORY_COMPAT_CHAIN_ID:
        raise ConfigurationError(
            f"the Story-compatible devnet must run chain id {STORY_COMPAT_CHAIN_ID} (Aeneid), not {devnet.chain_id}:"
            " Story's SDKs pick their addresses by chain id"
        )
    client = ChainClient(devnet.rpc_url, expected_chain_id=STORY_COMPAT_CHAIN_ID)
    with TxSender(client, LocalSigner.from_key(devnet.accounts[0].private_key)) as sender:
        return place_story_suite(sender)


def start_story_devnet(
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    state_path: str | Path | None = None,
    accounts: int = 10,
) -> tuple[Devnet, StoryAddresses]:
    """Start anvil as chain 1315 with the suite at Story's addresses (deployed by dev account 0, its admin)."""
    devnet = Devnet(host=host, port=port, chain_id=STORY_COMPAT_CHAIN_ID, state_path=state_path, accounts=accounts)
    devnet.start()
    try:
        addresses = place_story_suite_on_devnet(devnet)
    except BaseException:
        devnet.stop()
        raise
    return devnet, addresses


def story_artifact_names() -> list[str]:
    """The shipped artifacts that make up the suite (for checks and docs)."""
    names = [
        "ERC6551Registry",
        "IPAccountImpl",
        "IPAssetRegistry",
        "PILicenseTemplate",
        "LicenseRegistry",
        "LicenseToken",
        "LicensingModule",
        "RoyaltyModule",
        "IpRoyaltyVault",
        "MockERC20",
    ]
    for name in names:
        load_artifact(name)
    return names
