"""Story's Python SDK (PyPI ``story-protocol-python-sdk``) through every flow the local suite supports.

Run by tests/story/test_sdk_python.py in its own venv (the SDK pins web3 7.15): ``python py_flows.py`` with
STORY_RPC_URL, STORY_KEY_A / STORY_KEY_B (two funded accounts), STORY_MOCK_ERC721 (an open-mint ERC-721) in the
environment. It drives the SDK only (plus plain ERC-20/721 calls a wallet makes: minting test NFTs and currency,
approvals) and prints one JSON object with what the SDK returned; the test checks those values against the chain.
A step that raises records ``{"error": ...}`` and the run goes on, so one failure shows as one failing assertion.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from story_protocol_python_sdk import (
    ROYALTY_POLICY_LAP_ADDRESS,
    WIP_TOKEN_ADDRESS,
    ZERO_ADDRESS,
    AccessPermission,
    DerivativeDataInput,
    IPMetadataInput,
    LicenseTermsDataInput,
    LicenseTermsInput,
    LicensingConfig,
    MintedNFT,
    MintNFT,
    RoyaltyShareInput,
    StoryClient,
)
from web3 import Web3

MOCK_ERC20 = "0xF2104833d386a2734a4eB3B8ad6FC6812F29E38E"
PIL_TEMPLATE = "0x2E896b0b2Fdb7457499B56AAaA4AE55BCB4Cd316"
ROYALTY_MODULE = "0xD2f60c40fEbccf6311f8B47c4f2Ec6b040400086"
DERIVATIVE_WORKFLOWS = "0x9e2d496f72C547C2C535B167e06ED8729B374a4f"
CORE_METADATA_MODULE = "0x6E81a25C99C6e8430aeC7353325EB138aFE5DC16"
ERC_ABI = [
    {"type": "function", "name": "mint", "stateMutability": "nonpayable",
     "inputs": [{"name": "to", "type": "address"}], "outputs": [{"name": "", "type": "uint256"}]},
    {"type": "function", "name": "mint", "stateMutability": "nonpayable",
     "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}], "outputs": []},
    {"type": "function", "name": "approve", "stateMutability": "nonpayable",
     "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
     "outputs": [{"name": "", "type": "bool"}]},
]  # fmt: skip
TRANSFER_TOPIC = Web3.keccak(text="Transfer(address,address,uint256)")


def main() -> None:
    w3 = Web3(Web3.HTTPProvider(os.environ["STORY_RPC_URL"], request_kwargs={"timeout": 60}))
    a = w3.eth.account.from_key(os.environ["STORY_KEY_A"])
    b = w3.eth.account.from_key(os.environ["STORY_KEY_B"])
    nft721 = Web3.to_checksum_address(os.environ["STORY_MOCK_ERC721"])
    story_a, story_b = StoryClient(w3, a, 1315), StoryClient(w3, b, 1315)
    out: dict[str, Any] = {"a": a.address, "b": b.address}

    def send(account: Any, fn: Any) -> Any:
        tx = fn.build_transaction({"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)})
        tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise RuntimeError(f"wallet transaction reverted: {receipt['transactionHash'].hex()}")
        return receipt

    def mint_nft(account: Any) -> int:
        contract = w3.eth.contract(address=nft721, abi=ERC_ABI)
        receipt = send(account, contract.get_function_by_signature("mint(address)")(account.address))
        (log,) = [log for log in receipt["logs"] if log["topics"][0] == TRANSFER_TOPIC]
        return int.from_bytes(log["topics"][3], "big")

    def fund_and_approve(account: Any, amount: int, spender: str) -> None:
        erc20 = w3.eth.contract(address=MOCK_ERC20, abi=ERC_ABI)
        send(account, erc20.get_function_by_signature("mint(address,uint256)")(account.address, amount))
        send(account, erc20.functions.approve(spender, amount))

    def step(name: str, fn: Callable[[], Any]) -> Any:
        try:
            value = fn()
        except Exception as exc:  # recorded and reported by the test, which names the step
            out[name] = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc(limit=3)}
            return None
        out[name] = _jsonable(value)
        return value

    # --- IP registration: plain and with IP metadata (RegistrationWorkflows.registerIp + signature) ----------------
    plain_token = mint_nft(a)
    out["plain_token"] = plain_token
    plain = step("register_plain", lambda: story_a.IPAsset.register_ip_asset(
        nft=MintedNFT(type="minted", nft_contract=nft721, token_id=plain_token)))
    meta_token = mint_nft(a)
    out["meta_token"] = meta_token
    step("register_with_metadata", lambda: story_a.IPAsset.register_ip_asset(
        nft=MintedNFT(type="minted", nft_contract=nft721, token_id=meta_token),
        ip_metadata=IPMetadataInput(ip_metadata_uri="ipfs://ip-meta", ip_metadata_hash="0x" + "11" * 32,
                                    nft_metadata_uri="ipfs://nft-meta", nft_metadata_hash="0x" + "22" * 32)))

    # --- PIL terms of every flavor ---------------------------------------------------------------------------------
    step("terms_ncsr", lambda: story_a.License.register_non_com_social_remixing_pil())
    use = step("terms_commercial_use", lambda: story_a.License.register_commercial_use_pil(
        default_minting_fee=10, currency=MOCK_ERC20, royalty_policy=ROYALTY_POLICY_LAP_ADDRESS))
    remix = step("terms_commercial_remix", lambda: story_a.License.register_commercial_remix_pil(
        default_minting_fee=100, currency=MOCK_ERC20, commercial_rev_share=10,
        royalty_policy=ROYALTY_POLICY_LAP_ADDRESS))
    parent = plain["ip_id"] if plain else None
    use_id = use["license_terms_id"] if use else None
    remix_id = remix["license_terms_id"] if remix else None

    # --- attach, mint licenses with and without fee ----------------------------------------------------------------
    attachments = (("attach_ncsr", 1), ("attach_commercial_use", use_id), ("attach_commercial_remix", remix_id))
    for name, terms_id in attachments:
        step(name, lambda terms_id=terms_id: story_a.License.attach_license_terms(
            ip_id=parent, license_template=PIL_TEMPLATE, license_terms_id=terms_id))
    step("mint_license_free", lambda: story_b.License.mint_license_tokens(
        licensor_ip_id=parent, license_template=PIL_TEMPLATE, license_terms_id=1, amount=2, receiver=b.address))
    fund_and_approve(b, 10_000, ROYALTY_MODULE)
    step("mint_license_paid", lambda: story_b.License.mint_license_tokens(
        licensor_ip_id=parent, license_template=PIL_TEMPLATE, license_terms_id=use_id, amount=3, receiver=b.address,
        max_minting_fee=30))
    step("predict_fee", lambda: story_b.License.predict_minting_license_fee(
        licensor_ip_id=parent, license_terms_id=remix_id, amount=2))

    # --- derivatives: against parent terms, and with a license token -----------------------------------------------
    child_token = mint_nft(b)
    out["child_token"] = child_token
    child = step("register_child", lambda: story_b.IPAsset.register_ip_asset(
        nft=MintedNFT(type="minted", nft_contract=nft721, token_id=child_token)))
    step("link_derivative_terms", lambda: story_b.IPAsset.link_derivative(
        child_ip_id=child["ip_id"], parent_ip_ids=[parent], license_terms_ids=[remix_id], max_minting_fee=100))
    tokens = step("mint_license_remix", lambda: story_b.License.mint_license_tokens(
        licensor_ip_id=parent, license_template=PIL_TEMPLATE, license_terms_id=remix_id, amount=1, receiver=b.address))
    child2_token = mint_nft(b)
    out["child2_token"] = child2_token
    child2 = step("register_child2", lambda: story_b.IPAsset.register_ip_asset(
        nft=MintedNFT(type="minted", nft_contract=nft721, token_id=child2_token)))
    step("link_derivative_tokens", lambda: story_b.IPAsset.link_derivative(
        child_ip_id=child2["ip_id"], license_token_ids=tokens["license_token_ids"]))

    # --- royalties: pay the child, collect the parent's share, claim it --------------------------------------------
    step("pay_royalty", lambda: story_b.Royalty.pay_royalty_on_behalf(
        receiver_ip_id=child["ip_id"], payer_ip_id=child2["ip_id"], token=MOCK_ERC20, amount=1000))
    step("claimable_before", lambda: story_a.Royalty.claimable_revenue(
        royalty_vault_ip_id=parent, claimer=parent, token=MOCK_ERC20))
    step("claim_all_revenue", lambda: story_a.Royalty.claim_all_revenue(
        ancestor_ip_id=parent, claimer=parent, child_ip_ids=[child["ip_id"]],
        royalty_policies=[ROYALTY_POLICY_LAP_ADDRESS], currency_tokens=[MOCK_ERC20]))

    # --- SPG collections and the workflows -------------------------------------------------------------------------
    collection = step("create_collection", lambda: story_a.NFTClient.create_nft_collection(
        name="SDK Flows", symbol="FLOW", is_public_minting=True, mint_open=True, mint_fee_recipient=a.address,
        contract_uri="ipfs://collection", max_supply=100))
    spg = collection["nft_contract"] if collection else None
    step("mint_and_register", lambda: story_a.IPAsset.register_ip_asset(
        nft=MintNFT(type="mint", spg_nft_contract=spg, recipient=b.address),
        ip_metadata=IPMetadataInput(ip_metadata_uri="ipfs://minted-ip", ip_metadata_hash="0x" + "33" * 32)))
    remix_terms = LicenseTermsInput(
        transferable=True, royalty_policy=ROYALTY_POLICY_LAP_ADDRESS, default_minting_fee=50, expiration=0,
        commercial_use=True, commercial_attribution=True, commercializer_checker=ZERO_ADDRESS,
        commercializer_checker_data=ZERO_ADDRESS, commercial_rev_share=20, commercial_rev_ceiling=0,
        derivatives_allowed=True, derivatives_attribution=True, derivatives_approval=False,
        derivatives_reciprocal=True, derivative_rev_ceiling=0, currency=WIP_TOKEN_ADDRESS, uri="")
    config = LicensingConfig(
        is_set=True, minting_fee=60, licensing_hook=ZERO_ADDRESS, hook_data=ZERO_ADDRESS, commercial_rev_share=25,
        disabled=False, expect_minimum_group_reward_share=0, expect_group_reward_pool=ZERO_ADDRESS)
    attached = step("mint_register_attach", lambda: story_a.IPAsset.register_ip_asset(
        nft=MintNFT(type="mint", spg_nft_contract=spg),
        license_terms_data=[LicenseTermsDataInput(terms=remix_terms, licensing_config=config)]))
    owned_token = mint_nft(a)
    out["owned_token"] = owned_token
    step("register_attach_with_sig", lambda: story_a.IPAsset.register_ip_asset(
        nft=MintedNFT(type="minted", nft_contract=nft721, token_id=owned_token),
        license_terms_data=[LicenseTermsDataInput(terms=remix_terms, licensing_config=config)],
        ip_metadata=IPMetadataInput(ip_metadata_uri="ipfs://owned")))
    step("licensing_config", lambda: story_a.License.get_licensing_config(
        ip_id=attached["ip_id"], license_terms_id=attached["license_terms_ids"][0], license_template=PIL_TEMPLATE))
    wip_parent = attached["ip_id"] if attached else None
    wip_terms = attached["license_terms_ids"][0] if attached else None
    story_b.WIP.deposit(amount=60)
    story_b.WIP.approve(spender=DERIVATIVE_WORKFLOWS, amount=60)
    step("mint_derivative_wip_fee", lambda: story_b.IPAsset.register_derivative_ip_asset(
        nft=MintNFT(type="mint", spg_nft_contract=spg),
        deriv_data=DerivativeDataInput(parent_ip_ids=[wip_parent], license_terms_ids=[wip_terms])))
    step("mint_with_royalty_shares", lambda: story_a.IPAsset.register_ip_asset(
        nft=MintNFT(type="mint", spg_nft_contract=spg),
        license_terms_data=[LicenseTermsDataInput(terms=remix_terms, licensing_config=config)],
        royalty_shares=[RoyaltyShareInput(recipient=b.address, percentage=30)]))

    # --- WIP, IP accounts, permissions, batching, unsupported modules ----------------------------------------------
    step("wip_deposit", lambda: story_a.WIP.deposit(amount=5000))
    step("wip_transfer", lambda: story_a.WIP.transfer(to=b.address, amount=1200))
    step("wip_withdraw", lambda: story_a.WIP.withdraw(amount=800))
    step("set_permission", lambda: story_a.Permission.set_permission(
        ip_id=parent, signer=b.address, to=CORE_METADATA_MODULE, permission=AccessPermission.ALLOW,
        func="setAll(address,string,bytes32,bytes32)"))
    step("set_metadata_as_operator", lambda: _operator_sets_metadata(w3, b, parent, send))
    batch_tokens = [mint_nft(a), mint_nft(a)]
    out["batch_tokens"] = batch_tokens
    step("batch_register", lambda: story_a.IPAsset.batch_register(
        args=[{"nft_contract": nft721, "token_id": t} for t in batch_tokens]))
    step("raise_dispute", lambda: story_a.Dispute.raise_dispute(
        target_ip_id=parent, target_tag="IMPROPER_REGISTRATION", cid="QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR",
        liveness=2592000, bond=0))
    print(json.dumps(out))


def _operator_sets_metadata(w3: Web3, operator: Any, ip_id: str, send: Callable[[Any, Any], Any]) -> str:
    """The operator the owner allowed (``set_permission``) calls CoreMetadataModule.setAll for the IP."""
    abi = [{"type": "function", "name": "setAll", "stateMutability": "nonpayable", "outputs": [],
            "inputs": [{"name": "ipId", "type": "address"}, {"name": "metadataURI", "type": "string"},
                       {"name": "metadataHash", "type": "bytes32"},
                       {"name": "nftMetadataHash", "type": "bytes32"}]}]  # fmt: skip
    module = w3.eth.contract(address=CORE_METADATA_MODULE, abi=abi)
    receipt = send(operator, module.functions.setAll(ip_id, "ipfs://by-operator", b"\x44" * 32, b"\x00" * 32))
    return "0x" + receipt["transactionHash"].hex().removeprefix("0x")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items() if k not in ("receipt", "tx_receipt", "receipts")}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if hasattr(value, "hex") and not isinstance(value, (int, str)):
        text = value.hex()
        return text if text.startswith("0x") else "0x" + text
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        traceback.print_exc()
        sys.exit(1)
