"""Third-party tooling talks to the story-compat devnet with Story's own ABI, not ours: calls encoded and events
decoded from ABI fragments as Story publishes them (storyprotocol/python-sdk abi/jsons, core v1.3 docs) work
unchanged against the suite at Story's Aeneid addresses."""

from __future__ import annotations

from typing import Any

from anacostia_blockchain.chain.abi.contract import Contract
from anacostia_blockchain.chain.story import STORY_NETWORKS
from anacostia_blockchain.chain.story.terms import commercial_use

from .conftest import StoryWorld

AENEID = STORY_NETWORKS[1315]


def _param(name: str, kind: str, indexed: bool | None = None, components: list[Any] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "type": kind, "internalType": kind}
    if indexed is not None:
        entry["indexed"] = indexed
    if components is not None:
        entry["components"] = components
    return entry


def _fn(name: str, inputs: list[dict[str, Any]], outputs: list[dict[str, Any]], mutability: str) -> dict[str, Any]:
    return {"type": "function", "name": name, "inputs": inputs, "outputs": outputs, "stateMutability": mutability}


def _event(name: str, inputs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "event", "name": name, "inputs": inputs, "anonymous": False}


PIL_TERMS_COMPONENTS = [
    _param(n, t)
    for n, t in [
        ("transferable", "bool"), ("royaltyPolicy", "address"), ("defaultMintingFee", "uint256"),
        ("expiration", "uint256"), ("commercialUse", "bool"), ("commercialAttribution", "bool"),
        ("commercializerChecker", "address"), ("commercializerCheckerData", "bytes"),
        ("commercialRevShare", "uint32"), ("commercialRevCeiling", "uint256"), ("derivativesAllowed", "bool"),
        ("derivativesAttribution", "bool"), ("derivativesApproval", "bool"), ("derivativesReciprocal", "bool"),
        ("derivativeRevCeiling", "uint256"), ("currency", "address"), ("uri", "string"),
    ]
]  # fmt: skip

STORY_IP_ASSET_REGISTRY_ABI = [
    _fn("register", [_param("chainid", "uint256"), _param("tokenContract", "address"), _param("tokenId", "uint256")],
        [_param("id", "address")], "nonpayable"),
    _fn("isRegistered", [_param("id", "address")], [_param("", "bool")], "view"),
    _event("IPRegistered", [
        _param("ipId", "address", False), _param("chainId", "uint256", True),
        _param("tokenContract", "address", True), _param("tokenId", "uint256", True),
        _param("name", "string", False), _param("uri", "string", False),
        _param("registrationDate", "uint256", False),
    ]),
]  # fmt: skip

STORY_PIL_TEMPLATE_ABI = [
    _fn("registerLicenseTerms", [_param("terms", "tuple", components=PIL_TERMS_COMPONENTS)],
        [_param("selectedLicenseTermsId", "uint256")], "nonpayable"),
    _event("LicenseTermsRegistered", [
        _param("licenseTermsId", "uint256", True), _param("licenseTemplate", "address", True),
        _param("licenseTerms", "bytes", False),
    ]),
]  # fmt: skip

STORY_LICENSING_MODULE_ABI = [
    _fn("attachLicenseTerms", [_param("ipId", "address"), _param("licenseTemplate", "address"),
                               _param("licenseTermsId", "uint256")], [], "nonpayable"),
    _fn("mintLicenseTokens", [
        _param("licensorIpId", "address"), _param("licenseTemplate", "address"), _param("licenseTermsId", "uint256"),
        _param("amount", "uint256"), _param("receiver", "address"), _param("royaltyContext", "bytes"),
        _param("maxMintingFee", "uint256"), _param("maxRevenueShare", "uint32"),
    ], [_param("startLicenseTokenId", "uint256")], "nonpayable"),
    _event("LicenseTermsAttached", [
        _param("caller", "address", True), _param("ipId", "address", True),
        _param("licenseTemplate", "address", False), _param("licenseTermsId", "uint256", False),
    ]),
    _event("LicenseTokensMinted", [
        _param("caller", "address", True), _param("licensorIpId", "address", True),
        _param("licenseTemplate", "address", False), _param("licenseTermsId", "uint256", True),
        _param("amount", "uint256", False), _param("receiver", "address", False),
        _param("startLicenseTokenId", "uint256", False),
    ]),
]  # fmt: skip


def test_storys_published_abi_drives_the_local_suite(world: StoryWorld) -> None:
    client = world.client
    registry = Contract.from_abi(client, "Story IPAssetRegistry", STORY_IP_ASSET_REGISTRY_ABI, AENEID.ip_asset_registry)
    template = Contract.from_abi(client, "Story PILicenseTemplate", STORY_PIL_TEMPLATE_ABI, AENEID.pil_license_template)
    module = Contract.from_abi(client, "Story LicensingModule", STORY_LICENSING_MODULE_ABI, AENEID.licensing_module)
    owner, buyer = world.sender(1), world.sender(2)
    nft, token_id = world.mint_nft(1)

    receipt = owner.transact(registry, "register", 1315, nft.address, token_id)
    (registered,) = [log for log in map(registry.decode_log, receipt.logs) if log and log.name == "IPRegistered"]
    ip_id = registered.args["ipId"]
    assert registered.args["tokenContract"] == nft.address and registered.args["tokenId"] == token_id
    assert registered.args["uri"] == "ipfs://mock/0" and registry.call("isRegistered", ip_id)

    terms = commercial_use(minting_fee=7, currency=AENEID.test_currency, royalty_policy=AENEID.royalty_policy_lap)
    receipt = owner.transact(template, "registerLicenseTerms", terms.as_tuple())
    (terms_log,) = [log for log in map(template.decode_log, receipt.logs) if log]
    terms_id = terms_log.args["licenseTermsId"]
    assert terms_log.args["licenseTemplate"] == AENEID.pil_license_template

    receipt = owner.transact(module, "attachLicenseTerms", ip_id, AENEID.pil_license_template, terms_id)
    (attached,) = [log for log in map(module.decode_log, receipt.logs) if log]
    assert (attached.name, attached.args["ipId"], attached.args["licenseTermsId"]) == ("LicenseTermsAttached", ip_id,
                                                                                     terms_id)  # fmt: skip

    world.fund(2, 7)
    buyer.transact(world.currency(), "approve", AENEID.royalty_module, 7)
    receipt = buyer.transact(
        module, "mintLicenseTokens", ip_id, AENEID.pil_license_template, terms_id, 1, buyer.signer.address, b"", 7, 0
    )
    minted = [log for log in map(module.decode_log, receipt.logs) if log and log.name == "LicenseTokensMinted"]
    assert minted[0].args["licensorIpId"] == ip_id and minted[0].args["receiver"] == buyer.signer.address
    assert minted[0].args["startLicenseTokenId"] == 0
    assert world.currency().call("balanceOf", buyer.signer.address) == 0
