"""The status vocabularies stored in the metadata database (plain strings, so any SQL client can read them)."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Lifecycle of a run. ``aborted``: the pipeline stopped (or crashed) before the run finished."""

    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    ABORTED = "aborted"


class NodeStatus(StrEnum):
    """Result of one node in one run.

    ``failure``: ``execute()`` returned ``False``; ``error``: it raised; ``skipped``: an ancestor failed or errored;
    ``aborted``: the pipeline stopped while the node was pending or running.
    """

    RUNNING = "running"
    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"
    SKIPPED = "skipped"
    ABORTED = "aborted"


class ArtifactState(StrEnum):
    """Where an artifact version is in its life.

    ``new`` -> (a run starts) ``current`` -> (the run succeeds) ``old``. When the run fails, its inputs go back to
    ``new`` after a backoff, and after the store's retry limit to ``quarantined`` (with the reason recorded).
    ``deleted``: the content is no longer in the resource (file removed, overwritten, or pruned by
    ``max_old_samples``).
    """

    NEW = "new"
    CURRENT = "current"
    OLD = "old"
    QUARANTINED = "quarantined"
    DELETED = "deleted"
