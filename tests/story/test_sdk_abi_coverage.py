"""The local suite has Story's ABI: every function and event in the ABIs the Python SDK ships (``abi/jsons``, Story's
published ABIs of core and periphery v1.3) exists in our artifact with the same signature (same selector / topic) and,
for events, the same indexed fields — except Story's upgrade, access-manager and pause plumbing and the documented
gaps below (each with its reason). Contracts out of scope (dispute, grouping) are not compared.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain.chain.abi.artifacts import load_artifact

from .sdk_runs import PROJECT

#: Story's ABI file (Python SDK) -> our artifact
CONTRACTS = {
    "AccessController": "AccessController",
    "CoreMetadataModule": "CoreMetadataModule",
    "CoreMetadataViewModule": "CoreMetadataViewModule",
    "DerivativeWorkflows": "DerivativeWorkflows",
    "IPAccountImpl": "IPAccountImpl",
    "IPAssetRegistry": "IPAssetRegistry",
    "IpRoyaltyVaultImpl": "IpRoyaltyVault",
    "LicenseAttachmentWorkflows": "LicenseAttachmentWorkflows",
    "LicenseRegistry": "LicenseRegistry",
    "LicenseToken": "LicenseToken",
    "LicensingModule": "LicensingModule",
    "MockERC20": "MockERC20",
    "ModuleRegistry": "ModuleRegistry",
    "Multicall3": "Multicall3",
    "PILicenseTemplate": "PILicenseTemplate",
    "RegistrationWorkflows": "RegistrationWorkflows",
    "RoyaltyModule": "RoyaltyModule",
    "RoyaltyPolicyLAP": "RoyaltyPolicyLAP",
    "RoyaltyPolicyLRP": "RoyaltyPolicyLRP",
    "RoyaltyTokenDistributionWorkflows": "RoyaltyTokenDistributionWorkflows",
    "RoyaltyWorkflows": "RoyaltyWorkflows",
    "SPGNFTImpl": "SPGNFT",
    "WIP": "WIP",
    "WrappedIP": "WIP",
}

#: UUPS upgrades, OpenZeppelin AccessManager and pausing: this suite is neither upgradeable nor pausable (roles are
#: AccessControl roles set by the one-time initialization instead).
PLUMBING = {
    "UPGRADE_INTERFACE_VERSION", "__ProtocolPausable_init", "authority", "isConsumingScheduledOp", "proxiableUUID",
    "setAuthority", "upgradeToAndCall", "pause", "unpause", "initialize",
    "AuthorityUpdated", "Initialized", "Upgraded", "Paused", "Unpaused",
}  # fmt: skip

#: Documented gaps (docs/story.md "What the suite deliberately does not have"), by Story's ABI file.
GAPS: dict[str, dict[str, str]] = {
    "IPAccountImpl": {"IP_ASSET_REGISTRY()": "IP account storage is written by registered modules only"},
    "IPAssetRegistry": {
        **dict.fromkeys(
            (
                "GROUPING_MODULE()",
                "addGroupMember(address,address[])",
                "containsIp(address,address)",
                "getGroupMembers(address,uint256,uint256)",
                "getGroupRewardPool(address)",
                "isWhitelistedGroupRewardPool(address)",
                "registerGroup(address,uint256,address,address)",
                "removeGroupMember(address,address[])",
                "totalMembers(address)",
                "whitelistGroupRewardPool(address,bool)",
            ),
            "grouping is out of scope",
        ),
        "setRegistrationFee(address,address,uint96)": "registration is free (getFeeAmount() == 0)",
        "IPRegistrationFeePaid(address,address,address,uint96)": "registration is free",
        "RegistrationFeeSet(address,address,uint96)": "registration is free",
    },
    "IpRoyaltyVaultImpl": {
        "DISPUTE_MODULE()": "dispute is out of scope", "GROUPING_MODULE()": "grouping is out of scope",
        "IP_ASSET_REGISTRY()": "the vault asks the royalty module",
    },
    "PILicenseTemplate": {"TERMS_RENDERER()": "no JSON renderer", "toJson(uint256)": "no JSON renderer"},
    "LicensingModule": {"DISPUTE_MODULE()": "dispute is out of scope", "IP_GRAPH_ACL()": "no IP graph precompile"},
    "ModuleRegistry": {
        "getModuleTypeInterfaceId(string)": "module types are labels only",
        "registerModuleType(string,bytes4)": "module types are labels only",
        "removeModuleType(string)": "module types are labels only",
    },
    "RoyaltyModule": {
        "DISPUTE_MODULE()": "dispute is out of scope", "IP_GRAPH()": "no IP graph precompile",
        "LICENSING_MODULE()": "the licensing module holds LICENSING_MODULE_ROLE",
        "registerExternalRoyaltyPolicy(address)": "external royalty policies are not supported",
        "ExternalRoyaltyPolicyRegistered(address)": "external royalty policies are not supported",
        "setIpGraphLimits(uint256,uint256,uint256)": "fixed limits (maxParents, maxAncestors)",
        "IpGraphLimitsUpdated(uint256,uint256,uint256)": "fixed limits",
        "setIpRoyaltyVaultBeacon(address)": "vaults are clones of a fixed implementation",
        "upgradeVaults(address)": "vaults are clones of a fixed implementation",
        "setRoyaltyFeePercent(uint32)": "no protocol fee (royaltyFeePercent() == 0)",
        "RoyaltyFeePercentSet(uint256)": "no protocol fee", "setTreasury(address)": "no protocol fee",
        "TreasurySet(address)": "no protocol fee",
    },
    "RoyaltyPolicyLAP": {"IP_GRAPH()": "no IP graph precompile", "IP_GRAPH_ACL()": "no IP graph precompile"},
    "RoyaltyPolicyLRP": {"IP_GRAPH()": "no IP graph precompile", "IP_GRAPH_ACL()": "no IP graph precompile"},
    "LicenseToken": {
        "DISPUTE_MODULE()": "dispute is out of scope",
        "LICENSING_MODULE()": "the licensing module holds LICENSING_MODULE_ROLE",
        "setLicensingImageUrl(string)": "no token metadata image",
        "BatchMetadataUpdate(uint256,uint256)": "no token metadata image",
    },
    "LicenseRegistry": {
        "DISPUTE_MODULE()": "dispute is out of scope", "IP_GRAPH()": "no IP graph precompile",
        "IP_GRAPH_ACL()": "no IP graph precompile", "GROUP_IP_ASSET_REGISTRY()": "grouping is out of scope",
        "verifyGroupAddIp(address,address,address,address,uint256)": "grouping is out of scope",
        "EXPIRATION_TIME()": "expirations are kept in the registry, not in IP account storage",
        "LICENSING_MODULE()": "the licensing module holds LICENSING_MODULE_ROLE",
        "setLicensingConfigForIp(address,(bool,uint256,address,bytes,uint32,bool,uint32,address))":
            "per-IP configs (deprecated in Story v1.3): configs are per license",
        "LicensingConfigSetForIP(address,(bool,uint256,address,bytes,uint32,bool,uint32,address))":
            "per-IP configs are not supported",
    },
    "RegistrationWorkflows": {
        "setNftContractBeacon(address)": "the SPG NFT beacon is fixed",
        "upgradeCollections(address)": "the SPG NFT implementation is fixed",
    },
    "RoyaltyTokenDistributionWorkflows": {
        "ROYALTY_POLICY_LAP()": "not needed by the workflow", "WIP()": "not needed by the workflow",
    },
    "CoreMetadataViewModule": {"updateCoreMetadataModule()": "the metadata module is fixed"},
}


def _type(param: dict[str, Any]) -> str:
    if param["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + param["type"][len("tuple") :]
    return str(param["type"])


def _entries(abi: list[dict[str, Any]]) -> dict[str, tuple[str, tuple[bool, ...]]]:
    """signature -> (kind, indexed flags of an event's inputs)."""
    found = {}
    for item in abi:
        if item.get("type") in ("function", "event"):
            signature = f"{item['name']}({','.join(_type(i) for i in item['inputs'])})"
            found[signature] = (item["type"], tuple(bool(i.get("indexed")) for i in item["inputs"]))
    return found


def _story_abis() -> Path:
    found = sorted((PROJECT / ".venv-story" / "lib").glob("python3*/site-packages/story_protocol_python_sdk/abi/jsons"))
    if not found:
        pytest.skip("Story's Python SDK (which ships Story's ABIs) is not installed (run `make setup`)")
    return found[0]


@pytest.mark.parametrize("story_name", sorted(CONTRACTS))
def test_story_abi_is_implemented(story_name: str) -> None:
    theirs = _entries(json.loads((_story_abis() / f"{story_name}.json").read_text()))
    ours = _entries(load_artifact(CONTRACTS[story_name]).abi)
    gaps = GAPS.get(story_name, {})
    missing, different = [], []
    for signature, (kind, indexed) in theirs.items():
        if signature.split("(")[0] in PLUMBING or signature in gaps:
            continue
        if signature not in ours:
            missing.append(f"{kind} {signature}")
        elif ours[signature] != (kind, indexed):
            different.append(f"{signature}: ours {ours[signature]}, Story's {(kind, indexed)}")
    assert not missing, f"{CONTRACTS[story_name]} lacks Story's {missing}"
    assert not different, f"{CONTRACTS[story_name]} differs from Story: {different}"
    stale = [signature for signature in gaps if signature not in theirs]
    assert not stale, f"documented gaps that are not in Story's ABI: {stale}"
