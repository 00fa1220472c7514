"""Deploy the local Story suite: at fresh addresses (recorded in a manifest) or at Story's own addresses (story-compat).

Two layouts, one set of contracts (``contracts/story/``, MIT, ABI-identical to Story's for the calls the SDKs make):

- :data:`STORY_DEPLOY_PLAN` (part of ``deploy_plan.DEPLOY_PLAN``; :func:`deploy_story_suite` runs it alone) deploys
  at ordinary CREATE addresses recorded in a :class:`DeploymentManifest`, idempotently; ``StoryClient.from_manifest``
  finds them.
- :func:`place_story_suite` puts every contract — core, periphery, WIP, Multicall3 — at the address Story's SDKs
  hard-code for Aeneid (chain id 1315; the table is :data:`~..story.addresses.AENEID_CONTRACTS`, the layout is in
  :mod:`.story_compat`), so Story's own SDKs run unchanged against a local dev node started with ``--chain-id 1315``
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

from dataclasses import replace
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
from ..story.terms import non_commercial_social_remixing
from ..tx.evm_target import artifact_for, require_evm_for
from ..tx.sender import TxSender
from ..tx.signer import LocalSigner
from .deploy import DeployContext, PlannedContract, Suite, deploy_all
from .devnet import Devnet
from .placement import place_contract
from .story_compat import COMPAT_LAYOUT, place_compat_suite

STORY_COMPAT_CHAIN_ID = AENEID_CHAIN_ID


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


def initialize_story_suite(sender: TxSender, manifest: DeploymentManifest, admin: str | None = None) -> None:
    """Wire the manifest layout's contracts (no-op where already initialized): modules, registries, roles, the
    default terms (id 1, non-commercial social remixing), whitelisted currencies and the LAP royalty policy."""
    client = sender.client
    admin = admin or sender.signer.address

    def at(name: str) -> Contract:
        return Contract.at(client, name, manifest.address(name))

    modules = [("LICENSING_MODULE", "LicensingModule"), ("ROYALTY_MODULE", "RoyaltyModule"),
               ("CORE_METADATA_MODULE", "CoreMetadataModule")]  # fmt: skip
    _initialize(sender, at("ModuleRegistry"), admin, [n for n, _ in modules], [manifest.address(c) for _, c in modules])
    _initialize(sender, at("AccessController"), manifest.address("IPAssetRegistry"), manifest.address("ModuleRegistry"))
    template = at("PILicenseTemplate")
    if int(template.call("totalRegisteredLicenseTerms")) == 0:
        sender.transact(template, "registerLicenseTerms", non_commercial_social_remixing().as_tuple())
    _initialize(
        sender,
        at("LicenseRegistry"),
        admin,
        manifest.address("IPAssetRegistry"),
        manifest.address("LicensingModule"),
        template.address,
        1,
    )
    _initialize(sender, at("LicenseToken"), admin, manifest.address("LicensingModule"))
    _initialize(
        sender,
        at("RoyaltyModule"),
        admin,
        manifest.address("LicensingModule"),
        manifest.address("IpRoyaltyVault"),
        [manifest.address("MockERC20")],
        [manifest.address("RoyaltyPolicyLAP")],
    )


def _initialize_after_deploy(ctx: DeployContext, contract: Contract) -> None:
    initialize_story_suite(ctx.sender, ctx.manifest, ctx.settings.get("story_admin"))


_LICENSING_MODULE_LINKS = (
    "AccessController", "IPAssetRegistry", "ModuleRegistry", "RoyaltyModule", "LicenseRegistry", "LicenseToken"
)


def _at(*names: str) -> Any:
    return lambda ctx: tuple(ctx.address_of(name) for name in names)


#: The core suite as deploy-plan entries (appended to ``deploy_plan.DEPLOY_PLAN``): CREATE addresses recorded in the
#: manifest (each constructor names only contracts deployed before it; later links are set by the one-time
#: initializations), the ERC-6551 registry at its canonical address, everything wired after the last entry. The
#: periphery, WIP and Multicall3 belong to the story-compat layout only. One :class:`Suite`: a chain that cannot run a
#: member skips all of it (every member ships for Cancun and Shanghai).
_STORY_ENTRIES: list[PlannedContract] = [
    PlannedContract("ModuleRegistry"),
    PlannedContract("AccessController"),
    PlannedContract("LicenseRegistry"),
    PlannedContract(
        "IPAccountImpl",
        args=_at("AccessController", "LicenseRegistry", "ModuleRegistry"),
        requires=("AccessController", "LicenseRegistry", "ModuleRegistry"),
    ),
    PlannedContract(
        "IPAssetRegistry",
        args=lambda ctx: (ensure_erc6551_registry(ctx.sender), ctx.address_of("IPAccountImpl")),
        requires=("IPAccountImpl",),
    ),
    PlannedContract(
        "RoyaltyModule", args=_at("IPAssetRegistry", "LicenseRegistry"), requires=("IPAssetRegistry", "LicenseRegistry")
    ),
    PlannedContract("IpRoyaltyVault", args=_at("RoyaltyModule"), requires=("RoyaltyModule",)),
    PlannedContract(
        "PILicenseTemplate",
        args=_at("AccessController", "IPAssetRegistry", "LicenseRegistry", "RoyaltyModule"),
        requires=("AccessController", "IPAssetRegistry", "LicenseRegistry", "RoyaltyModule"),
    ),
    PlannedContract("LicenseToken", args=_at("LicenseRegistry"), requires=("LicenseRegistry",)),
    PlannedContract(
        "LicensingModule",
        args=_at(*_LICENSING_MODULE_LINKS),
        requires=_LICENSING_MODULE_LINKS,
    ),
    PlannedContract("RoyaltyPolicyLAP", args=_at("RoyaltyModule"), requires=("RoyaltyModule",)),
    PlannedContract(
        "CoreMetadataModule", args=_at("AccessController", "IPAssetRegistry"), requires=("AccessController",)
    ),
    PlannedContract(
        "MockERC20",
        requires=("LicensingModule", "PILicenseTemplate", "IpRoyaltyVault", "RoyaltyPolicyLAP", "CoreMetadataModule"),
        after=_initialize_after_deploy,
    ),
]
STORY_SUITE = Suite("the Story suite", (*(entry.name for entry in _STORY_ENTRIES), "ERC6551Registry"))
STORY_DEPLOY_PLAN: list[PlannedContract] = [replace(entry, suite=STORY_SUITE) for entry in _STORY_ENTRIES]


def deploy_story_suite(sender: TxSender, manifest: DeploymentManifest, *, admin: str | None = None) -> StoryAddresses:
    """Deploy (or reuse) the suite at CREATE addresses, recorded in ``manifest``; returns its addresses."""
    settings = {"story_admin": admin} if admin else None
    deploy_all(sender, manifest, plan=STORY_DEPLOY_PLAN, settings=settings, skip_unsupported=False)
    return addresses_from_manifest(manifest)


def place_story_suite(
    sender: TxSender, *, admin: str | None = None, addresses: StoryAddresses | None = None
) -> StoryAddresses:
    """Place the suite at Story's Aeneid addresses on an anvil chain (:mod:`.story_compat`); returns them. A chain
    whose EVM cannot run it is refused before anything is sent (:class:`UnsupportedEvmError`)."""
    target = STORY_NETWORKS[STORY_COMPAT_CHAIN_ID]
    if addresses is not None and addresses != target:
        raise DeploymentError("the story-compat layout places the suite at Story's Aeneid addresses only")
    require_evm_for(sender.client, sorted({placement.artifact for placement in COMPAT_LAYOUT}), what=STORY_SUITE.name)
    place_compat_suite(sender, admin)
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
    names = sorted({placement.artifact for placement in COMPAT_LAYOUT} | {"MockERC721"})
    for name in names:
        load_artifact(name)
    return names
