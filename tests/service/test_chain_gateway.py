"""The gateway's event reader over the followed contracts of the deployed world: every log decodes exactly as the
chain layer's own decoder does, unknown logs are skipped, and ranges a node refuses are split."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from service_world import WorldSetup

from anacostia_blockchain.chain import ChainClient, Devnet
from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.errors import ChainError
from anacostia_blockchain.service.chain_gateway import ChainGateway


def test_decodes_every_followed_log_like_the_contract_decoder(chain: Devnet, world: WorldSetup) -> None:
    client = ChainClient(chain.rpc_url)
    reader = ChainGateway(client, world.addresses).event_reader()
    events = reader.read(world.deploy_block, chain.block_number())
    names = {(e.contract, e.name) for e in events}
    assert {("ModelNFT", "ModelMinted"), ("ModelNFT", "Transfer"), ("ModelMarketplace", "Listed"),
            ("IPAssetRegistry", "IPRegistered"), ("LicensingModule", "LicenseTermsAttached"),
            ("RunRegistry", "RunAnchored"), ("ModelVersions", "VersionAdded")} <= names
    assert [(e.block_number, e.log_index) for e in events] == sorted((e.block_number, e.log_index) for e in events)

    raw_logs = client.rpc("eth_getLogs", [{"fromBlock": hex(world.deploy_block), "toBlock": "latest",
                                           "address": reader.addresses}])
    by_position = {(e.tx_hash, e.log_index): e for e in events}
    checked = 0
    for raw in raw_logs:
        contract_name = next(n for n, a in world.addresses.items() if a.lower() == raw["address"].lower())
        reference = Contract.at(client, contract_name, raw["address"]).decode_log(raw)
        mine = by_position.get((raw["transactionHash"], int(raw["logIndex"], 16)))
        if reference is None:
            assert mine is None
            continue
        assert mine == reference, reference.name  # one decoder: the reader and a handle agree exactly
        checked += 1
    assert checked == len(events) > 20

    minted = next(e for e in events if e.name == "ModelMinted" and e.args["tokenId"] == world.listed_token)
    assert minted.args["manifestCid"] == world.manifest_cid and minted.args["runId"] == 7
    assert minted.args["anchorRoot"] == "0x" + world.merkle_root.hex()
    registered = next(e for e in events if e.name == "IPRegistered")
    assert registered.args["ipId"] == world.ip_id and isinstance(registered.args["name"], str)


class RangeLimitedClient:
    """The real node behind a provider-style limit: ranges wider than ``limit`` blocks are refused."""

    def __init__(self, client: ChainClient, limit: int) -> None:
        self.client = client
        self.limit = limit
        self.refused = 0

    def rpc(self, method: str, params: Sequence[Any] = ()) -> Any:
        if method == "eth_getLogs":
            span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1
            if span > self.limit:
                self.refused += 1
                raise ChainError("query returned more than 10000 results (-32005)")
        return self.client.rpc(method, params)

    def rpc_batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        return self.client.rpc_batch(calls)


def test_a_refused_range_is_split_and_nothing_is_lost(chain: Devnet, world: WorldSetup) -> None:
    client = ChainClient(chain.rpc_url)
    whole = ChainGateway(client, world.addresses).event_reader()
    head = chain.block_number()
    expected = whole.read(world.deploy_block, head)
    limited = RangeLimitedClient(client, limit=3)
    whole.client = limited
    assert whole.read(world.deploy_block, head) == expected
    assert limited.refused > 0


def test_other_chain_errors_are_not_mistaken_for_range_limits(chain: Devnet, world: WorldSetup) -> None:
    client = ChainClient(chain.rpc_url)
    reader = ChainGateway(client, world.addresses).event_reader()

    class Broken(RangeLimitedClient):
        def rpc(self, method: str, params: Sequence[Any] = ()) -> Any:
            raise ChainError("execution reverted")

    reader.client = Broken(client, 0)
    with pytest.raises(ChainError, match="reverted"):
        reader.read(0, 10)
