"""Story Protocol at Story's own Aeneid addresses on a local anvil: the address table and the placement.

:data:`AENEID_CONTRACTS` is every address Story's official SDKs know for chain 1315 (Python
``story-protocol-python-sdk`` 0.3.18 ``scripts/config.json`` and ``utils/constants.py``; TypeScript
``@story-protocol/core-sdk`` 1.4.4 ``src/abi/generated.ts`` and ``src/constants/common.ts``), keyed by Story's
contract names. The SDKs disagree on three implementation addresses (IP account, royalty vault, SPG NFT); both are
listed and both receive the same code. Every entry is either a working contract of the local suite
(``contracts/story/``) or :class:`StoryUnsupported` code that reverts ``StoryCompat__Unsupported(name, selector)``
(the dispute and grouping modules and their helpers), so no call to an address an SDK knows succeeds silently.

:func:`place_compat_suite` deploys each contract normally, with constructor arguments naming the *target* addresses of
its dependencies (immutables are part of the runtime code), copies the runtime code to the target with
``anvil_setCode`` and then runs the one-time initializations at the targets (storage is not copied). It is idempotent:
addresses that already hold code are left alone, initializations that already ran are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ChainError, DeploymentError
from .compiler import load_artifact
from .contract import Contract, deployment_data
from .story_terms import non_commercial_social_remixing
from .tx import TxSender

#: Story's contract name -> address on Aeneid (chain 1315), as the official SDKs hard-code them.
AENEID_CONTRACTS: dict[str, str] = {
    # core (protocol-core-v1 v1.3)
    "ERC6551Registry": "0x000000006551c19487814612e58FE06813775758",
    "AccessController": "0xcCF37d0a503Ee1D4C11208672e622ed3DFB2275a",
    "ModuleRegistry": "0x022DBAAeA5D8fB31a0Ad793335e39Ced5D631fa5",
    "IPAssetRegistry": "0x77319B4031e6eF1250907aa00018B8B1c67a244b",
    "IPAccountImplBeaconProxy": "0x00b800138e4D82D1eea48b414d2a2A8Aee9A33b1",
    "IPAccountImpl": "0x7343646585443F1c3F64E4F08b708788527e1C77",
    "IPAccountImpl (Python SDK)": "0xc93d49fEdED1A2fbE3B54223Df65f4edB3845eb0",
    "LicenseRegistry": "0x529a750E02d8E2f15649c13D69a465286a780e24",
    "LicensingModule": "0x04fbd8a2e56dd85CFD5500A4A4DfA955B9f1dE6f",
    "PILicenseTemplate": "0x2E896b0b2Fdb7457499B56AAaA4AE55BCB4Cd316",
    "LicenseToken": "0xFe3838BFb30B34170F00030B52eA4893d8aAC6bC",
    "RoyaltyModule": "0xD2f60c40fEbccf6311f8B47c4f2Ec6b040400086",
    "IpRoyaltyVaultImpl": "0x73e2D097F71e5103824abB6562362106A8955AEc",
    "IpRoyaltyVaultImpl (Python SDK)": "0x63cC7611316880213f3A4Ba9bD72b0EaA2010298",
    "RoyaltyPolicyLAP": "0xBe54FB168b3c982b7AaE60dB6CF75Bd8447b390E",
    "RoyaltyPolicyLRP": "0x9156e603C949481883B1d3355c6f1132D191fC41",
    "CoreMetadataModule": "0x6E81a25C99C6e8430aeC7353325EB138aFE5DC16",
    "CoreMetadataViewModule": "0xB3F88038A983CeA5753E11D144228Ebb5eACdE20",
    # periphery (protocol-periphery-v1 v1.3)
    "RegistrationWorkflows": "0xbe39E1C756e921BD25DF86e7AAa31106d1eb0424",
    "LicenseAttachmentWorkflows": "0xcC2E862bCee5B6036Db0de6E06Ae87e524a79fd8",
    "DerivativeWorkflows": "0x9e2d496f72C547C2C535B167e06ED8729B374a4f",
    "RoyaltyWorkflows": "0x9515faE61E0c0447C6AC6dEe5628A2097aFE1890",
    "RoyaltyTokenDistributionWorkflows": "0xa38f42B8d33809917f23997B8423054aAB97322C",
    "SPGNFTBeacon": "0xD2926B9ecaE85fF59B6FB0ff02f568a680c01218",
    "SPGNFTImpl": "0x5266215a00c31AaA2f2BB7b951Ea0028Ea8b4e37",
    "SPGNFTImpl (Python SDK)": "0xc09e3788Fdfbd3dd8CDaa2aa481B52CcFAb74a42",
    "TotalLicenseTokenLimitHook": "0xaBAD364Bfa41230272b08f171E0Ca939bD600478",
    # tokens and utilities
    "WIP": "0x1514000000000000000000000000000000000000",
    "Multicall3": "0xcA11bde05977b3631167028862bE2a173976CA11",
    "MockERC20": "0xF2104833d386a2734a4eB3B8ad6FC6812F29E38E",
    # not implemented here: StoryUnsupported code that reverts with a clear error
    "DisputeModule": "0x9b7A9c70AFF961C799110954fc06F3093aeb94C5",
    "ArbitrationPolicyUMA": "0xfFD98c3877B8789124f02C7E8239A4b0Ef11E936",
    "GroupingModule": "0x69D3a7aa9edb72Bc226E745A7cCdd50D947b69Ac",
    "GroupingWorkflows": "0xD7c0beb3aa4DCD4723465f1ecAd045676c24CDCd",
    "EvenSplitGroupPool": "0xf96f2c30b41Cb6e0290de43C8528ae83d4f33F89",
}

#: Story contracts this suite deliberately does not implement (their addresses hold StoryUnsupported).
UNSUPPORTED: tuple[str, ...] = (
    "DisputeModule",
    "ArbitrationPolicyUMA",
    "GroupingModule",
    "GroupingWorkflows",
    "EvenSplitGroupPool",
)

#: Modules registered in the ModuleRegistry (name, table entry): operators may act only through registered modules,
#: and licensing hooks must be registered.
REGISTERED_MODULES: tuple[tuple[str, str], ...] = (
    ("LICENSING_MODULE", "LicensingModule"),
    ("ROYALTY_MODULE", "RoyaltyModule"),
    ("CORE_METADATA_MODULE", "CoreMetadataModule"),
    ("CORE_METADATA_VIEW_MODULE", "CoreMetadataViewModule"),
    ("TOTAL_LICENSE_TOKEN_LIMIT_HOOK", "TotalLicenseTokenLimitHook"),
)


def aeneid(name: str) -> str:
    """The Aeneid address of one of Story's contracts (a name of :data:`AENEID_CONTRACTS`)."""
    try:
        return AENEID_CONTRACTS[name]
    except KeyError:
        raise DeploymentError(
            f"no Aeneid address for {name!r} (known: {', '.join(sorted(AENEID_CONTRACTS))})"
        ) from None


@dataclass(frozen=True)
class Placement:
    """One contract of the story-compat layout: the artifact, its constructor arguments (target addresses) and every
    table entry whose address receives its runtime code."""

    artifact: str
    targets: tuple[str, ...]
    args: Callable[[], tuple[Any, ...]] = lambda: ()


def _a(name: str) -> Callable[[], tuple[Any, ...]]:
    return lambda: (aeneid(name),)


def _workflow_args(*extra: str) -> Callable[[], tuple[Any, ...]]:
    base = (
        "AccessController",
        "CoreMetadataModule",
        "IPAssetRegistry",
        "LicenseRegistry",
        "LicensingModule",
        "PILicenseTemplate",
    )
    return lambda: tuple(aeneid(name) for name in (*base, *extra))


def _names(*names: str) -> Callable[[], tuple[Any, ...]]:
    return lambda: tuple(aeneid(name) for name in names)


def _unsupported(name: str) -> Placement:
    return Placement("StoryUnsupported", (name,), lambda: (name.encode().ljust(32, b"\0")[:32],))


#: The layout, in deployment order (constructor arguments only name target addresses, so any order works).
COMPAT_LAYOUT: tuple[Placement, ...] = (
    Placement("ERC6551Registry", ("ERC6551Registry",)),
    Placement("ModuleRegistry", ("ModuleRegistry",)),
    Placement("AccessController", ("AccessController",)),
    Placement(
        "IPAccountImpl",
        ("IPAccountImplBeaconProxy", "IPAccountImpl", "IPAccountImpl (Python SDK)"),
        _names("AccessController", "LicenseRegistry", "ModuleRegistry"),
    ),
    Placement("IPAssetRegistry", ("IPAssetRegistry",), _names("ERC6551Registry", "IPAccountImplBeaconProxy")),
    Placement("LicenseRegistry", ("LicenseRegistry",)),
    Placement(
        "PILicenseTemplate",
        ("PILicenseTemplate",),
        _names("AccessController", "IPAssetRegistry", "LicenseRegistry", "RoyaltyModule"),
    ),
    Placement("LicenseToken", ("LicenseToken",), _a("LicenseRegistry")),
    Placement(
        "LicensingModule",
        ("LicensingModule",),
        _names(
            "AccessController", "IPAssetRegistry", "ModuleRegistry", "RoyaltyModule", "LicenseRegistry", "LicenseToken"
        ),
    ),
    Placement("RoyaltyModule", ("RoyaltyModule",), _names("IPAssetRegistry", "LicenseRegistry")),
    Placement("IpRoyaltyVault", ("IpRoyaltyVaultImpl", "IpRoyaltyVaultImpl (Python SDK)"), _a("RoyaltyModule")),
    Placement("RoyaltyPolicyLAP", ("RoyaltyPolicyLAP",), _a("RoyaltyModule")),
    Placement("RoyaltyPolicyLRP", ("RoyaltyPolicyLRP",), _names("RoyaltyModule", "RoyaltyPolicyLAP")),
    Placement("CoreMetadataModule", ("CoreMetadataModule",), _names("AccessController", "IPAssetRegistry")),
    Placement(
        "CoreMetadataViewModule",
        ("CoreMetadataViewModule",),
        _names("IPAssetRegistry", "ModuleRegistry", "CoreMetadataModule"),
    ),
    Placement(
        "TotalLicenseTokenLimitHook",
        ("TotalLicenseTokenLimitHook",),
        _names("AccessController", "IPAssetRegistry", "LicensingModule"),
    ),
    Placement("RegistrationWorkflows", ("RegistrationWorkflows",), _workflow_args("SPGNFTBeacon")),
    Placement("LicenseAttachmentWorkflows", ("LicenseAttachmentWorkflows",), _workflow_args()),
    Placement("DerivativeWorkflows", ("DerivativeWorkflows",), _workflow_args("RoyaltyModule", "LicenseToken")),
    Placement("RoyaltyWorkflows", ("RoyaltyWorkflows",), _a("RoyaltyModule")),
    Placement(
        "RoyaltyTokenDistributionWorkflows", ("RoyaltyTokenDistributionWorkflows",), _workflow_args("RoyaltyModule")
    ),
    Placement(
        "SPGNFT",
        ("SPGNFTImpl", "SPGNFTImpl (Python SDK)"),
        _names(
            "DerivativeWorkflows",
            "GroupingWorkflows",
            "LicenseAttachmentWorkflows",
            "RegistrationWorkflows",
            "RoyaltyTokenDistributionWorkflows",
        ),
    ),
    Placement("SPGNFTBeacon", ("SPGNFTBeacon",), _a("SPGNFTImpl")),
    Placement("WIP", ("WIP",)),
    Placement("Multicall3", ("Multicall3",)),
    Placement("MockERC20", ("MockERC20",)),
    *(_unsupported(name) for name in UNSUPPORTED),
)


def place_code(sender: TxSender, address: str, code: bytes) -> None:
    """Write runtime code at an address (``anvil_setCode``); a node without it gets a DeploymentError."""
    try:
        sender.client.rpc("anvil_setCode", [address, "0x" + code.hex()])
    except ChainError as exc:
        raise DeploymentError(
            f"cannot place code at {address} on chain {sender.client.chain_id}: this node has no anvil_setCode"
        ) from exc


def place_compat_suite(sender: TxSender, admin: str | None = None) -> dict[str, str]:
    """Place every contract of :data:`COMPAT_LAYOUT` at its Aeneid address and initialize it; returns the table."""
    client = sender.client
    admin = admin or sender.signer.address
    missing = [p for p in COMPAT_LAYOUT if any(not client.get_code(aeneid(t)) for t in p.targets)]
    # Deployments are independent of each other (they only name target addresses): send them all, then place.
    pending = [(p, sender.send_raw_call(None, _deploy_data(p), label=f"deploy {p.artifact}")) for p in missing]
    for placement, tx in pending:
        staged = tx.wait(sender.receipt_timeout)["contractAddress"]
        code = client.get_code(staged)
        for target in placement.targets:
            place_code(sender, aeneid(target), code)
    initialize_compat_suite(sender, admin)
    return dict(AENEID_CONTRACTS)


def _deploy_data(placement: Placement) -> bytes:
    return deployment_data(load_artifact(placement.artifact), *placement.args())


def initialize_compat_suite(sender: TxSender, admin: str) -> None:
    """The one-time initializations at the Aeneid addresses (each skipped where it already ran)."""
    client = sender.client

    def at(artifact: str, name: str) -> Contract:
        return client.contract(artifact, aeneid(name))

    modules = at("ModuleRegistry", "ModuleRegistry")
    _once(sender, modules, admin, [n for n, _ in REGISTERED_MODULES], [aeneid(e) for _, e in REGISTERED_MODULES])
    _once(sender, at("AccessController", "AccessController"), aeneid("IPAssetRegistry"), aeneid("ModuleRegistry"))
    template = at("PILicenseTemplate", "PILicenseTemplate")
    if int(template.call("totalRegisteredLicenseTerms")) == 0:
        # Story's default terms are the first terms registered: non-commercial social remixing, id 1.
        sender.transact(template, "registerLicenseTerms", non_commercial_social_remixing().as_tuple())
    _once(
        sender,
        at("LicenseRegistry", "LicenseRegistry"),
        admin,
        aeneid("IPAssetRegistry"),
        aeneid("LicensingModule"),
        aeneid("PILicenseTemplate"),
        1,
    )
    _once(sender, at("LicenseToken", "LicenseToken"), admin, aeneid("LicensingModule"))
    _once(
        sender,
        at("RoyaltyModule", "RoyaltyModule"),
        admin,
        aeneid("LicensingModule"),
        aeneid("IpRoyaltyVaultImpl"),
        [aeneid("MockERC20"), aeneid("WIP")],
        [aeneid("RoyaltyPolicyLAP"), aeneid("RoyaltyPolicyLRP")],
    )


def _once(sender: TxSender, contract: Contract, *args: Any) -> None:
    if not contract.call("initialized"):
        sender.transact(contract, "initialize", *args)
