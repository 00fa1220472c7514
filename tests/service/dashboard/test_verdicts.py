"""Verification verdicts kept in the index database, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect

from anacostia_blockchain.service.dashboard import Verdict, VerdictStore
from anacostia_blockchain.service.index import open_index

KEY = "0x" + "ab" * 32 + "-7"
OTHER = "0x" + "cd" * 32 + "-1"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    opened = open_index(database_url)
    try:
        yield opened
    finally:
        opened.dispose()


def test_the_latest_definite_verdict_is_kept_per_run(engine: Engine) -> None:
    store = VerdictStore(engine)
    assert store.latest([KEY]) == {}
    assert store.record(Verdict.now(KEY.replace("ab", "AB"), "tampered", "index", "root differs"))  # keys: lowercase
    assert store.record(Verdict.now(OTHER, "verified", "store", "12 items"))
    kept = store.latest([KEY, OTHER, "0x" + "ee" * 32 + "-2"])
    assert set(kept) == {KEY, OTHER}
    assert (kept[KEY].verdict, kept[KEY].ok, kept[KEY].detail) == ("tampered", False, "root differs")
    assert kept[OTHER].ok is True and kept[OTHER].method == "store"
    assert store.record(Verdict.now(KEY, "verified", "store"))
    assert store.latest([KEY])[KEY].verdict == "verified"
    # a later process sees the same verdicts
    assert VerdictStore(engine).latest([KEY])[KEY].to_json()["verdict"] == "verified"


def test_a_check_that_could_not_be_made_leaves_the_previous_verdict(engine: Engine) -> None:
    store = VerdictStore(engine)
    store.record(Verdict.now(KEY, "verified", "index"))
    assert store.record(Verdict.now(KEY, "unchecked", "index", "ChainConnectionError: refused")) is False
    assert store.latest([KEY])[KEY].verdict == "verified"


def test_the_table_lives_beside_the_index_tables(engine: Engine) -> None:
    VerdictStore(engine).record(Verdict.now(KEY, "not anchored", "index"))
    tables = set(inspect(engine).get_table_names())
    assert "dashboard_verdicts" in tables and {"models", "runs", "index_events"} <= tables
