"""ModelMarketplace on anvil with the local Story suite and a MockV3Aggregator ETH/USD feed."""

from __future__ import annotations

from fractions import Fraction

import pytest
from marketplace_world import ETH_USD_8, HEARTBEAT, LIST_PRICE

from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.chain.contracts.marketplace import PRICER_ROLE, metric_basis
from anacostia_blockchain.chain.contracts.price_feed import ChainlinkPriceFeed, usd_units
from anacostia_blockchain.errors import ConfigurationError, CustomContractError, StalePriceError


def independent_wei(price_usd_units: int, answer: int, decimals: int) -> int:
    """ceil((price / 1e18 USD) / (answer / 10**decimals USD per ETH) * 1e18 wei), by rational arithmetic."""
    exact = Fraction(price_usd_units, 10**18) / Fraction(answer, 10**decimals) * 10**18
    return -(-exact.numerator // exact.denominator)


def paid_for_gas(receipt_like) -> int:
    return int(receipt_like["gasUsed"]) * int(receipt_like["effectiveGasPrice"])


def test_quote_matches_an_independent_integer_computation(market):
    client = market.market_as(market.buyer)
    expected = independent_wei(LIST_PRICE, ETH_USD_8, 8)
    assert client.quote(market.setup.token_id) == expected
    assert (expected - 1) * ETH_USD_8 < LIST_PRICE * 10**8 <= expected * ETH_USD_8  # rounded up, by one wei at most
    for usd in ("0.000000000000000001", "1", "123456.789012345678901234"):
        assert client.quote_usd(usd_units(usd)) == independent_wei(usd_units(usd), ETH_USD_8, 8)


def test_quote_with_an_18_decimal_feed(market):
    feed18 = market.seller.deploy("MockV3Aggregator", 18, 1_999_999999999999999999)
    market.seller.transact(market.market_as(market.seller).contract, "configureFeed", feed18.address, HEARTBEAT,
                           "0x" + "00" * 20, 0)
    quote = market.market_as(market.buyer).quote(market.setup.token_id)
    assert quote == independent_wei(LIST_PRICE, 1_999_999999999999999999, 18)


def test_stale_feed_is_rejected_on_chain(market):
    client = market.market_as(market.buyer)
    market.advance(HEARTBEAT + 1)
    with pytest.raises(CustomContractError) as info:
        client.quote(market.setup.token_id)
    assert info.value.error_name == "StalePrice"
    assert info.value.error_args[1] == HEARTBEAT
    with pytest.raises(CustomContractError) as buying:
        client.buy(market.setup.token_id, 10**18)
    assert buying.value.error_name == "StalePrice"


@pytest.mark.parametrize("answer", [0, -5])
def test_zero_or_negative_answer_is_rejected_on_chain(market, answer):
    market.seller.transact(market.feed, "updateAnswer", answer)
    with pytest.raises(CustomContractError) as info:
        market.market_as(market.buyer).quote(market.setup.token_id)
    assert info.value.error_name == "InvalidPrice"
    assert info.value.error_args == (answer,)


def test_sequencer_uptime_feed_on_chain(market):
    sequencer = market.seller.deploy("MockV3Aggregator", 0, 1)  # 1 = down
    market_contract = market.market_as(market.seller).contract
    market.seller.transact(market_contract, "configureFeed", market.setup.feed, HEARTBEAT, sequencer.address, 600)
    client = market.market_as(market.buyer)
    with pytest.raises(CustomContractError) as down:
        client.quote(market.setup.token_id)
    assert down.value.error_name == "SequencerDown"
    now = market.now()
    market.seller.transact(sequencer, "updateRoundData", 2, 0, now, now - 60)
    with pytest.raises(CustomContractError) as grace:
        client.quote(market.setup.token_id)
    assert grace.value.error_name == "GracePeriodNotOver"
    market.seller.transact(sequencer, "updateRoundData", 3, 0, now, now - 3600)
    assert client.quote(market.setup.token_id) == independent_wei(LIST_PRICE, ETH_USD_8, 8)


def test_buy_with_too_little_eth_reverts(market):
    client = market.market_as(market.buyer)
    price = client.quote(market.setup.token_id)
    with pytest.raises(CustomContractError) as info:
        client.buy(market.setup.token_id, price - 1)
    assert info.value.error_name == "InsufficientPayment"
    assert info.value.error_args == (price, price - 1)
    assert client.proceeds(market.seller.signer.address) == 0
    assert int(market.license_token.call("balanceOf", market.buyer.signer.address)) == 0


def test_buy_refunds_the_excess_and_mints_a_license_to_the_buyer(market):
    client = market.market_as(market.buyer)
    buyer = market.buyer.signer.address
    price = client.quote(market.setup.token_id)
    before = market.client.balance(buyer)
    purchase = client.buy(market.setup.token_id, price + 10**18)
    receipt = market.client.get_receipt(purchase.tx_hash)
    assert before - market.client.balance(buyer) == price + paid_for_gas(receipt)
    assert (purchase.paid_wei, purchase.refund_wei) == (price, 10**18)
    assert market.client.balance(market.setup.market) == price
    assert client.proceeds(market.seller.signer.address) == price
    assert market.license_token.call("ownerOf", purchase.license_token_id).lower() == buyer.lower()
    assert purchase.buyer == buyer and purchase.seller == market.seller.signer.address
    minted = [e for e in Contract.at(market.client, "LicensingModule", market.setup.story.licensing_module)
              .events("LicenseTokensMinted") if e.tx_hash == purchase.tx_hash]
    assert len(minted) == 1
    assert minted[0].args["licenseTermsId"] == market.setup.terms_id


def test_exact_payment_and_seller_withdrawal(market):
    buyer_client = market.market_as(market.buyer)
    price = buyer_client.quote(market.setup.token_id)
    assert buyer_client.buy(market.setup.token_id, price).refund_wei == 0
    seller_client = market.market_as(market.seller)
    seller = market.seller.signer.address
    before = market.client.balance(seller)
    assert seller_client.withdraw() == price
    withdraw_tx = seller_client.contract.events("ProceedsWithdrawn", seller=seller)[-1].tx_hash
    assert market.client.balance(seller) - before == price - paid_for_gas(market.client.get_receipt(withdraw_tx))
    assert market.client.balance(market.setup.market) == 0
    with pytest.raises(CustomContractError) as again:
        seller_client.withdraw()
    assert again.value.error_name == "NothingToWithdraw"


@pytest.mark.parametrize("mode", [1, 2], ids=["reenter-buy", "reenter-withdraw"])
def test_reentrancy_attempt_fails(market, test_artifacts, mode):
    attacker = market.stranger.deploy(test_artifacts["ReentrantBuyer"], market.setup.market)
    client = market.market_as(market.stranger)
    price = client.quote(market.setup.token_id)
    with pytest.raises(CustomContractError) as info:
        market.stranger.transact(attacker, "attack", market.setup.token_id, mode, value=2 * price + 1)
    assert info.value.error_name == "ReentrancyGuardReentrantCall"
    assert market.client.balance(market.setup.market) == 0
    assert client.proceeds(market.seller.signer.address) == 0
    assert int(market.license_token.call("balanceOf", attacker.address)) == 0
    assert int(attacker.call("reentries")) == 0  # the attempt was rolled back with everything else


def test_price_update_rights(market):
    token = market.setup.token_id
    with pytest.raises(CustomContractError) as info:
        market.market_as(market.stranger).set_price(token, usd_units("1"))
    assert info.value.error_name == "NotListerOrPricer"
    assert market.market_as(market.buyer).listing(token).price_usd == LIST_PRICE
    market.market_as(market.seller).set_price(token, usd_units("59.99"))
    assert market.market_as(market.buyer).listing(token).price_usd == usd_units("59.99")
    market.market_as(market.seller).grant_pricer(market.pricer.signer.address)
    basis = metric_basis(b"\x01" * 32, 1, "accuracy", 93 * 10**16, 0)
    market.market_as(market.pricer).set_price(token, usd_units("79"), basis)
    updates = market.market_as(market.buyer).contract.events("PriceUpdated", tokenId=token)
    assert [(u.args["newPriceUsd"], u.args["basis"]) for u in updates][-1] == (usd_units("79"), "0x" + basis.hex())
    assert updates[-1].args["by"].lower() == market.pricer.signer.address.lower()
    with pytest.raises(CustomContractError) as zero:
        market.seller.transact(market.market_as(market.seller).contract, "setPrice", token, 0, b"\x00" * 32)
    assert zero.value.error_name == "ZeroPrice"
    assert market.market_as(market.buyer).contract.call("hasRole", PRICER_ROLE, market.pricer.signer.address)


def test_listing_rules(market):
    seller_client = market.market_as(market.seller)
    token = market.setup.token_id
    with pytest.raises(CustomContractError) as twice:
        seller_client.list_model(token, LIST_PRICE, market.setup.terms_id)
    assert twice.value.error_name == "AlreadyListed"
    with pytest.raises(CustomContractError) as not_owner:
        market.market_as(market.stranger).list_model(token, LIST_PRICE, market.setup.terms_id)
    assert not_owner.value.error_name == "NotTokenOwner"
    nft = Contract.at(market.client, "ModelNFT", market.setup.nft)
    receipt = market.seller.transact(nft, "mint", market.seller.signer.address, "ipfs://bafkreitwo", b"\x01" * 32, 2,
                                     b"\x02" * 32, "bafkreimanifest2")
    second = int(nft.decode_log(receipt["logs"][-1]).args["tokenId"])
    with pytest.raises(CustomContractError) as unregistered:
        seller_client.list_model(second, LIST_PRICE, market.setup.terms_id)
    assert unregistered.value.error_name == "IpNotRegistered"
    with pytest.raises(ConfigurationError):
        seller_client.list_model(second, 0, market.setup.terms_id)


def test_a_listing_dies_with_the_sellers_ownership_and_on_delist(market):
    token = market.setup.token_id
    buyer_client = market.market_as(market.buyer)
    price = buyer_client.quote(token)
    nft = Contract.at(market.client, "ModelNFT", market.setup.nft)
    seller, other = market.seller.signer.address, market.stranger.signer.address
    market.seller.transact(nft, "transferFrom", seller, other, token)
    with pytest.raises(CustomContractError) as moved:
        buyer_client.buy(token, price)
    assert moved.value.error_name == "ListingOwnerChanged"
    market.stranger.transact(nft, "transferFrom", other, seller, token)
    market.market_as(market.seller).delist(token)
    with pytest.raises(CustomContractError) as gone:
        buyer_client.quote(token)
    assert gone.value.error_name == "NotListed"


def test_python_reader_and_contract_agree_on_price_and_staleness(market):
    reader = ChainlinkPriceFeed(market.client, market.setup.feed, heartbeat=HEARTBEAT)
    client = market.market_as(market.buyer)
    assert reader.quote_wei(LIST_PRICE) == client.quote(market.setup.token_id)
    now = market.now()
    market.seller.transact(market.feed, "updateRoundData", 7, ETH_USD_8, now - HEARTBEAT + 2, now - HEARTBEAT + 2)
    assert reader.quote_wei(LIST_PRICE) == client.quote(market.setup.token_id)  # still within the heartbeat
    market.advance(5)
    with pytest.raises(StalePriceError):
        reader.latest()
    with pytest.raises(CustomContractError) as info:
        client.quote(market.setup.token_id)
    assert info.value.error_name == "StalePrice"


def test_terms_with_a_story_minting_fee_cannot_be_listed(market):
    """The purchase is the license and the listing price its only fee: terms that also charge a Story minting fee
    could never be bought through the marketplace, so listing them is refused up front."""
    from anacostia_blockchain.chain.story import StoryClient
    from anacostia_blockchain.chain.story.terms import commercial_use

    story = StoryClient(market.client, market.seller, market.setup.story)
    currency = market.setup.story.test_currency
    fee_terms = story.register_pil_terms(commercial_use(minting_fee=5 * 10**18, currency=currency))
    story.attach_terms(market.setup.ip_id, fee_terms.license_terms_id)
    seller_client = market.market_as(market.seller)
    seller_client.delist(market.setup.token_id)
    with pytest.raises(CustomContractError) as refused:
        seller_client.list_model(market.setup.token_id, LIST_PRICE, fee_terms.license_terms_id)
    assert refused.value.error_name == "LicenseTermsHaveMintingFee"
    assert refused.value.error_args[0] == fee_terms.license_terms_id and refused.value.error_args[2] == 5 * 10**18
    seller_client.list_model(market.setup.token_id, LIST_PRICE, market.setup.terms_id)  # the fee-free terms list


def test_terms_not_attached_to_the_ip_cannot_be_listed(market):
    from anacostia_blockchain.chain.story import StoryClient
    from anacostia_blockchain.chain.story.terms import commercial_remix

    story = StoryClient(market.client, market.seller, market.setup.story)
    other = story.register_pil_terms(
        commercial_remix(minting_fee=0, rev_share_percent=10, currency=market.setup.story.test_currency)
    ).license_terms_id
    seller_client = market.market_as(market.seller)
    seller_client.delist(market.setup.token_id)
    with pytest.raises(CustomContractError) as refused:
        seller_client.list_model(market.setup.token_id, LIST_PRICE, other)  # registered, never attached
    assert refused.value.error_name == "LicenseTermsNotAttached"
    assert refused.value.error_args[2] == other and refused.value.error_args[1].lower() == market.setup.ip_id.lower()
    story.attach_terms(market.setup.ip_id, other)
    seller_client.list_model(market.setup.token_id, LIST_PRICE, other)
    assert market.market_as(market.buyer).listing(market.setup.token_id).license_terms_id == other


def test_only_the_lister_or_an_admin_may_delist(market):
    market.market_as(market.seller).grant_pricer(market.pricer.signer.address)
    for outsider in (market.stranger, market.pricer):  # a pricer reprices but may not take a listing down
        with pytest.raises(CustomContractError) as refused:
            market.market_as(outsider).delist(market.setup.token_id)
        assert refused.value.error_name == "NotListerOrAdmin"
    assert market.market_as(market.buyer).listing(market.setup.token_id).active
