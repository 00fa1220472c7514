"""The one SQL engine factory and the one SQLAlchemy error boundary (``anacostia_blockchain.sql``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from anacostia_blockchain.errors import ConfigurationError, MetadataStoreError, OutboxError
from anacostia_blockchain.sql import (
    create_store_engine,
    is_memory_sqlite,
    parse_store_url,
    store_error,
    translate_errors,
)


def test_urls_are_parsed_and_postgresql_means_psycopg() -> None:
    assert parse_store_url("postgresql://u:pw@host/db").drivername == "postgresql+psycopg"
    assert parse_store_url("postgresql+psycopg://u@host/db").drivername == "postgresql+psycopg"
    assert parse_store_url("sqlite:///x.db").drivername == "sqlite"
    with pytest.raises(ConfigurationError, match="not a database URL"):
        parse_store_url("not a url")


@pytest.mark.parametrize(
    ("url", "memory"),
    [("sqlite://", True), ("sqlite:///:memory:", True), ("sqlite:///a/b.db", False), ("postgresql://h/db", False)],
)
def test_memory_sqlite_is_recognised(url: str, memory: bool) -> None:
    assert is_memory_sqlite(parse_store_url(url)) is memory


def test_sqlite_files_get_their_folder_and_pragmas(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/deep/er/meta.db")
    try:
        with engine.connect() as conn:
            pragmas = {name: conn.execute(text(f"PRAGMA {name}")).scalar()
                       for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}
        assert (tmp_path / "deep" / "er").is_dir()
        assert pragmas == {"journal_mode": "wal", "synchronous": 1, "foreign_keys": 1, "busy_timeout": 30000}
        assert engine.pool.size() == 8  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_pool_size_is_configurable(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/meta.db", pool_size=3, max_overflow=1)
    assert engine.pool.size() == 3  # type: ignore[attr-defined]
    engine.dispose()


def test_memory_sqlite_is_one_shared_connection() -> None:
    engine = create_store_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect() as conn:  # another checkout sees the same database
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
    engine.dispose()


def test_a_missing_driver_is_a_configuration_error_with_the_password_masked() -> None:
    with pytest.raises(ConfigurationError, match="cannot use database URL") as info:
        create_store_engine("nosuchdb://user:s3cret@x/y")
    assert "s3cret" not in str(info.value)


def test_translate_errors_names_the_cause_and_chains_it() -> None:
    engine = create_store_engine("sqlite://")
    expected = r"reading: database error: OperationalError: no such table"
    with pytest.raises(MetadataStoreError, match=expected) as info, translate_errors("reading"), engine.connect() as c:
        c.execute(text("SELECT * FROM missing"))
    assert isinstance(info.value.__cause__, OperationalError)
    engine.dispose()


def test_translate_errors_without_detail_and_with_a_subclass() -> None:
    expected = r"^outbox: database error \(IntegrityError\)$"
    boundary = translate_errors("outbox", detail=False, error=OutboxError)
    with pytest.raises(OutboxError, match=expected) as info, boundary:
        raise IntegrityError("INSERT ... password=s3cret", {}, Exception("dup"))
    assert "s3cret" not in str(info.value)
    assert isinstance(info.value.__cause__, IntegrityError)


def test_other_exceptions_pass_through_and_store_error_builds_without_raising() -> None:
    with pytest.raises(KeyError), translate_errors("anything"):
        raise KeyError("not a database error")
    error = store_error("x", IntegrityError("stmt", {}, Exception("dup")))
    assert isinstance(error, MetadataStoreError) and "IntegrityError" not in str(error) and "dup" in str(error)
