"""The demo's marketplace half: serve the API + dashboard, deposit the model key, buy a license as someone else.

1. The marketplace service starts on a free loopback port with its own key (dev account 2): its indexer follows
   the chain and fetches every model's metadata from IPFS, verifying CIDs.
2. The seller (the operator) signs in with SIWE and deposits the data key of its best listed model. It never sends
   the key in the clear: the training node already wrapped the model's data key for the service's public key in the
   envelope header, and the seller hands over exactly that wrapped key.
3. The buyer (dev account 1) runs :func:`anacostia_blockchain.buyer.buy_and_decrypt`: quote, buy on chain, SIWE
   login, wrapped key, unwrap, fetch the encrypted model by CID, decrypt, check its CID.
4. Checks a person would make: a stranger who holds no license is refused the key (403), and the decrypted model
   scores, on the held-out set, exactly the accuracy its run anchored on chain.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..actions.classifier import predict
from ..buyer import BuyerSettings, MarketplaceApi, PurchaseReport, buy_and_decrypt, find_model_cid
from ..chain.tx.signer import LocalSigner
from ..crypto import public_key_for_private_key, read_header
from ..errors import AnacostiaError, LicenseRequiredError, PipelineError
from ..service import BackgroundServer, ServiceConfig, create_app, free_port
from .digits_data import load_split
from .pipelines import key_bytes
from .world import DemoWorld

__all__ = ["BuyerOutcome", "MarketplaceDemo", "PurchaseReport"]


@dataclass
class BuyerOutcome:
    purchase: PurchaseReport
    stranger_refused: bool
    anchored_accuracy: str
    decrypted_accuracy: str


class MarketplaceDemo:
    """The marketplace service for the demo's world (see the module docstring)."""

    def __init__(self, world: DemoWorld, pipeline: Any | None = None, port: int | None = None) -> None:
        self.world = world
        port = port or free_port()
        self.config = ServiceConfig(
            database_url=f"sqlite:///{world.workdir / 'marketplace.db'}",
            port=port,
            rpc_url=world.client.rpc_url,
            chain_id=world.client.chain_id,
            deployments=world.workdir / "deployments",
            content_store=f"embedded:{world.workdir / 'ipfs'}",
            siwe_domain=f"127.0.0.1:{port}",
            service_key=key_bytes(world.service.private_key),
            indexer_poll_seconds=0.2,
        )
        self.server = BackgroundServer(create_app(self.config, pipeline=pipeline), port=port)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> MarketplaceDemo:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def wait_indexed(self, token_ids: list[int], timeout: float = 60.0) -> None:
        """Until every token is indexed, listed and its metadata verified."""
        api = MarketplaceApi(self.url)
        deadline = time.monotonic() + timeout
        while True:
            if all(self._is_ready(api, token_id) for token_id in token_ids):
                return
            if time.monotonic() > deadline:
                raise PipelineError(f"the marketplace did not index tokens {token_ids} within {timeout:.0f}s")
            time.sleep(0.1)

    @staticmethod
    def _is_ready(api: MarketplaceApi, token_id: int) -> bool:
        try:
            detail = api.model(token_id)
        except AnacostiaError:  # not indexed yet (404) or the indexer is still catching up
            return False
        return bool(detail.get("listing", {}).get("listed")) and detail.get("metadata", {}).get("status") == "verified"

    def deposit_key(self, token_id: int) -> str:
        """The seller hands the service the model's data key, wrapped for the service (see the module docstring)."""
        world = self.world
        seller = MarketplaceApi(self.url)
        seller.login(world.operator.private_key, world.operator.address)
        envelope = world.blocks.cat(find_model_cid(seller.model(token_id)))
        service_public = public_key_for_private_key(key_bytes(world.service.private_key))
        wrapped = read_header(io.BytesIO(envelope)).wrapped_key_for(service_public)
        stored = seller.request("PUT", f"/models/{token_id}/key", {"wrapped_key": wrapped.to_hex()})
        return str(stored["key_id"])

    def stranger_is_refused(self, token_id: int) -> bool:
        stranger = self.world.devnet.accounts[3] if self.world.devnet is not None else None
        if stranger is None:
            return False
        api = MarketplaceApi(self.url)
        api.login(stranger.private_key, stranger.address)
        try:
            api.wrapped_key(token_id)
        except LicenseRequiredError:
            return True
        return False

    def buy(self, token_id: int, anchored_accuracy: Decimal) -> BuyerOutcome:
        world = self.world
        settings = BuyerSettings(
            token_id=token_id,
            api_url=self.url,
            rpc_url=world.client.rpc_url,
            marketplace=None,
            deployments=str(world.workdir / "deployments"),
            content_store=f"embedded:{world.workdir / 'ipfs'}",
            out=world.workdir / "bought-model.json",
            max_eth=Decimal("1"),
            slippage=Decimal("0.01"),
            wait=30.0,
        )
        buyer_key = world.buyer.private_key
        report, model = buy_and_decrypt(settings, LocalSigner.from_key(buyer_key), buyer_key)
        split = load_split()
        correct = int((predict(model, split.eval_x) == split.eval_y).sum())
        decrypted_accuracy = Decimal(correct) / Decimal(len(split.eval_y))
        return BuyerOutcome(
            purchase=report,
            stranger_refused=self.stranger_is_refused(token_id),
            anchored_accuracy=str(anchored_accuracy),
            decrypted_accuracy=f"{decrypted_accuracy:.6f}",
        )


def run_buyer_flow(
    market: MarketplaceDemo, token_id: int, anchored_accuracy: Decimal, progress: Callable[[str], None]
) -> BuyerOutcome:
    """Deposit the key of ``token_id`` and buy it as the second account (see the module docstring)."""
    market.wait_indexed([token_id])
    key_id = market.deposit_key(token_id)
    progress(f"  seller deposited the data key of model #{token_id} (key id {key_id}) wrapped for the service")
    outcome = market.buy(token_id, anchored_accuracy)
    purchase = outcome.purchase
    progress(f"  buyer {purchase.buyer} paid {Decimal(purchase.paid_wei or 0) / Decimal(10**18):.6f} ETH "
             f"(tx {purchase.purchase_tx}), license token #{purchase.license_token_id}")
    progress(f"  SIWE login, key unwrapped, model {purchase.plaintext_cid} decrypted and verified; held-out accuracy "
             f"{outcome.decrypted_accuracy} (anchored {outcome.anchored_accuracy})")
    verdict = "refused" if outcome.stranger_refused else "SERVED"
    progress(f"  a stranger without a license asking for the key: {verdict}")
    return outcome
