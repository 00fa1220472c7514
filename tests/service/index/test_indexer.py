"""The indexer on a real chain: resume after restart without gaps or duplicates, atomic batches, reorgs."""

from __future__ import annotations

import json

import pytest
from service_helpers import AppFactory, state
from service_world import WorldSetup, sender_for
from sqlalchemy import func, select

from anacostia_blockchain.chain import ChainClient, Devnet, MarketplaceClient
from anacostia_blockchain.chain.contracts import usd_units
from anacostia_blockchain.errors import IndexerError, MetadataStoreError
from anacostia_blockchain.service.index import Indexer
from anacostia_blockchain.service.index import schema as s
from anacostia_blockchain.service.index.counts import COUNTED, read_counts


def event_positions(indexer: Indexer) -> list[tuple[int, int, str, str]]:
    with indexer.engine.connect() as conn:
        rows = conn.execute(
            select(s.index_events.c.block_number, s.index_events.c.log_index, s.index_events.c.contract,
                   s.index_events.c.event).order_by(s.index_events.c.block_number, s.index_events.c.log_index)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def model_rows(indexer: Indexer) -> list[dict[str, object]]:
    with indexer.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(s.models).order_by(s.models.c.token_id)).mappings()]


def count(indexer: Indexer, table: s.Table) -> int:
    with indexer.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def assert_counts_kept(indexer: Indexer) -> None:
    """The counts the indexer keeps (what /status reports) equal the rows there are."""
    with indexer.engine.connect() as conn:
        kept = read_counts(conn)
    assert {name: kept[name] for name in COUNTED} == {name: count(indexer, table) for name, table in COUNTED.items()}


def buy(chain: Devnet, world: WorldSetup, account: int = 1) -> None:
    client = ChainClient(chain.rpc_url)
    market = world.addresses["ModelMarketplace"]
    sender = sender_for(client, chain, account)
    try:
        MarketplaceClient(client, market, sender).buy(world.listed_token,
                                                      MarketplaceClient(client, market).quote(world.listed_token))
    finally:
        sender.close()


def reprice(chain: Devnet, world: WorldSetup, usd: str) -> None:
    client = ChainClient(chain.rpc_url)
    sender = sender_for(client, chain, 0)
    try:
        MarketplaceClient(client, world.addresses["ModelMarketplace"], sender).set_price(world.listed_token,
                                                                                         usd_units(usd))
    finally:
        sender.close()


def test_restart_in_small_batches_matches_one_pass(make_app: AppFactory, database_url: str, tmp_path: object) -> None:
    reference = state(make_app(f"sqlite:///{tmp_path}/reference.db")).indexer
    assert reference is not None
    reference.sync_to_head()

    first = state(make_app(database_url, indexer_batch_blocks=3)).indexer
    assert first is not None
    for _ in range(4):
        assert first.sync_once() is not None
    stopped_at = first.next_block()
    first.engine.dispose()  # "process exit"

    resumed = state(make_app(database_url, indexer_batch_blocks=3)).indexer
    assert resumed is not None
    assert resumed.next_block() == stopped_at
    resumed.sync_to_head()
    assert event_positions(resumed) == event_positions(reference)
    assert model_rows(resumed) == model_rows(reference)
    assert resumed.sync_once() is None  # caught up: nothing new, nothing duplicated
    assert len(set(event_positions(resumed))) == len(event_positions(resumed))
    assert_counts_kept(resumed)
    assert_counts_kept(reference)


def test_a_batch_that_fails_midway_commits_nothing(make_app: AppFactory, sqlite_url: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    indexer = state(make_app(sqlite_url)).indexer
    assert indexer is not None
    original = indexer._apply

    def crash(*args: object, **kwargs: object) -> None:
        original(*args, **kwargs)  # type: ignore[arg-type]
        raise MetadataStoreError("disk full (simulated after the rows were written)")

    monkeypatch.setattr(indexer, "_apply", crash)
    with pytest.raises(MetadataStoreError):
        indexer.sync_to_head()
    assert count(indexer, s.index_events) == 0 and count(indexer, s.models) == 0
    assert_counts_kept(indexer)  # rolled back with the batch
    assert indexer.next_block() == indexer.start_block
    monkeypatch.setattr(indexer, "_apply", original)
    indexer.sync_to_head()
    assert count(indexer, s.models) == 2
    assert len(set(event_positions(indexer))) == len(event_positions(indexer))
    assert_counts_kept(indexer)


def test_reorg_by_snapshot_revert_rolls_back_to_the_fork_point(make_app: AppFactory, database_url: str,
                                                               world: WorldSetup, chain: Devnet) -> None:
    indexer = state(make_app(database_url)).indexer
    assert indexer is not None
    indexer.sync_to_head()
    fork = chain.snapshot()
    fork_block = chain.block_number()
    reprice(chain, world, "10")
    buy(chain, world)
    indexer.sync_to_head()
    model = model_rows(indexer)[0]
    assert model["price_usd"] == 10.0 and model["sales"] == 1
    assert count(indexer, s.purchases) == 1 and count(indexer, s.licenses) == 1

    chain.revert(fork)  # the other branch: a different price, no purchase, and a longer chain
    reprice(chain, world, "20")
    chain.mine(3)
    assert indexer.check_reorg() == fork_block
    indexer.sync_to_head()
    model = model_rows(indexer)[0]
    assert model["price_usd"] == 20.0 and model["sales"] == 0
    assert count(indexer, s.purchases) == 0 and count(indexer, s.licenses) == 0
    assert [e for e in event_positions(indexer) if e[3] in ("Purchased", "LicenseTokensMinted")] == []
    assert indexer.check_reorg() is None
    assert_counts_kept(indexer)


def test_anvil_reorg_drops_the_purchase(make_app: AppFactory, sqlite_url: str, world: WorldSetup,
                                        chain: Devnet) -> None:
    indexer = state(make_app(sqlite_url)).indexer
    assert indexer is not None
    buy(chain, world)
    indexer.sync_to_head()
    assert count(indexer, s.purchases) == 1
    head = chain.block_number()
    chain.rpc("anvil_reorg", [1, []])  # replace the purchase block with an empty one
    assert chain.block_number() == head
    indexer.sync_to_head()
    assert count(indexer, s.purchases) == 0
    assert model_rows(indexer)[0]["sales"] == 0
    assert model_rows(indexer)[0]["listed"] is True
    assert_counts_kept(indexer)


def test_a_reorg_deeper_than_the_kept_window_is_refused(make_app: AppFactory, sqlite_url: str, world: WorldSetup,
                                                        chain: Devnet) -> None:
    indexer = state(make_app(sqlite_url, indexer_batch_blocks=1)).indexer
    assert indexer is not None
    indexer.keep_blocks = 2
    fork = chain.snapshot()
    chain.mine(5)
    indexer.sync_to_head()
    chain.revert(fork)  # replaces the last 5 blocks; only the last 2 processed blocks' hashes were kept
    # empty blocks mined in the same second as the old branch would hash the same: move the clock so they differ
    chain.rpc("evm_increaseTime", [hex(7)])
    chain.mine(6)
    with pytest.raises(IndexerError, match="deeper than the 2 kept blocks"):
        indexer.check_reorg()


def metadata_updates(indexer: Indexer) -> list[tuple[int, int, str]]:
    """(block, token id, stored tokenURI) of every indexed ``MetadataUpdate``."""
    with indexer.engine.connect() as conn:
        rows = conn.execute(
            select(s.index_events.c.block_number, s.index_events.c.args)
            .where(s.index_events.c.event == "MetadataUpdate").order_by(s.index_events.c.block_number)
        ).all()
    return [(r.block_number, int(json.loads(r.args)["_tokenId"]), json.loads(r.args).get("tokenURI")) for r in rows]


@pytest.mark.parametrize("changed_later", [False, True], ids=["read_at_head", "changed_after_the_batch"])
def test_token_uris_are_read_at_the_head_unless_changed_after_the_batch(
    make_app: AppFactory, sqlite_url: str, world: WorldSetup, chain: Devnet, monkeypatch: pytest.MonkeyPatch,
    changed_later: bool,
) -> None:
    chain.mine(3)  # the head lies past every batch that holds a mint
    indexer = state(make_app(sqlite_url, indexer_batch_blocks=1)).indexer
    assert indexer is not None and indexer.nft is not None
    nft = indexer.nft
    reads: list[tuple[int, int | str]] = []
    real_reads, real_updated = nft.token_uris, nft.metadata_updated

    def recording_reads(requested: list[tuple[int, int | str]]) -> list[object]:
        reads.extend(requested)
        return list(real_reads(requested))

    def updated(from_block: int, to_block: int) -> set[int]:  # the node's answer, plus "everything changed later"
        found = real_updated(from_block, to_block)
        return found | {world.listed_token, world.plain_token} if changed_later else found

    monkeypatch.setattr(nft, "token_uris", recording_reads)
    monkeypatch.setattr(nft, "metadata_updated", updated)
    head = chain.block_number()
    indexer.sync_to_head()

    stored = metadata_updates(indexer)
    assert {token for _, token, _ in stored} >= {world.listed_token, world.plain_token}
    expected = {world.listed_token: f"ipfs://{world.metadata_cid}",
                world.plain_token: f"ipfs://{world.plain_metadata_cid}"}
    assert all(uri == expected[token] for _, token, uri in stored if token in expected)
    event_blocks = {block for block, _, _ in stored}
    assert max(event_blocks) < head
    read_blocks = {block for _, block in reads}
    assert read_blocks == (event_blocks if changed_later else {head})
    assert real_updated(head + 1, head) == set()
    assert real_updated(min(event_blocks), max(event_blocks)) == {token for _, token, _ in stored}
