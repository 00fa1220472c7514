"""Story Protocol at Story's own Aeneid addresses on a local dev node: the placement of the whole suite.

The address table is :data:`~anacostia_blockchain.chain.story.addresses.AENEID_CONTRACTS` (every address Story's
official SDKs know for chain 1315). Every entry receives either a working contract of the local suite
(``contracts/story/``) or :class:`StoryUnsupported` code that reverts ``StoryCompat__Unsupported(name, selector)``
(the dispute and grouping modules and their helpers), so no call to an address an SDK knows succeeds silently.

:func:`place_compat_suite` deploys each contract normally, with constructor arguments naming the *target* addresses of
its dependencies (immutables are part of the runtime code), copies the runtime code to the target with the node's
set-code method (:func:`~.placement.place_contract`) and then runs the one-time initializations at the targets
(storage is not copied). It is idempotent: addresses that already hold code are left alone, initializations that
already ran are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..abi.contract import Contract, deployment_data
from ..story.addresses import AENEID_CONTRACTS, UNSUPPORTED, aeneid
from ..story.terms import non_commercial_social_remixing
from ..tx.evm_target import artifact_for
from ..tx.sender import TxSender
from .placement import place_contract

#: Modules registered in the ModuleRegistry (name, table entry): operators may act only through registered modules,
#: and licensing hooks must be registered.
REGISTERED_MODULES: tuple[tuple[str, str], ...] = (
    ("LICENSING_MODULE", "LicensingModule"),
    ("ROYALTY_MODULE", "RoyaltyModule"),
    ("CORE_METADATA_MODULE", "CoreMetadataModule"),
    ("CORE_METADATA_VIEW_MODULE", "CoreMetadataViewModule"),
    ("TOTAL_LICENSE_TOKEN_LIMIT_HOOK", "TotalLicenseTokenLimitHook"),
)


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


def place_compat_suite(sender: TxSender, admin: str | None = None) -> dict[str, str]:
    """Place every contract of :data:`COMPAT_LAYOUT` at its Aeneid address and initialize it; returns the table
    (:class:`~anacostia_blockchain.errors.CodePlacementError` on a node without a set-code method)."""
    client = sender.client
    admin = admin or sender.signer.address
    missing = [p for p in COMPAT_LAYOUT if any(not client.get_code(aeneid(t)) for t in p.targets)]
    # Deployments are independent of each other (they only name target addresses): send them all, then place.
    pending = [(p, sender.send_raw_call(None, _deploy_data(sender, p), label=f"deploy {p.artifact}")) for p in missing]
    for placement, tx in pending:
        staged = tx.wait(sender.receipt_timeout)["contractAddress"]
        code = client.get_code(staged)
        for target in placement.targets:
            place_contract(sender, placement.artifact, aeneid(target), code)
    initialize_compat_suite(sender, admin)
    return dict(AENEID_CONTRACTS)


def _deploy_data(sender: TxSender, placement: Placement) -> bytes:
    return deployment_data(artifact_for(sender.client, placement.artifact), *placement.args())


def initialize_compat_suite(sender: TxSender, admin: str) -> None:
    """The one-time initializations at the Aeneid addresses (each skipped where it already ran)."""
    client = sender.client

    def at(artifact: str, name: str) -> Contract:
        return Contract.at(client, artifact, aeneid(name))

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
