"""The Story suite on a real anvil placed at Story's Aeneid addresses (chain id 1315): the full IP flow through the
typed client, the ERC-6551 derivation of ipIds, authorization, fees, idempotent re-registration, derivatives."""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.chain.story import (
    ERC6551_REGISTRY,
    STORY_NETWORKS,
    StoryClient,
    ip_id_for,
)
from anacostia_blockchain.chain.story.terms import (
    ZERO_ADDRESS,
    PILTerms,
    commercial_remix,
    commercial_use,
    non_commercial_social_remixing,
)
from anacostia_blockchain.errors import ConfigurationError, CustomContractError

from .conftest import StoryWorld

FEE = 10**18
AENEID = STORY_NETWORKS[1315]


def test_suite_sits_at_storys_published_addresses(world: StoryWorld) -> None:
    for name, address in AENEID.as_dict().items():
        assert world.client.get_code(address), f"{name} has no code at {address}"
    registry = Contract.at(world.client, "IPAssetRegistry", AENEID.ip_asset_registry)
    assert registry.call("ERC6551_PUBLIC_REGISTRY") == ERC6551_REGISTRY
    assert registry.call("IP_ACCOUNT_IMPL") == AENEID.ip_account_impl
    assert registry.call("IP_ACCOUNT_SALT") == b"\x00" * 32
    assert Contract.at(world.client, "PILicenseTemplate", AENEID.pil_license_template).call("name") == "pil"
    assert Contract.at(world.client, "LicenseToken", AENEID.license_token).call("symbol") == "PILicenseToken"


def test_full_flow_register_terms_attach_mint_and_royalty(world: StoryWorld) -> None:
    nft, token_id = world.mint_nft(1)
    owner = world.story(1)
    registration = owner.register_ip(nft.address, token_id)
    assert registration.created and owner.is_registered(registration.ip_id)
    assert owner.ip_owner(registration.ip_id) == world.devnet.accounts[1].address

    lap = AENEID.royalty_policy_lap
    terms = commercial_remix(
        minting_fee=FEE, currency=AENEID.test_currency, rev_share_percent="12.5", royalty_policy=lap
    )
    registered = owner.register_pil_terms(terms)
    assert registered.created and registered.license_terms_id == 2  # id 1: Story's default terms
    assert owner.license_terms(registered.license_terms_id) == terms
    attachment = owner.attach_terms(registration.ip_id, registered.license_terms_id)
    assert attachment.created and owner.has_terms(registration.ip_id, registered.license_terms_id)

    buyer_address = world.fund(2, 5 * FEE)
    buyer = world.story(2)
    minted = buyer.mint_license_tokens(registration.ip_id, registered.license_terms_id, amount=2)
    assert minted.token_ids == (0, 1) and minted.fee_paid == 2 * FEE
    license_token = Contract.at(world.client, "LicenseToken", AENEID.license_token)
    for token in minted.token_ids:
        assert license_token.call("ownerOf", token) == buyer_address
        assert license_token.call("getLicensorIpId", token) == registration.ip_id
        assert license_token.call("getLicenseTermsId", token) == registered.license_terms_id

    payer = world.story(2)
    payment = payer.pay_royalty(registration.ip_id, AENEID.test_currency, FEE)
    currency = world.currency()
    assert currency.call("balanceOf", payment.vault) == 3 * FEE  # two minting fees + the royalty (no ancestors)
    vault = Contract.at(world.client, "IpRoyaltyVault", payment.vault)
    # the IP account holds all 100,000,000 royalty tokens, so all revenue is claimable for it (by anyone)
    assert vault.call("balanceOf", registration.ip_id) == 100_000_000
    assert vault.call("claimableRevenue", registration.ip_id, AENEID.test_currency) == 3 * FEE
    world.sender(3).transact(vault, "claimRevenueOnBehalf", registration.ip_id, AENEID.test_currency)
    assert currency.call("balanceOf", registration.ip_id) == 3 * FEE
    # only the owner moves it out of the IP account
    account = Contract.at(world.client, "IPAccountImpl", registration.ip_id)
    transfer = currency.encode("transfer", world.devnet.accounts[5].address, 3 * FEE)
    world.sender(1).transact(account, "execute(address,uint256,bytes)", currency.address, 0, transfer)
    assert currency.call("balanceOf", world.devnet.accounts[5].address) == 3 * FEE
    assert currency.call("balanceOf", payment.vault) == 0


def test_ip_id_equals_the_erc6551_derivation(world: StoryWorld) -> None:
    nft, token_id = world.mint_nft(1)
    story = world.story(1)
    offline = ip_id_for(1315, nft.address, token_id)
    # the independent derivation, spelled out: CREATE2 by the canonical registry over the EIP-6551 proxy initcode
    initcode = (
        bytes.fromhex("3d60ad80600a3d3981f3363d3d373d3d3d363d73")
        + bytes.fromhex(AENEID.ip_account_impl[2:])
        + bytes.fromhex("5af43d82803e903d91602b57fd5bf3")
        + abi_encode(["bytes32", "uint256", "address", "uint256"], [b"\x00" * 32, 1315, nft.address, token_id])
    )
    create2 = keccak(b"\xff" + bytes.fromhex(ERC6551_REGISTRY[2:]) + b"\x00" * 32 + keccak(initcode))[12:]
    assert offline.lower() == "0x" + create2.hex()
    erc6551 = Contract.at(world.client, "ERC6551Registry", ERC6551_REGISTRY)
    assert erc6551.call("account", AENEID.ip_account_impl, b"\x00" * 32, 1315, nft.address, token_id) == offline
    assert story.ip_id(nft.address, token_id) == offline  # before registration
    registration = story.register_ip(nft.address, token_id)
    assert registration.ip_id == offline
    runtime = world.client.get_code(offline)
    assert runtime == initcode[10:]  # the account's code is the 173-byte proxy + footer (initcode minus its header)
    account = Contract.at(world.client, "IPAccountImpl", offline)
    assert account.call("token") == (1315, nft.address, token_id)


def test_non_owner_attach_reverts_with_the_decoded_story_error(world: StoryWorld) -> None:
    nft, token_id = world.mint_nft(1)
    owner = world.story(1)
    ip_id = owner.register_ip(nft.address, token_id).ip_id
    terms_id = owner.register_pil_terms(non_commercial_social_remixing()).license_terms_id
    stranger = world.story(3)
    with pytest.raises(CustomContractError) as caught:
        stranger.attach_terms(ip_id, terms_id)
    error = caught.value
    assert error.error_name == "AccessController__PermissionDenied"
    ip_account, signer, to, func = error.error_args
    assert (ip_account.lower(), signer.lower(), to.lower()) == (
        ip_id.lower(),
        world.devnet.accounts[3].address.lower(),
        AENEID.licensing_module.lower(),
    )
    assert func == keccak(text="attachLicenseTerms(address,address,uint256)")[:4]
    assert not owner.has_terms(ip_id, terms_id)


def test_minting_pays_the_fee_into_the_licensor_vault_and_respects_max_fee(world: StoryWorld) -> None:
    nft, token_id = world.mint_nft(1)
    owner = world.story(1)
    ip_id = owner.register_ip(nft.address, token_id).ip_id
    terms_id = owner.register_pil_terms(commercial_use(minting_fee=FEE, currency=AENEID.test_currency)).license_terms_id
    owner.attach_terms(ip_id, terms_id)
    buyer_address = world.fund(2, 3 * FEE)
    buyer = world.story(2)
    currency = world.currency()
    with pytest.raises(CustomContractError) as too_expensive:
        buyer.mint_license_tokens(ip_id, terms_id, amount=3, max_minting_fee=2 * FEE)
    assert too_expensive.value.error_name == "LicensingModule__MintingFeeExceedMaxMintingFee"
    assert too_expensive.value.error_args == (3 * FEE, 2 * FEE)
    assert currency.call("balanceOf", buyer_address) == 3 * FEE  # nothing taken by the reverted mint
    minted = buyer.mint_license_tokens(ip_id, terms_id, amount=3, max_minting_fee=3 * FEE)
    assert minted.fee_paid == 3 * FEE and minted.currency == AENEID.test_currency
    assert currency.call("balanceOf", buyer_address) == 0
    assert currency.call("balanceOf", owner.royalty_vault(ip_id)) == 3 * FEE
    poor = world.story(4)
    with pytest.raises(CustomContractError) as unpaid:
        poor.mint_license_tokens(ip_id, terms_id)
    assert unpaid.value.error_name == "ERC20InsufficientBalance"


def test_registration_terms_and_attachment_are_idempotent(world: StoryWorld) -> None:
    nft, token_id = world.mint_nft(1)
    story = world.story(1)
    first = story.register_ip(nft.address, token_id)
    again = story.register_ip(nft.address, token_id)
    assert (again.ip_id, again.created, again.tx_hash) == (first.ip_id, False, None)
    registry = Contract.at(world.client, "IPAssetRegistry", AENEID.ip_asset_registry)
    assert registry.call("totalSupply") == 1
    with pytest.raises(CustomContractError) as raw_again:  # the contract itself refuses a second registration
        world.sender(1).transact(registry, "register", 1315, nft.address, token_id)
    assert raw_again.value.error_name == "IPAssetRegistry__AlreadyRegistered"

    terms = non_commercial_social_remixing().with_changes(expiration=3600)
    t1, t2 = story.register_pil_terms(terms), story.register_pil_terms(terms)
    assert t1.created and not t2.created and t1.license_terms_id == t2.license_terms_id
    a1, a2 = story.attach_terms(first.ip_id, t1.license_terms_id), story.attach_terms(first.ip_id, t1.license_terms_id)
    assert a1.created and not a2.created
    license_registry = Contract.at(world.client, "LicenseRegistry", AENEID.license_registry)
    assert license_registry.call("getAttachedLicenseTermsCount", first.ip_id) == 1


def test_terms_are_deduplicated_and_numbered_from_one(world: StoryWorld) -> None:
    story = world.story(1)
    a = story.register_pil_terms(non_commercial_social_remixing())
    b = story.register_pil_terms(commercial_use(minting_fee=5, currency=AENEID.test_currency))
    c = story.register_pil_terms(commercial_use(minting_fee=5, currency=AENEID.test_currency.lower()))
    assert (a.license_terms_id, b.license_terms_id, c.license_terms_id) == (1, 2, 2)
    template = Contract.at(world.client, "PILicenseTemplate", AENEID.pil_license_template)
    assert template.call("totalRegisteredLicenseTerms") == 2
    assert template.call("exists", 2) and not template.call("exists", 3) and not template.call("exists", 0)


def test_template_rejects_inconsistent_terms_with_decoded_errors(world: StoryWorld) -> None:
    template = Contract.at(world.client, "PILicenseTemplate", AENEID.pil_license_template)
    bad = list(PILTerms().as_tuple())
    bad[8] = 5_000_000  # commercialRevShare on non-commercial terms
    with pytest.raises(CustomContractError) as caught:
        world.sender(1).transact(template, "registerLicenseTerms", tuple(bad))
    assert caught.value.error_name == "PILicenseTemplate__CommercialDisabled_CantAddRevShare"
    with pytest.raises(ConfigurationError, match="non-commercial"):
        PILTerms(commercial_rev_share=5_000_000)


def test_derivative_registration_links_child_to_parent_and_pays_parent(world: StoryWorld) -> None:
    parent_nft, parent_token = world.mint_nft(1)
    parent_owner = world.story(1)
    parent = parent_owner.register_ip(parent_nft.address, parent_token).ip_id
    terms = commercial_remix(minting_fee=FEE, currency=AENEID.test_currency, rev_share_percent=10)
    terms_id = parent_owner.register_pil_terms(terms).license_terms_id
    parent_owner.attach_terms(parent, terms_id)

    child_nft, child_token = world.mint_nft(2)
    world.fund(2, FEE)
    child_owner = world.story(2)
    child = child_owner.register_ip(child_nft.address, child_token).ip_id
    with pytest.raises(CustomContractError) as too_low:
        child_owner.register_derivative(child, [parent], [terms_id], max_revenue_share_units=1_000_000)
    assert too_low.value.error_name == "LicensingModule__ExceedMaxRevenueShare"
    child_owner.register_derivative(child, [parent], [terms_id])
    registry = Contract.at(world.client, "LicenseRegistry", AENEID.license_registry)
    assert registry.call("isDerivativeIp", child) and registry.call("isParentIp", parent, child)
    assert registry.call("getParentIp", child, 0) == parent
    assert child_owner.has_terms(child, terms_id)  # the parent's terms became the child's
    assert world.currency().call("balanceOf", child_owner.royalty_vault(parent)) == FEE


def test_non_transferable_license_tokens_cannot_change_hands(world: StoryWorld) -> None:
    nft, token_id = world.mint_nft(1)
    owner = world.story(1)
    ip_id = owner.register_ip(nft.address, token_id).ip_id
    terms_id = owner.register_pil_terms(non_commercial_social_remixing().with_changes(transferable=False))
    owner.attach_terms(ip_id, terms_id.license_terms_id)
    holder = world.story(2)
    minted = holder.mint_license_tokens(ip_id, terms_id.license_terms_id)
    assert minted.fee_paid == 0
    license_token = Contract.at(world.client, "LicenseToken", AENEID.license_token)
    holder_address = world.devnet.accounts[2].address
    with pytest.raises(CustomContractError) as caught:
        world.sender(2).transact(
            license_token, "transferFrom", holder_address, world.devnet.accounts[3].address, minted.token_ids[0]
        )
    assert caught.value.error_name == "LicenseToken__NotTransferable"


def test_read_only_client_refuses_writes(world: StoryWorld) -> None:
    reader = StoryClient.for_network(world.client)
    nft, token_id = world.mint_nft(1)
    with pytest.raises(ConfigurationError, match="read-only"):
        reader.register_ip(nft.address, token_id)


def test_the_ip_account_acts_for_its_owner_only(world: StoryWorld) -> None:
    nft, token_id = world.mint_nft(1)
    owner = world.story(1)
    ip_id = owner.register_ip(nft.address, token_id).ip_id
    terms_id = owner.register_pil_terms(non_commercial_social_remixing()).license_terms_id
    account = Contract.at(world.client, "IPAccountImpl", ip_id)
    assert account.call("supportsInterface", bytes.fromhex("6faff5f1"))  # IERC6551Account
    assert account.call("supportsInterface", bytes.fromhex("51945447"))  # IERC6551Executable
    calldata = owner.licensing_module.encode("attachLicenseTerms", ip_id, AENEID.pil_license_template, terms_id)
    with pytest.raises(CustomContractError) as caught:
        world.sender(3).transact(account, "execute(address,uint256,bytes)", AENEID.licensing_module, 0, calldata)
    assert caught.value.error_name == "AccessController__PermissionDenied"
    assert account.call("state") == b"\x00" * 32
    # the owner attaches through the IP account: the licensing module sees the ipId itself as the caller
    world.sender(1).transact(account, "execute(address,uint256,bytes)", AENEID.licensing_module, 0, calldata)
    execute_call = account.encode("execute(address,uint256,bytes)", AENEID.licensing_module, 0, calldata)
    expected_state = keccak(abi_encode(["bytes32", "bytes"], [b"\x00" * 32, execute_call]))
    assert owner.has_terms(ip_id, terms_id) and account.call("state") == expected_state
    # transferring the NFT transfers control of the IP
    world.sender(1).transact(nft, "transferFrom", world.devnet.accounts[1].address, world.devnet.accounts[3].address, 0)
    assert owner.ip_owner(ip_id) == world.devnet.accounts[3].address


def test_royalty_revenue_goes_to_royalty_token_holders_only(world: StoryWorld) -> None:
    nft, token_id = world.mint_nft(1)
    owner = world.story(1)
    ip_id = owner.register_ip(nft.address, token_id).ip_id
    world.fund(2, 10)
    payment = world.story(2).pay_royalty(ip_id, AENEID.test_currency, 10)  # deploys the IP's vault first
    vault = Contract.at(world.client, "IpRoyaltyVault", payment.vault)
    stranger = world.devnet.accounts[2].address
    assert vault.call("claimableRevenue", stranger, AENEID.test_currency) == 0
    with pytest.raises(CustomContractError) as caught:
        world.sender(2).transact(vault, "claimRevenueOnBehalf", stranger, AENEID.test_currency)
    assert caught.value.error_name == "IpRoyaltyVault__NoClaimableTokens"
    assert vault.call("claimableRevenue", ip_id, AENEID.test_currency) == 10
    other = world.sender(2).deploy("MockERC20")  # a real ERC-20, but not whitelisted
    world.sender(2).transact(other, "mint", world.devnet.accounts[2].address, 10)
    with pytest.raises(ConfigurationError, match="not a whitelisted royalty token"):
        world.story(2).pay_royalty(ip_id, other.address, 1)
    world.sender(2).transact(other, "approve", AENEID.royalty_module, 1)
    royalty = Contract.at(world.client, "RoyaltyModule", AENEID.royalty_module)
    with pytest.raises(CustomContractError) as unlisted:
        world.sender(2).transact(royalty, "payRoyaltyOnBehalf", ip_id, ZERO_ADDRESS, other.address, 1)
    assert unlisted.value.error_name == "RoyaltyModule__NotWhitelistedRoyaltyToken"


def test_a_bought_license_token_registers_a_derivative_and_is_burned(world: StoryWorld) -> None:
    parent_nft, parent_token = world.mint_nft(1)
    parent_owner = world.story(1)
    parent = parent_owner.register_ip(parent_nft.address, parent_token).ip_id
    terms_id = parent_owner.register_pil_terms(non_commercial_social_remixing()).license_terms_id
    parent_owner.attach_terms(parent, terms_id)
    child_nft, child_token = world.mint_nft(2)
    child_owner = world.story(2)
    child = child_owner.register_ip(child_nft.address, child_token).ip_id
    (license_id,) = child_owner.mint_license_tokens(parent, terms_id).token_ids
    stranger = world.story(3)
    with pytest.raises(CustomContractError) as caught:
        stranger.register_derivative_with_license_tokens(child, [license_id])
    assert caught.value.error_name == "AccessController__PermissionDenied"
    child_owner.register_derivative_with_license_tokens(child, [license_id])
    registry = Contract.at(world.client, "LicenseRegistry", AENEID.license_registry)
    assert registry.call("getParentIp", child, 0) == parent and child_owner.has_terms(child, terms_id)
    license_token = Contract.at(world.client, "LicenseToken", AENEID.license_token)
    with pytest.raises(CustomContractError) as burned:
        license_token.call("ownerOf", license_id)
    assert burned.value.error_name == "ERC721NonexistentToken"
    with pytest.raises(CustomContractError) as twice:  # the token is gone
        child_owner.register_derivative_with_license_tokens(child, [license_id])
    assert twice.value.error_name == "ERC721NonexistentToken"


def test_a_derivative_keeps_its_parents_terms_and_cannot_add_others(world: StoryWorld) -> None:
    parent_nft, parent_token = world.mint_nft(1)
    parent_owner = world.story(1)
    parent = parent_owner.register_ip(parent_nft.address, parent_token).ip_id
    inherited = parent_owner.register_pil_terms(non_commercial_social_remixing()).license_terms_id
    other = parent_owner.register_pil_terms(non_commercial_social_remixing().with_changes(expiration=7200))
    parent_owner.attach_terms(parent, inherited)
    child_nft, child_token = world.mint_nft(2)
    child_owner = world.story(2)
    child = child_owner.register_ip(child_nft.address, child_token).ip_id
    child_owner.register_derivative(child, [parent], [inherited])
    with pytest.raises(CustomContractError) as caught:
        child_owner.attach_terms(child, other.license_terms_id)
    assert caught.value.error_name == "LicensingModule__DerivativesCannotAddLicenseTerms"
    assert not child_owner.has_terms(child, other.license_terms_id) and child_owner.has_terms(child, inherited)
    attached = Contract.at(world.client, "LicenseRegistry", AENEID.license_registry)
    assert attached.call("getAttachedLicenseTermsCount", child) == 1
