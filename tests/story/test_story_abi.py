"""The local suite speaks Story's ABI: every selector and event topic Story's SDKs use is present in our artifacts,
with the same indexed fields. The expected values are data collected from Story's published ABIs (sources named
per group, see docs/story.md); the test recomputes selectors/topics from our compiled ABIs and compares."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from anacostia_blockchain.chain.dev.compiler import load_artifact
from anacostia_blockchain.chain.dev.story_devnet import story_artifact_names

PIL = "(bool,address,uint256,uint256,bool,bool,address,bytes,uint32,uint256,bool,bool,bool,bool,uint256,address,string)"

SDK = "storyprotocol/python-sdk src/story_protocol_python_sdk/abi/jsons"
CORE = "storyprotocol/protocol-core-v1 contracts/interfaces"
DOCS = "docs.story.foundation smart-contract-reference (core v1.3)"
LIC = f"{CORE}/modules/licensing"
REG = f"{CORE}/registries/ILicenseRegistry.sol"
ROY = f"{CORE}/modules/royalty/IRoyaltyModule.sol"
EIP = "EIP-6551 reference registry/account interfaces (erc6551/reference src/eip)"

# (our contract, Story signature, selector, source)
STORY_FUNCTIONS: list[tuple[str, str, str, str]] = [
    ("IPAssetRegistry", "register(uint256,address,uint256)", "0xfca247ac", f"{SDK}/IPAssetRegistry.json"),
    ("IPAssetRegistry", "ipId(uint256,address,uint256)", "0xd26bb83f", f"{SDK}/IPAssetRegistry.json"),
    ("IPAssetRegistry", "ipAccount(uint256,address,uint256)", "0x87020f95", f"{SDK}/IPAssetRegistry.json"),
    ("IPAssetRegistry", "isRegistered(address)", "0xc3c5a547", f"{SDK}/IPAssetRegistry.json"),
    ("IPAssetRegistry", "totalSupply()", "0x18160ddd", f"{SDK}/IPAssetRegistry.json"),
    ("IPAssetRegistry", "getIPAccountImpl()", "0x95a3dfb2", f"{SDK}/IPAssetRegistry.json"),
    ("IPAssetRegistry", "IP_ACCOUNT_IMPL()", "0x5796ffbc", f"{SDK}/IPAssetRegistry.json"),
    ("IPAssetRegistry", "IP_ACCOUNT_SALT()", "0x1a8bb07b", f"{SDK}/IPAssetRegistry.json"),
    ("IPAssetRegistry", "ERC6551_PUBLIC_REGISTRY()", "0x0c3c7264", f"{SDK}/IPAssetRegistry.json"),
    ("PILicenseTemplate", f"registerLicenseTerms({PIL})", "0x6e1b8d90", f"{LIC}/IPILicenseTemplate.sol"),
    ("PILicenseTemplate", f"getLicenseTermsId({PIL})", "0x602f6b9b", f"{LIC}/IPILicenseTemplate.sol"),
    ("PILicenseTemplate", "getLicenseTerms(uint256)", "0xd1908a9c", f"{SDK}/PILicenseTemplate.json"),
    ("PILicenseTemplate", "exists(uint256)", "0x4f558e79", f"{LIC}/ILicenseTemplate.sol"),
    ("PILicenseTemplate", "totalRegisteredLicenseTerms()", "0x225b88f1", f"{LIC}/ILicenseTemplate.sol"),
    ("PILicenseTemplate", "name()", "0x06fdde03", f"{LIC}/ILicenseTemplate.sol"),
    ("PILicenseTemplate", "getRoyaltyPolicy(uint256)", "0x60c2b0f8", f"{LIC}/ILicenseTemplate.sol"),
    ("PILicenseTemplate", "isLicenseTransferable(uint256)", "0xc32b6fcc", f"{LIC}/ILicenseTemplate.sol"),
    ("PILicenseTemplate", "getLicenseTermsURI(uint256)", "0xd944a9bf", f"{LIC}/ILicenseTemplate.sol"),
    ("LicenseRegistry", "exists(address,uint256)", "0xed2933ed", REG),
    ("LicenseRegistry", "hasIpAttachedLicenseTerms(address,address,uint256)", "0x72480247", REG),
    ("LicenseRegistry", "getAttachedLicenseTerms(address,uint256)", "0x1c5fa352", REG),
    ("LicenseRegistry", "getAttachedLicenseTermsCount(address)", "0x390e5e12", REG),
    ("LicenseRegistry", "isDerivativeIp(address)", "0x7280f24c", REG),
    ("LicenseRegistry", "hasDerivativeIps(address)", "0x86f1280c", REG),
    ("LicenseRegistry", "isParentIp(address,address)", "0x64879f40", REG),
    ("LicenseRegistry", "getParentIp(address,uint256)", "0x8f363bab", REG),
    ("LicenseRegistry", "getParentIpCount(address)", "0x22a47744", REG),
    ("LicenseRegistry", "getDerivativeIp(address,uint256)", "0x064d7dd1", REG),
    ("LicenseRegistry", "getDerivativeIpCount(address)", "0xc9909883", REG),
    ("LicenseRegistry", "isRegisteredLicenseTemplate(address)", "0x61ab6be1", REG),
    ("LicenseRegistry", "registerLicenseTemplate(address)", "0x18b00f83", REG),
    ("LicenseRegistry", "attachLicenseTermsToIp(address,address,uint256)", "0x2cad22f8", REG),
    ("LicenseRegistry", "registerDerivativeIp(address,address[],address,uint256[],bool)", "0xc88cc6c8", REG),
    ("LicensingModule", "attachLicenseTerms(address,address,uint256)", "0x2a4130c0", f"{SDK}/LicensingModule.json"),
    (
        "LicensingModule",
        "mintLicenseTokens(address,address,uint256,uint256,address,bytes,uint256,uint32)",
        "0x02bf96a5",
        f"{DOCS} LicensingModule",
    ),
    (
        "LicensingModule",
        "registerDerivative(address,address[],uint256[],address,bytes,uint256,uint32,uint32)",
        "0x4a4d56c5",
        f"{DOCS} LicensingModule",
    ),
    (
        "LicensingModule",
        "predictMintingLicenseFee(address,address,uint256,uint256,address,bytes)",
        "0xc918f3f2",
        f"{SDK}/LicensingModule.json",
    ),
    (
        "LicensingModule",
        "registerDerivativeWithLicenseTokens(address,uint256[],bytes,uint32)",
        "0x938b7b7a",
        f"{DOCS} LicensingModule",
    ),
    ("LicenseToken", "burnLicenseTokens(address,uint256[])", "0x1eb5ce4e", f"{CORE}/ILicenseToken.sol"),
    ("LicenseToken", "totalMintedTokens()", "0x8e32e316", f"{CORE}/ILicenseToken.sol"),
    ("LicenseToken", "getLicensorIpId(uint256)", "0xac83c87d", f"{CORE}/ILicenseToken.sol"),
    ("LicenseToken", "getLicenseTermsId(uint256)", "0xfa599517", f"{CORE}/ILicenseToken.sol"),
    ("LicenseToken", "getLicenseTemplate(uint256)", "0xb033c13a", f"{CORE}/ILicenseToken.sol"),
    ("LicenseToken", "isLicenseTokenRevoked(uint256)", "0x0b92771c", f"{CORE}/ILicenseToken.sol"),
    ("LicenseToken", "ownerOf(uint256)", "0x6352211e", f"{CORE}/ILicenseToken.sol (IERC721)"),
    ("RoyaltyModule", "payRoyaltyOnBehalf(address,address,address,uint256)", "0xd2577f3b", ROY),
    ("RoyaltyModule", "payLicenseMintingFee(address,address,address,uint256)", "0x41a03d5f", ROY),
    ("RoyaltyModule", "ipRoyaltyVaults(address)", "0x7a112e79", ROY),
    ("RoyaltyModule", "isWhitelistedRoyaltyToken(address)", "0x926e04fd", ROY),
    ("RoyaltyModule", "isIpRoyaltyVault(address)", "0x3f7aef8c", ROY),
    ("RoyaltyModule", "whitelistRoyaltyToken(address,bool)", "0x520cbac6", ROY),
    ("RoyaltyModule", "totalRevenueTokensReceived(address,address)", "0xba85fc06", ROY),
    ("ERC6551Registry", "createAccount(address,bytes32,uint256,address,uint256)", "0x8a54c52f", EIP),
    ("ERC6551Registry", "account(address,bytes32,uint256,address,uint256)", "0x246a0021", EIP),
    ("IPAccountImpl", "token()", "0xfc0c546a", f"{EIP}; {SDK}/IPAccountImpl.json"),
    ("IPAccountImpl", "owner()", "0x8da5cb5b", f"{EIP}; {SDK}/IPAccountImpl.json"),
    ("IPAccountImpl", "state()", "0xc19d93fb", f"{EIP}; {SDK}/IPAccountImpl.json"),
    ("IPAccountImpl", "isValidSigner(address,bytes)", "0x523e3260", EIP),
    ("IPAccountImpl", "execute(address,uint256,bytes)", "0xb61d27f6", f"{SDK}/IPAccountImpl.json"),
    ("IPAccountImpl", "execute(address,uint256,bytes,uint8)", "0x51945447", EIP),
]

# (our contract, Story event signature, indexed argument names in order, topic0, source)
STORY_EVENTS: list[tuple[str, str, tuple[str, ...], str, str]] = [
    (
        "IPAssetRegistry",
        "IPRegistered(address,uint256,address,uint256,string,string,uint256)",
        ("chainId", "tokenContract", "tokenId"),
        "0x02ad3a2e0356b65fdfe4a73c825b78071ae469db35162978518b8c258abb3767",
        f"{SDK}/IPAssetRegistry.json",
    ),
    (
        "IPAssetRegistry",
        "IPAccountRegistered(address,address,uint256,address,uint256)",
        ("account", "implementation", "chainId"),
        "0x5be70b68c8361762980ec7d425d79fd33f6d49cac8a498e6ddf514f995b987f7",
        f"{SDK}/IPAssetRegistry.json",
    ),
    (
        "PILicenseTemplate",
        "LicenseTermsRegistered(uint256,address,bytes)",
        ("licenseTermsId", "licenseTemplate"),
        "0xc0cd215d0b608421b2e8018c8113a4b008ea0c6044fbc739df6dc79c3b4c42b8",
        f"{LIC}/ILicenseTemplate.sol",
    ),
    (
        "LicenseRegistry",
        "LicenseTemplateRegistered(address)",
        ("licenseTemplate",),
        "0xb0a3cb301d633699407339936b303684dc49053c2a0e643f5d72abbc418ef69e",
        REG,
    ),
    (
        "LicensingModule",
        "LicenseTermsAttached(address,address,address,uint256)",
        ("caller", "ipId"),
        "0xb8d0577f110d8cf9f2c63ba14b0511362a85865bf03ea4f1c8a10ddc490244c7",
        f"{SDK}/LicensingModule.json",
    ),
    (
        "LicensingModule",
        "LicenseTokensMinted(address,address,address,uint256,uint256,address,uint256)",
        ("caller", "licensorIpId", "licenseTermsId"),
        "0x0d96f072d487d7f8b4891a4e4cf14e8cdad444a34248230085c20808d57caa1a",
        f"{SDK}/LicensingModule.json",
    ),
    (
        "LicensingModule",
        "DerivativeRegistered(address,address,uint256[],address[],uint256[],address)",
        ("caller", "childIpId"),
        "0x61fd21a7f55188eedf0350d3d5d208084941bfbf3dbf7b7e15760ff36b7d2355",
        f"{SDK}/LicensingModule.json",
    ),
    (
        "LicenseToken",
        "LicenseTokenMinted(address,address,uint256)",
        ("minter", "receiver", "tokenId"),
        "0x14fc68fa3d99c92bb4159f5ae1ddd4bbf7b874931534c08ac40467d7ece273d6",
        f"{CORE}/ILicenseToken.sol",
    ),
    (
        "RoyaltyModule",
        "RoyaltyPaid(address,address,address,address,uint256,uint256)",
        (),
        "0xa3acc6b7f3ea8e264c0cd03337cc54765023f009bf8060aca0dbd690b2ee71c7",
        ROY,
    ),
    (
        "RoyaltyModule",
        "LicenseMintingFeePaid(address,address,address,uint256,uint256)",
        (),
        "0xdeeeddde87dde665dcee3ca53037b2c4b1e35224f404cea3b46d43b2f886de37",
        ROY,
    ),
    (
        "RoyaltyModule",
        "IpRoyaltyVaultDeployed(address,address)",
        (),
        "0x9b121abe66766d494dd26a360a6b3e23f8e733398bc2ab92d96d354e7227537e",
        ROY,
    ),
    (
        "RoyaltyModule",
        "RoyaltyTokenWhitelistUpdated(address,bool)",
        (),
        "0xb40e5b8c4310e269d81608ec0e28372febb69a03ed8ace904c86459366cc3627",
        ROY,
    ),
    (
        "ERC6551Registry",
        "ERC6551AccountCreated(address,address,bytes32,uint256,address,uint256)",
        ("implementation", "tokenContract", "tokenId"),
        "0x79f19b3655ee38b1ce526556b7731a20c8f218fbda4a3990b6cc4172fdf88722",
        EIP,
    ),
]


def _type(param: dict) -> str:
    if param["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + param["type"][len("tuple") :]
    return str(param["type"])


def _functions(contract: str) -> dict[str, str]:
    """signature -> selector of our compiled contract."""
    out = {}
    for entry in load_artifact(contract).abi:
        if entry.get("type") == "function":
            signature = f"{entry['name']}({','.join(_type(i) for i in entry['inputs'])})"
            out[signature] = "0x" + keccak(text=signature)[:4].hex()
    return out


def _events(contract: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """event signature -> (topic0, indexed names) of our compiled contract."""
    out = {}
    for entry in load_artifact(contract).abi:
        if entry.get("type") == "event":
            signature = f"{entry['name']}({','.join(_type(i) for i in entry['inputs'])})"
            indexed = tuple(i["name"] for i in entry["inputs"] if i.get("indexed"))
            out[signature] = ("0x" + keccak(text=signature).hex(), indexed)
    return out


@pytest.mark.parametrize(("contract", "signature", "selector", "source"), STORY_FUNCTIONS)
def test_function_selector_matches_story(contract: str, signature: str, selector: str, source: str) -> None:
    assert "0x" + keccak(text=signature)[:4].hex() == selector, f"collected data inconsistent ({source})"
    ours = _functions(contract)
    assert ours.get(signature) == selector, f"{contract} lacks Story's {signature} ({source})"


@pytest.mark.parametrize(("contract", "signature", "indexed", "topic", "source"), STORY_EVENTS)
def test_event_topic_and_indexed_fields_match_story(
    contract: str, signature: str, indexed: tuple[str, ...], topic: str, source: str
) -> None:
    assert "0x" + keccak(text=signature).hex() == topic, f"collected data inconsistent ({source})"
    ours = _events(contract)
    assert signature in ours, f"{contract} lacks Story's event {signature} ({source})"
    our_topic, our_indexed = ours[signature]
    assert our_topic == topic
    assert our_indexed == indexed, f"{contract}.{signature}: indexed {our_indexed}, Story indexes {indexed}"


def test_pil_terms_struct_has_storys_17_fields_in_order() -> None:
    (entry,) = [e for e in load_artifact("PILicenseTemplate").abi if e.get("name") == "registerLicenseTerms"]
    fields = [(c["name"], c["type"]) for c in entry["inputs"][0]["components"]]
    assert fields == [
        ("transferable", "bool"), ("royaltyPolicy", "address"), ("defaultMintingFee", "uint256"),
        ("expiration", "uint256"), ("commercialUse", "bool"), ("commercialAttribution", "bool"),
        ("commercializerChecker", "address"), ("commercializerCheckerData", "bytes"),
        ("commercialRevShare", "uint32"), ("commercialRevCeiling", "uint256"), ("derivativesAllowed", "bool"),
        ("derivativesAttribution", "bool"), ("derivativesApproval", "bool"), ("derivativesReciprocal", "bool"),
        ("derivativeRevCeiling", "uint256"), ("currency", "address"), ("uri", "string"),
    ]  # fmt: skip


@pytest.mark.parametrize("name", story_artifact_names())
def test_contracts_fit_the_24kib_code_size_limit(name: str) -> None:
    runtime = bytes.fromhex(load_artifact(name).deployed_bytecode[2:])
    assert 0 < len(runtime) <= 24_576
