"""What an executing node read through the resources' API: the raw material of per-output lineage and of the cache.

Every execution scope (a node's ``execute()``, or one work unit inside it) carries a :class:`ReadLog` in its
:class:`~.context.ExecutionContext`. Resources add to it whenever the executing code

- lists artifacts (``list_artifacts``, ``current_inputs``: ``via="list"``; what a node listed may shape what it
  writes, so listed artifacts count as read), or
- reaches an artifact's content (``artifact_path``, ``open_artifact``, ``read_bytes``, ``staging_file``:
  ``via="open"``), or
- receives it as a work unit's input (``via="unit"``).

Each artifact version is logged once per scope, at its first read, in order. The log also counts the outputs the
scope saved (or had linked from an earlier execution). A unit's log forwards to its node's log, so the node's reads
and outputs include its units'. An output's default lineage is what its scope had read when it was saved; an output
saved before anything was read through the resources (a node that opens files by itself) gets the scope's declared
inputs instead (``basis="inputs"``: what it could have read).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from .artifact import Artifact

#: How an artifact was read (see the module docstring).
READ_VIA = ("list", "open", "unit")


@dataclass(frozen=True, slots=True)
class Read:
    """One artifact version read by an execution scope, and how."""

    artifact: Artifact
    via: str


class ReadLog:
    """The artifacts one execution scope read, in order, each version once (thread-safe)."""

    def __init__(self, parent: ReadLog | None = None, fallback: Iterable[Artifact] = ()) -> None:
        self._lock = threading.Lock()
        self._reads: dict[int, Read] = {}
        self._outputs = 0
        self._parent = parent
        #: What stands in for the lineage of an output saved before anything was read: the declared inputs.
        self.fallback: tuple[Artifact, ...] = tuple(fallback)

    def add_outputs(self, count: int = 1) -> None:
        """The scope saved (or had linked) ``count`` more outputs."""
        with self._lock:
            self._outputs += count
        if self._parent is not None:
            self._parent.add_outputs(count)

    @property
    def outputs(self) -> int:
        """How many outputs the scope saved or had linked."""
        with self._lock:
            return self._outputs

    def add(self, artifacts: Iterable[Artifact], via: str) -> None:
        """Log ``artifacts`` as read ``via`` (``"list"``, ``"open"`` or ``"unit"``); repeats are ignored."""
        items = list(artifacts)
        with self._lock:
            for artifact in items:
                if artifact.id not in self._reads:
                    self._reads[artifact.id] = Read(artifact, via)
        if self._parent is not None:
            self._parent.add(items, via)

    def reads(self) -> list[Read]:
        """Everything read so far, in the order first read."""
        with self._lock:
            return list(self._reads.values())

    def artifacts(self) -> list[Artifact]:
        """The artifact versions read so far, in the order first read."""
        return [read.artifact for read in self.reads()]

    def ids(self) -> set[int]:
        with self._lock:
            return set(self._reads)

    def __len__(self) -> int:
        with self._lock:
            return len(self._reads)
