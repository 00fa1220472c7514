"""``BaseNode``: a long-lived thread that is one vertex of the pipeline DAG.

Every node is a daemon thread started by :class:`~anacostia_blockchain.engine.pipeline.Pipeline`. Nodes block on
queues, events and conditions; none of them sleep-poll, so an idle pipeline uses no CPU. Edges come from the
constructors: ``predecessors=[...]`` for actions, the metadata store for a resource.

Lifecycle, driven by the pipeline:

1. ``prepare()`` (on the caller's thread, before any node thread starts): the store opens its database, resources
   reconcile their contents. Errors here surface from ``Pipeline.launch()``.
2. ``start()``: the thread runs ``serve()`` until ``request_stop()``.
3. ``request_stop()`` then ``join()``; ``teardown()`` runs on the caller's thread afterwards.

Subclasses override the small hooks ``setup()`` (called at the end of ``prepare``) and ``teardown()``.
"""

from __future__ import annotations

import logging
import threading
from abc import ABCMeta
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar

from ..errors import ConfigurationError, GraphValidationError
from .fingerprint import CodeFingerprint, fingerprint_of

if TYPE_CHECKING:
    from .coordinator import RunCoordinator

_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR,
           "CRITICAL": logging.CRITICAL}


def _as_logger_list(loggers: logging.Logger | Iterable[logging.Logger] | None) -> list[logging.Logger]:
    if loggers is None:
        return []
    if isinstance(loggers, logging.Logger):
        return [loggers]
    result = list(loggers)
    for logger in result:
        if not isinstance(logger, logging.Logger):
            raise ConfigurationError(f"loggers must be logging.Logger instances, got {type(logger).__name__}")
    return result


class BaseNode(threading.Thread, metaclass=ABCMeta):
    """A vertex of the pipeline DAG and the thread that runs it.

    ``name`` is the node's identity in the metadata database (unique per pipeline; also the thread's name).
    ``loggers``: a :class:`logging.Logger` or a list of them; ``None`` logs to ``anacostia_blockchain.node.<name>``.
    """

    #: What kind of vertex this is ("metadata_store", "resource", "action"); graph validation uses it.
    node_kind: ClassVar[str] = "node"

    def __init__(
        self,
        name: str,
        predecessors: Sequence[BaseNode] | None = None,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise GraphValidationError(f"a node name must be a non-empty string, got {name!r}")
        super().__init__(name=name, daemon=True)
        preds = list(predecessors or [])
        for pred in preds:
            if not isinstance(pred, BaseNode):
                raise GraphValidationError(
                    f"node {name!r}: predecessors must be nodes, got {type(pred).__name__} ({pred!r})"
                )
        self.predecessors: list[BaseNode] = preds
        self.successors: list[BaseNode] = []
        self.loggers = _as_logger_list(loggers)
        self._default_logger = logging.getLogger(f"anacostia_blockchain.node.{name}")
        self._halt = threading.Event()
        self._coordinator: RunCoordinator | None = None

    # --- identity ------------------------------------------------------------------------------------------------
    @property
    def code_fingerprint(self) -> str:
        """The digest of :attr:`code` (``sha256:<hex>``)."""
        return self.code.digest

    @property
    def code(self) -> CodeFingerprint:
        """This node's code fingerprint: its class, the project-local modules it imports, package and Python
        versions, source revision (see :mod:`~anacostia_blockchain.engine.fingerprint`)."""
        return fingerprint_of(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    # --- logging -------------------------------------------------------------------------------------------------
    def log(self, msg: str, level: str = "INFO") -> None:
        """Log ``msg`` at ``level`` ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") to the node's loggers."""
        levelno = _LEVELS.get(str(level).upper())
        if levelno is None:
            raise ConfigurationError(f"unknown log level {level!r}; use one of {', '.join(_LEVELS)}")
        for logger in self.loggers or [self._default_logger]:
            logger.log(levelno, "%s: %s", self.name, msg)

    # --- lifecycle -----------------------------------------------------------------------------------------------
    def attach(self, coordinator: RunCoordinator) -> None:
        """Called by the pipeline before ``prepare()``: the coordinator this node reports to."""
        self._coordinator = coordinator

    @property
    def coordinator(self) -> RunCoordinator:
        if self._coordinator is None:
            raise GraphValidationError(f"node {self.name!r} is not part of a launched pipeline")
        return self._coordinator

    def prepare(self) -> None:
        """Synchronous start-up work on the launching thread; ends by calling the ``setup()`` hook."""
        self.setup()

    def setup(self) -> None:
        """Hook: acquire what the node needs before its thread starts. Default: nothing."""

    def teardown(self) -> None:
        """Hook: release what ``setup()`` acquired, after the thread stopped. Default: nothing."""

    def request_stop(self) -> None:
        """Ask the thread to finish; it returns from ``serve()`` promptly (subclasses wake their waits)."""
        self._halt.set()

    @property
    def stopping(self) -> bool:
        return self._halt.is_set()

    def run(self) -> None:
        try:
            self.serve()
        except BaseException as exc:  # a crashing node thread must be visible, never silent
            self.log(f"node thread crashed: {exc!r}", level="CRITICAL")
            if self._coordinator is not None:
                self._coordinator.node_crashed(self, exc)
            raise

    def serve(self) -> None:
        """The thread body. Default: wait until asked to stop."""
        self._halt.wait()
