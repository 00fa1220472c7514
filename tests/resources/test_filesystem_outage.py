"""A database that refuses writes delays detection, never loses it (real PostgreSQL, privileges revoked)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from test_filesystem_store import HeldFolder, RecordingAction, write_file

from anacostia_blockchain import Pipeline, SqliteMetadataStore

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def test_detection_survives_a_write_outage(tmp_path: Path, postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    schema = parse_qs(urlsplit(postgres_url).query)["options"][0].split("=", 1)[1]
    role = f"r_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO "{role}"')
    try:
        store = SqliteMetadataStore("metadata_store", postgres_url.replace("postgres@", f"{role}@"))
        folder = HeldFolder("data", tmp_path / "data", store, create=True)
        with Pipeline([store, folder, RecordingAction("action", [folder], store)]):
            with psycopg.connect(ADMIN, autocommit=True) as admin:
                admin.execute(f'REVOKE INSERT, UPDATE ON "{schema}".artifacts FROM "{role}"')
            write_file(tmp_path / "data" / "during-outage.csv", "1")
            time.sleep(0.5)
            assert folder.list_artifacts() == []  # the write was refused ...
            assert any("could not record" in r.getMessage() and "retrying" in r.getMessage() for r in caplog.records)
            with psycopg.connect(ADMIN, autocommit=True) as admin:
                admin.execute(f'GRANT INSERT, UPDATE ON "{schema}".artifacts TO "{role}"')
            deadline = time.monotonic() + 10
            while not folder.list_artifacts() and time.monotonic() < deadline:
                time.sleep(0.02)
            # ... and retried once the database accepts writes again: recorded exactly once
            assert [(a.location, a.state) for a in folder.list_artifacts()] == [("during-outage.csv", "new")]
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'REASSIGN OWNED BY "{role}" TO postgres')
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')
