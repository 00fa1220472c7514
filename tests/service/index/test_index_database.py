"""The index database is the index's own: one that holds a pipeline's metadata store, or tables of the index's names
with other columns, is refused with a message naming the conflict — before anything is created in it. The API's hot
reads have an engine of their own (``create_read_engine``)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.metadata import RunStore
from anacostia_blockchain.service.index import create_read_engine, open_index, queries
from anacostia_blockchain.sql import DatabaseError


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_metadata_store_database_is_refused(database_url: str) -> None:
    store = RunStore(database_url)
    store.open()
    store.engine.dispose()
    before = tables(database_url)
    with pytest.raises(ConfigurationError) as refused:
        open_index(database_url)
    message = str(refused.value)
    assert "holds an Anacostia metadata store" in message and "table 'runs' is not the index's" in message
    assert "merkle_root" in message and "database of its own" in message
    assert tables(database_url) == before


def test_a_table_of_another_shape_under_an_index_name_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE models (id INTEGER PRIMARY KEY, title TEXT)"))
    engine.dispose()
    with pytest.raises(ConfigurationError, match=r"table 'models' is not the index's \(no anchor_root"):
        open_index(database_url)
    assert tables(database_url) == {"models"}


def test_an_index_database_opens_again(database_url: str) -> None:
    open_index(database_url).dispose()
    open_index(database_url).dispose()  # its own tables are no conflict


def test_the_hot_reads_run_outside_transactions_and_survive_a_dropped_connection(database_url: str) -> None:
    engine = open_index(database_url)
    reads = create_read_engine(engine)
    try:
        if engine.dialect.name == "sqlite":
            assert reads is engine  # in-process: nothing to save
            return
        with reads.connect() as conn:
            assert queries.index_status(conn)["models"] == 0
            assert conn.connection.dbapi_connection.autocommit  # type: ignore[union-attr]  # no BEGIN, no ROLLBACK
            backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with engine.connect() as admin:  # the database drops the pooled connection (a restart, an idle timeout)
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(backend)})")
        with pytest.raises(DatabaseError), reads.connect() as conn:  # not pinged: the one read that finds out fails
            queries.index_status(conn)
        with reads.connect() as conn:  # and the pool's connections are replaced
            assert queries.index_status(conn)["models"] == 0
    finally:
        reads.dispose()
        engine.dispose()
