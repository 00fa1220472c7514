"""Every shipped contract deployed by the real deploy plan, with one of each thing a stranger could try to take.

``build_contract_world`` runs ``deploy_all`` (the plan ``anacostia-chain deploy`` uses, Story suite included), then
gives each contract the state an unauthorized call needs to be meaningful: an anchored run, a minted model NFT
(owner: the operator), a registered IP with commercial terms, a listing, a version family with a gate, a royalty
vault holding revenue, a license token held by the buyer and a MockERC721 token. Accounts: 0 operator (deployer,
admin of everything), 1 buyer, 7 stranger (no role, owns nothing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anacostia_blockchain.chain.abi.contract import Contract
from anacostia_blockchain.chain.contracts import merkle
from anacostia_blockchain.chain.contracts.marketplace import MarketplaceClient
from anacostia_blockchain.chain.contracts.model_nft import ModelNFTClient
from anacostia_blockchain.chain.contracts.model_versions import ModelVersionsClient
from anacostia_blockchain.chain.contracts.run_registry import AnchorRequest, RunRegistryClient
from anacostia_blockchain.chain.dev.deploy import DeploymentManifest, deploy_all
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story import StoryClient
from anacostia_blockchain.chain.story.terms import commercial_use
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner

ARTIFACTS = Path(__file__).resolve().parents[2] / "anacostia_blockchain" / "chain" / "artifacts"
PIPELINE = merkle.pipeline_id("hostile-pipeline")
RUN_ID = 1
ROOT = merkle.hash_pair(b"\x01" * 32, b"\x02" * 32)
ROYALTY_PAID = 10**18


@dataclass
class ContractWorld:
    client: ChainClient
    operator: str
    buyer: str
    stranger: str
    stranger_sender: TxSender
    contracts: dict[str, Contract]
    model_token: int
    ip_id: str
    terms_id: int
    family_id: int
    license_token: int
    mock_nft_token: int
    senders: list[TxSender]

    def close(self) -> None:
        for sender in self.senders:
            sender.close()


def state_changing_functions() -> set[tuple[str, str]]:
    """``(contract, "fn(types)")`` for every nonpayable/payable function of every shipped artifact."""
    found: set[tuple[str, str]] = set()
    for path in sorted(ARTIFACTS.glob("*.json")):
        for item in json.loads(path.read_text())["abi"]:
            if item.get("type") == "function" and item["stateMutability"] in ("nonpayable", "payable"):
                found.add((path.stem, f"{item['name']}({','.join(_abi_type(i) for i in item['inputs'])})"))
    return found


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + item["type"][len("tuple"):]
    return str(item["type"])


def build_contract_world(devnet: Devnet, workdir: Path) -> ContractWorld:
    client = ChainClient(devnet.rpc_url, expected_chain_id=devnet.chain_id)
    accounts = devnet.accounts
    operator = TxSender(client, LocalSigner.from_key(accounts[0].private_key))
    buyer = TxSender(client, LocalSigner.from_key(accounts[1].private_key))
    stranger = TxSender(client, LocalSigner.from_key(accounts[7].private_key))
    senders = [operator, buyer, stranger]
    manifest = DeploymentManifest.load(workdir, client.chain_id)
    deploy_all(operator, manifest)
    contracts = {name: manifest.contract(client, name) for name in manifest.names()}

    registry = RunRegistryClient(client, contracts["RunRegistry"].address, operator)
    registry.anchor_run(AnchorRequest(PIPELINE, RUN_ID, ROOT, "bafkreihostilemanifest"))
    nft = ModelNFTClient(client, contracts["ModelNFT"].address, operator)
    token = nft.mint(operator.signer.address, "ipfs://bafkreihostilemetadata", pipeline_id=PIPELINE, run_id=RUN_ID,
                     anchor_root=ROOT, manifest_cid="bafkreihostilemanifest").token_id

    story = StoryClient.from_manifest(client, operator, manifest)
    ip_id = story.register_ip(nft.address, token).ip_id
    currency = story.addresses.test_currency
    terms_id = story.register_pil_terms(commercial_use(minting_fee=0, currency=currency)).license_terms_id
    story.attach_terms(ip_id, terms_id)
    license_token = StoryClient(client, buyer, story.addresses).mint_license_tokens(ip_id, terms_id).token_ids[0]
    operator.transact(contracts["MockERC20"], "mint", operator.signer.address, ROYALTY_PAID)
    story.pay_royalty(ip_id, currency, ROYALTY_PAID)
    contracts["IpRoyaltyVault"] = Contract.at(client, "IpRoyaltyVault", story.royalty_vault(ip_id))
    contracts["IPAccountImpl"] = Contract.at(client, "IPAccountImpl", ip_id)
    contracts["ERC6551Registry"] = Contract.at(client, "ERC6551Registry", story.addresses.erc6551_registry)

    MarketplaceClient(client, contracts["ModelMarketplace"].address, operator).list_model(token, 10**18, terms_id)
    versions = ModelVersionsClient(client, contracts["ModelVersions"].address, operator)
    family = versions.create_family("hostile-family")
    versions.add_version(family, token)
    versions.set_gate(family, "production", "accuracy", 9 * 10**17, higher_is_better=True)

    mock_nft = Contract.at(client, "MockERC721", operator.deploy("MockERC721").address)
    contracts["MockERC721"] = mock_nft
    receipt = operator.transact(mock_nft, "mint", operator.signer.address)
    mock_token = int(mock_nft.decode_log(receipt.logs[-1]).args["tokenId"])  # type: ignore[union-attr]
    return ContractWorld(
        client=client, operator=operator.signer.address, buyer=buyer.signer.address,
        stranger=stranger.signer.address, stranger_sender=stranger, contracts=contracts, model_token=token,
        ip_id=ip_id, terms_id=terms_id, family_id=family, license_token=license_token, mock_nft_token=mock_token,
        senders=senders,
    )
