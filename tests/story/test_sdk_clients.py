"""Story's official SDKs — Python ``story-protocol-python-sdk`` 0.3.18 and TypeScript ``@story-protocol/core-sdk``
1.4.4 with viem, from their registries — drive the local suite on ``devnet --story-compat`` through every supported
flow; each test checks one flow's on-chain result with this project's own client (owners, terms, balances, royalty
amounts), for both SDKs. The two SDK runs happen once per module, in parallel (sdk_runs.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_utils import keccak

from anacostia_blockchain.chain.abi.contract import Contract
from anacostia_blockchain.chain.dev.story_devnet import start_story_devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story.addresses import aeneid
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.errors import CustomContractError

from .sdk_runs import Chain, SdkRun, finish_runs, start_runs

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("story_sdk")]

SDKS = ("python", "typescript")
LAP = aeneid("RoyaltyPolicyLAP")
PIL = aeneid("PILicenseTemplate")
MOCK_ERC20 = aeneid("MockERC20")
WIP = aeneid("WIP")
UNSUPPORTED_SELECTOR = keccak(text="StoryCompat__Unsupported(bytes32,bytes4)")[:4].hex()


class World:
    def __init__(self, chain: Chain, runs: dict[str, SdkRun], nft: str) -> None:
        self.chain = chain
        self.runs = runs
        self.nft = nft

    def run(self, sdk: str) -> dict[str, Any]:
        run = self.runs[sdk]
        if run.skipped:
            pytest.skip(run.skipped)
        assert run.failure is None, f"the {sdk} SDK run failed: {run.failure}"
        return run.output

    def step(self, sdk: str, name: str) -> Any:
        """One step's result; a step that raised fails here with the SDK's error."""
        value = self.run(sdk)[name]
        assert not (isinstance(value, dict) and "error" in value), f"{sdk} SDK step {name!r} failed: {value}"
        return value


def lower(value: Any) -> Any:
    """Addresses compared case-insensitively (struct and tuple results are not checksummed)."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, (list, tuple)):
        return type(value)(lower(v) for v in value)
    return value


def _get(value: dict[str, Any], *names: str) -> Any:
    """A field under its Python (snake_case) or TypeScript (camelCase) name."""
    for name in names:
        if name in value:
            return value[name]
    raise KeyError(f"none of {names} in {value}")


def ip_of(value: dict[str, Any]) -> str:
    return str(_get(value, "ip_id", "ipId"))


def terms_of(value: dict[str, Any]) -> int:
    return int(_get(value, "license_terms_id", "licenseTermsId"))


def token_ids(value: dict[str, Any]) -> list[int]:
    return [int(t) for t in _get(value, "license_token_ids", "licenseTokenIds")]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    devnet, _ = start_story_devnet()
    try:
        client = ChainClient(devnet.rpc_url, expected_chain_id=1315)
        with TxSender(client, LocalSigner.from_key(devnet.accounts[0].private_key)) as sender:
            nft = sender.deploy("MockERC721")
        runs = finish_runs(start_runs(devnet, nft.address))
        yield World(Chain(client), runs, nft.address)
    finally:
        devnet.stop()


@pytest.mark.parametrize("sdk", SDKS)
def test_plain_registration_makes_the_nft_holder_own_the_ip(world: World, sdk: str) -> None:
    ip_id = ip_of(world.step(sdk, "register_plain"))
    token = int(world.run(sdk)["plain_token"])
    registry = world.chain.at("IPAssetRegistry", "IPAssetRegistry")
    assert registry.call("isRegistered", ip_id)
    assert registry.call("ipId", 1315, world.nft, token) == ip_id
    owner = Contract.at(world.chain.client, "IPAccountImpl", ip_id).call("owner")
    assert owner == world.run(sdk)["a"]


@pytest.mark.parametrize("sdk", SDKS)
def test_registration_with_metadata_sets_it_through_the_owners_signature(world: World, sdk: str) -> None:
    ip_id = ip_of(world.step(sdk, "register_with_metadata"))
    token = int(world.run(sdk)["meta_token"])
    view = world.chain.at("CoreMetadataViewModule", "CoreMetadataViewModule")
    uri, meta_hash, nft_uri, nft_hash, registered_at, owner = view.call("getCoreMetadata", ip_id)
    expected = {"python": ("ipfs://ip-meta", "11", "22"), "typescript": ("ipfs://ts-ip-meta", "aa", "bb")}[sdk]
    assert (uri, meta_hash, nft_hash) == (expected[0], bytes.fromhex(expected[1] * 32), bytes.fromhex(expected[2] * 32))
    assert nft_uri == f"ipfs://mock/{token}" and lower(owner) == lower(world.run(sdk)["a"]) and registered_at > 0
    # the workflow acted with a one-transaction permission: nothing persists for it afterwards
    controller = world.chain.at("AccessController", "AccessController")
    set_all = keccak(text="setAll(address,string,bytes32,bytes32)")[:4]
    permission = controller.call(
        "getPermanentPermission", ip_id, aeneid("RegistrationWorkflows"), aeneid("CoreMetadataModule"), set_all
    )
    assert permission == 0


@pytest.mark.parametrize("sdk", SDKS)
def test_pil_flavors_are_registered_with_storys_fields(world: World, sdk: str) -> None:
    template = world.chain.at("PILicenseTemplate", "PILicenseTemplate")
    ncsr = template.call("getLicenseTerms", terms_of(world.step(sdk, "terms_ncsr")))
    use = template.call("getLicenseTerms", terms_of(world.step(sdk, "terms_commercial_use")))
    remix = template.call("getLicenseTerms", terms_of(world.step(sdk, "terms_commercial_remix")))
    # (transferable, royaltyPolicy, fee, expiration, commercialUse, ..., revShare[8], ..., derivativesAllowed[10],
    #  ..., derivativesReciprocal[13], ..., currency[15], uri)
    assert lower((ncsr[4], ncsr[10], ncsr[13], ncsr[1])) == (False, True, True, "0x" + "0" * 40)
    assert lower((use[1], use[2], use[4], use[10], use[15])) == lower((LAP, 10, True, False, MOCK_ERC20))
    remix_fields = (remix[1], remix[2], remix[4], remix[8], remix[10], remix[15])
    assert lower(remix_fields) == lower((LAP, 100, True, 10_000_000, True, MOCK_ERC20))
    default_template, default_id = world.chain.at("LicenseRegistry", "LicenseRegistry").call("getDefaultLicenseTerms")
    assert (lower(default_template), default_id) == (PIL.lower(), 1)


@pytest.mark.parametrize("sdk", SDKS)
def test_attached_terms_are_recorded_for_the_ip(world: World, sdk: str) -> None:
    parent = ip_of(world.step(sdk, "register_plain"))
    for name in ("attach_ncsr", "attach_commercial_use", "attach_commercial_remix"):
        world.step(sdk, name)
    registry = world.chain.at("LicenseRegistry", "LicenseRegistry")
    use, remix = terms_of(world.step(sdk, "terms_commercial_use")), terms_of(world.step(sdk, "terms_commercial_remix"))
    assert [registry.call("hasIpAttachedLicenseTerms", parent, PIL, t) for t in (1, use, remix)] == [True] * 3
    assert registry.call("getAttachedLicenseTermsCount", parent) == 3


@pytest.mark.parametrize("sdk", SDKS)
def test_licenses_are_minted_with_and_without_fee(world: World, sdk: str) -> None:
    out = world.run(sdk)
    parent = ip_of(world.step(sdk, "register_plain"))
    token = world.chain.at("LicenseToken", "LicenseToken")
    free, paid = token_ids(world.step(sdk, "mint_license_free")), token_ids(world.step(sdk, "mint_license_paid"))
    assert len(free) == 2 and len(paid) == 3
    for license_id in free + paid:
        assert token.call("ownerOf", license_id) == out["b"]
        assert token.call("getLicensorIpId", license_id) == parent
    assert {token.call("getLicenseTermsId", i) for i in free} == {1}
    assert {token.call("getLicenseTermsId", i) for i in paid} == {terms_of(world.step(sdk, "terms_commercial_use"))}
    prediction = world.step(sdk, "predict_fee")
    assert int(_get(prediction, "amount", "tokenAmount")) == 200  # 2 x the remix terms' fee of 100
    # revenue received by the parent: 3 x 10 (commercial use) + 100 (derivative link) + 100 (remix license)
    royalty = world.chain.at("RoyaltyModule", "RoyaltyModule")
    assert royalty.call("totalRevenueTokensReceived", parent, MOCK_ERC20) == 230


@pytest.mark.parametrize("sdk", SDKS)
def test_derivatives_link_directly_and_with_license_tokens(world: World, sdk: str) -> None:
    parent = ip_of(world.step(sdk, "register_plain"))
    child, child2 = ip_of(world.step(sdk, "register_child")), ip_of(world.step(sdk, "register_child2"))
    world.step(sdk, "link_derivative_terms")
    world.step(sdk, "link_derivative_tokens")
    registry = world.chain.at("LicenseRegistry", "LicenseRegistry")
    remix = terms_of(world.step(sdk, "terms_commercial_remix"))
    for derivative in (child, child2):
        assert registry.call("isParentIp", parent, derivative) and registry.call("getParentIpCount", derivative) == 1
        assert registry.call("hasIpAttachedLicenseTerms", derivative, PIL, remix)
    (used,) = token_ids(world.step(sdk, "mint_license_remix"))
    with pytest.raises(CustomContractError) as burned:
        world.chain.at("LicenseToken", "LicenseToken").call("ownerOf", used)
    assert burned.value.error_name == "ERC721NonexistentToken"
    assert world.chain.at("RoyaltyPolicyLAP", "RoyaltyPolicyLAP").call("getPolicyRoyaltyStack", child) == 10_000_000


@pytest.mark.parametrize("sdk", SDKS)
def test_royalties_flow_to_the_ancestor_and_are_claimed(world: World, sdk: str) -> None:
    out = world.run(sdk)
    parent, child = ip_of(world.step(sdk, "register_plain")), ip_of(world.step(sdk, "register_child"))
    world.step(sdk, "pay_royalty")
    assert int(world.step(sdk, "claimable_before")) == 230  # the fees, before the royalty's share is collected
    claimed = world.step(sdk, "claim_all_revenue")
    tokens = _get(claimed, "claimed_tokens", "claimedTokens")
    assert [lower((t["claimer"], t["token"], int(t["amount"]))) for t in tokens] == [lower((parent, MOCK_ERC20, 330))]
    royalty = world.chain.at("RoyaltyModule", "RoyaltyModule")
    vault = Contract.at(world.chain.client, "IpRoyaltyVault", royalty.call("ipRoyaltyVaults", parent))
    assert vault.call("claimableRevenue", parent, MOCK_ERC20) == 0
    # of the 1,000 paid to the child, its 10% LAP stack went to the policy and on to the parent; 900 stay with it
    child_vault = royalty.call("ipRoyaltyVaults", child)
    currency = world.chain.at("MockERC20", "MockERC20")
    assert currency.call("balanceOf", child_vault) == 900
    lap = world.chain.at("RoyaltyPolicyLAP", "RoyaltyPolicyLAP")
    assert lap.call("getTransferredTokens", child, parent, MOCK_ERC20) == 100
    # the SDK moved the claimed tokens from the IP account to the owner's wallet (IPAccount.executeBatch)
    assert currency.call("balanceOf", parent) == 0 and currency.call("balanceOf", out["a"]) == 330


@pytest.mark.parametrize("sdk", SDKS)
def test_collections_mint_register_and_deliver(world: World, sdk: str) -> None:
    out = world.run(sdk)
    collection = world.step(sdk, "create_collection")
    spg = Contract.at(world.chain.client, "SPGNFT", str(_get(collection, "nft_contract", "spgNftContract")))
    names = {"python": ("SDK Flows", "FLOW"), "typescript": ("TS Flows", "TSF")}[sdk]
    assert (spg.call("name"), spg.call("symbol")) == names
    assert spg.call("publicMinting") and spg.call("mintOpen")
    minted = world.step(sdk, "mint_and_register")
    token_id, ip_id = int(_get(minted, "token_id", "tokenId")), ip_of(minted)
    assert spg.call("ownerOf", token_id) == out["b"]  # delivered to the recipient
    registry = world.chain.at("IPAssetRegistry", "IPAssetRegistry")
    assert registry.call("ipId", 1315, spg.address, token_id) == ip_id and registry.call("isRegistered", ip_id)
    uri = world.chain.at("CoreMetadataViewModule", "CoreMetadataViewModule").call("getMetadataURI", ip_id)
    assert uri == {"python": "ipfs://minted-ip", "typescript": "ipfs://ts-minted-ip"}[sdk]


@pytest.mark.parametrize("sdk", SDKS)
def test_terms_are_attached_with_licensing_configs_by_the_workflows(world: World, sdk: str) -> None:
    out = world.run(sdk)
    registry = world.chain.at("LicenseRegistry", "LicenseRegistry")
    for name in ("mint_register_attach", "register_attach_with_sig"):
        result = world.step(sdk, name)
        ip_id = ip_of(result)
        (terms_id,) = [int(t) for t in _get(result, "license_terms_ids", "licenseTermsIds")]
        assert registry.call("hasIpAttachedLicenseTerms", ip_id, PIL, terms_id)
        config = registry.call("getLicensingConfig", ip_id, PIL, terms_id)
        assert (config[0], config[1], config[4]) == (True, 60, 25_000_000)  # isSet, mintingFee, commercialRevShare
        assert registry.call("getRoyaltyPercent", ip_id, PIL, terms_id) == 25_000_000
    owned = ip_of(world.step(sdk, "register_attach_with_sig"))
    assert Contract.at(world.chain.client, "IPAccountImpl", owned).call("owner") == out["a"]
    reported = world.step(sdk, "licensing_config")
    assert int(_get(reported, "minting_fee", "mintingFee")) == 60


@pytest.mark.parametrize("sdk", SDKS)
def test_derivative_workflow_pays_the_parent_in_wip(world: World, sdk: str) -> None:
    parent = ip_of(world.step(sdk, "mint_register_attach"))
    child = ip_of(world.step(sdk, "mint_derivative_wip_fee"))
    assert world.chain.at("LicenseRegistry", "LicenseRegistry").call("isParentIp", parent, child)
    royalty = world.chain.at("RoyaltyModule", "RoyaltyModule")
    # the configured fee of 60 WIP for the derivative (and, for the TypeScript run, 60 for a license the SDK paid by
    # wrapping IP through Multicall3, then 2 x 50 charged by the token-limit hook, which uses the terms' fee)
    expected = {"python": 60, "typescript": 60 + 60 + 2 * 50}[sdk]
    assert royalty.call("totalRevenueTokensReceived", parent, WIP) == expected


@pytest.mark.parametrize("sdk", SDKS)
def test_royalty_tokens_are_distributed_on_registration(world: World, sdk: str) -> None:
    out = world.run(sdk)
    ip_id = ip_of(world.step(sdk, "mint_with_royalty_shares"))
    royalty = world.chain.at("RoyaltyModule", "RoyaltyModule")
    vault = Contract.at(world.chain.client, "IpRoyaltyVault", royalty.call("ipRoyaltyVaults", ip_id))
    assert vault.call("balanceOf", out["b"]) == 30_000_000 and vault.call("balanceOf", ip_id) == 70_000_000
    assert vault.call("ipId") == ip_id and vault.call("decimals") == 6


@pytest.mark.parametrize("sdk", SDKS)
def test_wip_wraps_and_unwraps_the_native_token(world: World, sdk: str) -> None:
    out = world.run(sdk)
    for name in ("wip_deposit", "wip_transfer", "wip_withdraw"):
        world.step(sdk, name)
    wip = world.chain.at("WIP", "WIP")
    assert wip.call("balanceOf", out["a"]) == 5000 - 1200 - 800
    assert wip.call("totalSupply") == world.chain.client.balance(WIP)  # fully backed


@pytest.mark.parametrize("sdk", SDKS)
def test_permissions_let_an_operator_act_for_the_ip(world: World, sdk: str) -> None:
    out = world.run(sdk)
    parent = ip_of(world.step(sdk, "register_plain"))
    world.step(sdk, "set_permission")
    world.step(sdk, "set_metadata_as_operator")
    controller = world.chain.at("AccessController", "AccessController")
    module = aeneid("CoreMetadataModule")
    set_all = keccak(text="setAll(address,string,bytes32,bytes32)")[:4]
    assert controller.call("getPermanentPermission", parent, out["b"], module, set_all) == 1
    uri = world.chain.at("CoreMetadataViewModule", "CoreMetadataViewModule").call("getMetadataURI", parent)
    assert uri == {"python": "ipfs://by-operator", "typescript": "ipfs://ts-by-operator"}[sdk]
    if sdk == "typescript":  # the operator's setMetadataURI permission was granted through executeWithSig
        world.step(sdk, "execute_with_sig")
        set_uri = keccak(text="setMetadataURI(address,string,bytes32)")[:4]
        assert controller.call("getPermanentPermission", parent, out["b"], module, set_uri) == 1
        assert Contract.at(world.chain.client, "IPAccountImpl", parent).call("state") != b"\0" * 32


def test_batch_registration_goes_through_multicall3(world: World) -> None:
    out = world.run("python")
    batch = world.step("python", "batch_register")
    registry = world.chain.at("IPAssetRegistry", "IPAssetRegistry")
    assert sorted(int(r["token_id"]) for r in batch["results"]) == sorted(out["batch_tokens"])
    for token in out["batch_tokens"]:
        assert registry.call("isRegistered", registry.call("ipId", 1315, world.nft, token))
    tx = world.chain.client.rpc("eth_getTransactionByHash", ["0x" + batch["tx_hash"].removeprefix("0x")])
    assert tx["to"].lower() == aeneid("Multicall3").lower()


def test_the_token_limit_hook_refuses_licenses_beyond_the_limit(world: World) -> None:
    attached = world.step("typescript", "mint_register_attach")
    world.step("typescript", "set_max_license_tokens")
    assert len(token_ids(world.step("typescript", "mint_up_to_the_limit"))) == 2
    refused = world.run("typescript")["mint_over_the_limit"]
    selector = keccak(text="TotalLicenseTokenLimitHook_TotalLicenseTokenLimitExceeded(uint256,uint256,uint256)")[:4]
    assert "error" in refused
    assert "TotalLicenseTokenLimitExceeded" in refused["error"] or selector.hex() in refused["error"]
    hook = world.chain.at("TotalLicenseTokenLimitHook", "TotalLicenseTokenLimitHook")
    terms_id = int(_get(attached, "license_terms_ids", "licenseTermsIds")[0])
    assert hook.call("getTotalLicenseTokenLimit", ip_of(attached), PIL, terms_id) == 2
    assert hook.call("getTotalLicenseTokenSupply", ip_of(attached), PIL, terms_id) == 2


@pytest.mark.parametrize("sdk", SDKS)
def test_unsupported_modules_answer_with_a_clear_error(world: World, sdk: str) -> None:
    refused = world.run(sdk)["raise_dispute"]
    assert isinstance(refused, dict) and "error" in refused, f"raising a dispute should fail: {refused}"
    assert UNSUPPORTED_SELECTOR in refused["error"]
