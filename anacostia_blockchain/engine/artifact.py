"""The record of one artifact version, as resources and metadata stores hand it around."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .states import ArtifactState


@dataclass(frozen=True, slots=True)
class Artifact:
    """One version of one artifact in one resource, identified by its content (``sha256``).

    ``location`` is resource-specific (a POSIX path relative to the folder for :class:`FilesystemStoreNode`).
    ``detected_run_id`` is the run that was in progress when the version was detected (``None`` if none was),
    ``consumed_run_id`` the run that took it as input, ``produced_run_id``/``produced_by_node`` the run and node that
    wrote it. ``attempts`` counts failed runs that consumed it; ``quarantine_reason`` says why it was set aside.
    """

    id: int
    resource: str
    location: str
    sha256: str
    size: int
    state: ArtifactState
    detected_at: float
    detected_run_id: int | None = None
    consumed_run_id: int | None = None
    produced_run_id: int | None = None
    produced_by_node: str | None = None
    cid: str | None = None
    attempts: int = 0
    retry_at: float | None = None
    quarantine_reason: str | None = None
    mtime_ns: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-able dict (``state`` as its string value)."""
        data = asdict(self)
        data["state"] = str(self.state)
        return data
