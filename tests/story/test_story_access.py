"""A stranger (an account with no role, owning nothing) tries every guarded state-changing function of the Story
suite on the story-compat devnet and gets the exact custom error of access_review.STORY_GUARDED, decoded by
``chain.revert``; nothing is mined. The world: an IP (owned by account 1) with commercial remix terms attached, a
license token bought by account 2, the IP's royalty vault, a private SPG collection of the IP owner holding token 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from anacostia_blockchain.chain.abi.contract import Contract
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story import StoryAddresses, StoryClient
from anacostia_blockchain.chain.story.addresses import aeneid
from anacostia_blockchain.chain.story.terms import commercial_remix
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.errors import CustomContractError

from .access_review import STORY_GUARDED, STORY_OPEN, ZERO

#: where the guarded contracts live when they are not at their own Aeneid address
ARTIFACT_AT = {"IPAccountImpl": "ip_id", "IpRoyaltyVault": "vault", "SPGNFT": "collection"}

@dataclass
class AccessWorld:
    client: ChainClient
    operator: str
    owner: str
    buyer: str
    stranger: str
    stranger_key: str
    stranger_sender: TxSender
    nft: str
    ip_id: str
    terms_id: int
    terms_tuple: tuple[Any, ...]
    config_tuple: tuple[Any, ...]
    license_token: int
    vault: str
    collection: str
    spare_token: int
    licensing_calldata: bytes

    def address(self, name: str) -> str:
        return aeneid(name)

    def contract(self, artifact: str) -> Contract:
        where = ARTIFACT_AT.get(artifact)
        address = getattr(self, where) if where else aeneid(artifact)
        return Contract.at(self.client, artifact, address)

    def stranger_permit(self, value: int, deadline: int) -> tuple[int, bytes, bytes]:
        """(v, r, s) of an EIP-2612 permit for the owner's WIP, signed by the stranger instead of the owner."""
        wip = self.contract("WIP")
        message = encode_typed_data(full_message={
            "types": {
                "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                 {"name": "chainId", "type": "uint256"},
                                 {"name": "verifyingContract", "type": "address"}],
                "Permit": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"},
                           {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"},
                           {"name": "deadline", "type": "uint256"}],
            },
            "primaryType": "Permit",
            "domain": {"name": "Wrapped IP", "version": "1", "chainId": 1315, "verifyingContract": wip.address},
            "message": {"owner": self.owner, "spender": self.stranger, "value": value,
                        "nonce": wip.call("nonces", self.owner), "deadline": deadline},
        })  # fmt: skip
        signed = Account.sign_message(message, private_key=self.stranger_key)
        return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")

    def stranger_signature(self) -> bytes:
        """A well-formed signature by the stranger (of something else than the call)."""
        signed = Account._sign_hash(keccak(text="not the call"), private_key=self.stranger_key)
        return bytes(signed.signature)


@pytest.fixture(scope="module")
def access_world(story_devnet: tuple[Devnet, StoryAddresses]) -> Iterator[AccessWorld]:
    devnet, addresses = story_devnet
    snapshot = devnet.snapshot()
    client = ChainClient(devnet.rpc_url, expected_chain_id=1315)
    keys = [devnet.accounts[i].private_key for i in (0, 1, 2, 7)]
    operator, owner, buyer, stranger = (TxSender(client, LocalSigner.from_key(k)) for k in keys)
    try:
        nft = owner.deploy("MockERC721")
        owner.transact(nft, "mint", owner.signer.address)
        owner.transact(nft, "mint", owner.signer.address)  # token 1: never registered (the workflows' target)
        story = StoryClient(client, owner, addresses)
        ip_id = story.register_ip(nft.address, 0).ip_id
        terms = commercial_remix(minting_fee=10, currency=addresses.test_currency, rev_share_percent=10,
                                 royalty_policy=addresses.royalty_policy_lap)  # fmt: skip
        terms_id = story.register_pil_terms(terms).license_terms_id
        story.attach_terms(ip_id, terms_id)
        operator.transact(Contract.at(client, "MockERC20", addresses.test_currency), "mint", buyer.signer.address, 10)
        license_token = StoryClient(client, buyer, addresses).mint_license_tokens(ip_id, terms_id).token_ids[0]
        workflows = Contract.at(client, "RegistrationWorkflows", aeneid("RegistrationWorkflows"))
        params = ("Private", "PRV", "", "", 10, 0, ZERO, owner.signer.address, owner.signer.address, True, False)
        receipt = owner.transact(workflows, "createCollection", params)
        (created,) = [log for log in map(workflows.decode_log, receipt.logs) if log and log.name == "CollectionCreated"]
        collection = str(created.args["spgNftContract"])
        owner.transact(Contract.at(client, "SPGNFT", collection), "mint", owner.signer.address, "", b"\0" * 32, True)
        calldata = story.licensing_module.encode("attachLicenseTerms", ip_id, addresses.pil_license_template, terms_id)
        yield AccessWorld(
            client=client, operator=operator.signer.address, owner=owner.signer.address, buyer=buyer.signer.address,
            stranger=stranger.signer.address, stranger_key=keys[3], stranger_sender=stranger, nft=nft.address,
            ip_id=ip_id, terms_id=terms_id, terms_tuple=terms.as_tuple(),
            config_tuple=(True, 10, ZERO, b"", 0, False, 0, ZERO), license_token=license_token,
            vault=story.royalty_vault(ip_id), collection=collection, spare_token=1, licensing_calldata=calldata,
        )  # fmt: skip
    finally:
        for sender in (operator, owner, buyer, stranger):
            sender.close()
        devnet.revert(snapshot)


def _normalise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, list | tuple):
        return tuple(_normalise(v) for v in value)
    return value


@pytest.mark.parametrize("target", sorted(STORY_GUARDED), ids=lambda t: f"{t[0]}.{t[1].split('(')[0]}")
def test_a_stranger_is_refused_with_the_decoded_custom_error(
    access_world: AccessWorld, target: tuple[str, str]
) -> None:
    name, signature = target
    attempt = STORY_GUARDED[target]
    before = access_world.client.block_number()
    with pytest.raises(CustomContractError) as info:
        access_world.stranger_sender.transact(access_world.contract(name), signature, *attempt.call(access_world))
    error = info.value
    assert error.error_name == attempt.error, str(error)
    assert _normalise(error.error_args) == _normalise(attempt.error_args(access_world)), str(error)
    assert access_world.client.block_number() == before  # refused before anything was mined


def test_open_functions_have_a_reason_and_are_not_guarded() -> None:
    assert all(reason.strip() for reason in STORY_OPEN.values())
    assert not set(STORY_GUARDED) & set(STORY_OPEN)
