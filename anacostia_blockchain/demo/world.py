"""The demo's chain and storage: an anvil it starts itself (or a development node at a given RPC URL: anvil, Hardhat
Network, Ganache), every contract deployed, clients ready to use.

Accounts (anvil's funded dev accounts): ``operator`` (index 0) deploys, anchors, mints, registers and lists;
``buyer`` (index 1) buys a license through the marketplace; ``service`` (index 2) is the marketplace backend's own
key, to which each model's data key is also wrapped so the backend can re-wrap it for license holders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..chain.contracts.marketplace import MarketplaceClient
from ..chain.contracts.model_nft import ModelNFTClient
from ..chain.contracts.model_versions import ModelVersionsClient
from ..chain.contracts.price_feed import ChainlinkPriceFeed
from ..chain.contracts.run_registry import RunRegistryClient
from ..chain.dev.deploy import DeploymentManifest, DeploymentResult, deploy_all
from ..chain.dev.dev_node import DevAccount, DevNode, ExternalNode
from ..chain.dev.devnet import Devnet
from ..chain.rpc.client import ChainClient
from ..chain.story import StoryClient
from ..chain.tx import TxSender
from ..chain.tx.signer import LocalSigner
from ..ipfs import EmbeddedBlockstore

#: The demo's ETH/USD price (8 decimals, as Chainlink's USD feeds): $3,150.42.
ETH_USD_ANSWER = 3_150_42000000
FEED_HEARTBEAT = 3600


@dataclass
class DemoWorld:
    """Everything on chain and on disk the demo pipelines, the marketplace and the buyer share."""

    workdir: Path
    devnet: DevNode | None
    client: ChainClient
    operator: DevAccount
    buyer: DevAccount
    service: DevAccount
    sender: TxSender
    manifest: DeploymentManifest
    deployments: list[DeploymentResult]
    blocks: EmbeddedBlockstore
    registry: RunRegistryClient
    nft: ModelNFTClient
    versions: ModelVersionsClient
    market: MarketplaceClient
    story: StoryClient
    feed: ChainlinkPriceFeed
    extra_senders: list[TxSender] = field(default_factory=list)

    @classmethod
    def start(cls, workdir: Path, rpc_url: str | None = None) -> DemoWorld:
        """Start anvil (state kept in ``workdir``), or use the development node at ``rpc_url`` (its accounts are
        the dev mnemonic's), deploy everything (idempotent), open the IPFS store."""
        workdir.mkdir(parents=True, exist_ok=True)
        node = ExternalNode(rpc_url) if rpc_url else Devnet(state_path=workdir / "anvil-state.json")
        devnet = node.start()
        try:
            return cls._assemble(workdir, devnet)
        except BaseException:
            devnet.stop()
            raise

    @classmethod
    def _assemble(cls, workdir: Path, devnet: DevNode) -> DemoWorld:
        operator, buyer, service = devnet.accounts[0], devnet.accounts[1], devnet.accounts[2]
        client = ChainClient(devnet.rpc_url, expected_chain_id=devnet.chain_id)
        sender = TxSender(client, LocalSigner.from_key(operator.private_key))
        manifest = DeploymentManifest.load(workdir / "deployments", client.chain_id)
        results = deploy_all(
            sender, manifest, settings={"eth_usd_mock_answer": ETH_USD_ANSWER, "eth_usd_heartbeat": FEED_HEARTBEAT}
        )
        return cls(
            workdir=workdir,
            devnet=devnet,
            client=client,
            operator=operator,
            buyer=buyer,
            service=service,
            sender=sender,
            manifest=manifest,
            deployments=results,
            blocks=EmbeddedBlockstore(workdir / "ipfs"),
            registry=RunRegistryClient(client, manifest.address("RunRegistry"), sender),
            nft=ModelNFTClient(client, manifest.address("ModelNFT"), sender),
            versions=ModelVersionsClient(client, manifest.address("ModelVersions"), sender),
            market=MarketplaceClient(client, manifest.address("ModelMarketplace"), sender),
            story=StoryClient.from_manifest(client, sender, manifest),
            feed=ChainlinkPriceFeed(client, manifest.address("MockV3Aggregator"), heartbeat=FEED_HEARTBEAT),
        )

    def sender_for(self, account: DevAccount) -> TxSender:
        """A transaction sender for another dev account (closed with the world)."""
        sender = TxSender(self.client, LocalSigner.from_key(account.private_key))
        self.extra_senders.append(sender)
        return sender

    def close(self) -> None:
        for sender in [*self.extra_senders, self.sender]:
            sender.close()
        if self.devnet is not None:
            self.devnet.stop()
