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
    ``aborted``: the pipeline stopped while the node was pending or running. Two outcomes without executing count as
    success: ``reused`` (an earlier execution with the same cache key stood in; its outputs were linked into the run)
    and ``unchanged`` (none of the node's inputs changed in this run).
    """

    RUNNING = "running"
    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"
    SKIPPED = "skipped"
    ABORTED = "aborted"
    REUSED = "reused"
    UNCHANGED = "unchanged"

    @property
    def succeeded(self) -> bool:
        """Whether the node's results are available to its descendants (executed, reused or unchanged)."""
        return self in (NodeStatus.SUCCESS, NodeStatus.REUSED, NodeStatus.UNCHANGED)


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
