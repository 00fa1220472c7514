"""What a command finds in the project folder it runs in, so that the usual case needs no options.

- the metadata database ``./metadata.db`` (the name the README and the Anacostia examples use);
- the deployment manifests ``./deployments`` (what ``anacostia-chain deploy`` writes);
- the pipelines whose runs a database anchors (the names in its archived run manifests).

A SQLite database is opened only when its file exists: a mistyped ``--db`` is an error, never a new empty database.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigurationError
from ..metadata import RunStore

#: The metadata database a project's pipeline writes by default.
DEFAULT_DB_FILE = Path("metadata.db")
#: Where ``anacostia-chain deploy`` writes the deployment manifests by default.
DEFAULT_DEPLOYMENTS = Path("deployments")


def default_db() -> str | None:
    """``sqlite:///metadata.db`` when that file is in the current folder."""
    return f"sqlite:///{DEFAULT_DB_FILE}" if DEFAULT_DB_FILE.is_file() else None


def default_deployments() -> str | None:
    """``deployments`` when that folder is in the current folder."""
    return str(DEFAULT_DEPLOYMENTS) if DEFAULT_DEPLOYMENTS.is_dir() else None


def open_existing(url: str, name: str) -> RunStore:
    """The run store of an existing database; a SQLite file that does not exist is an error (nothing is created)."""
    from ..sql import is_memory_sqlite, parse_store_url

    parsed = parse_store_url(url)
    if parsed.get_backend_name() == "sqlite":
        if is_memory_sqlite(parsed):
            raise ConfigurationError(f"{url} is an in-memory database: it holds no runs once its pipeline stopped")
        path = Path(parsed.database or "").expanduser()
        if not path.is_file():
            raise ConfigurationError(f"no database at {path} (from {url}): give the metadata database of the pipeline")
    return RunStore(url, name=name)


def anchored_pipelines(runs: RunStore) -> list[str]:
    """Names of the pipelines whose run anchors the database holds (from their archived manifests), sorted."""
    from ..anchoring import ANCHOR_KIND, ManifestArchive
    from ..outbox import Outbox

    first_run: dict[str, int] = {}
    for entry in Outbox(runs.engine).entries(ANCHOR_KIND):
        first_run.setdefault(str(entry.payload.get("pipelineId")), int(entry.payload.get("runId", 0)))
    archive = ManifestArchive(runs.engine)
    names = set()
    for pipeline_id, run_id in first_run.items():
        stored = archive.load(bytes.fromhex(pipeline_id.removeprefix("0x")), run_id)
        if stored is not None:
            names.add(stored.manifest().pipeline)
    return sorted(names)
