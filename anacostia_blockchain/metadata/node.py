"""``SqlMetadataStore(name, uri)``: the pipeline's metadata store node over a SQL :class:`~.run_store.RunStore`.

The node is the engine's :class:`~anacostia_blockchain.engine.BaseMetadataStoreNode` (the run loop's thread and the
logging API); everything it stores and every query lives in ``store.runs``, a :class:`~.run_store.RunStore` on
``uri`` (any SQLAlchemy URL: ``sqlite:///path/metadata.db``, ``postgresql://user@host/db``).

``SqliteMetadataStore`` is the same class under the name of the Anacostia API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ..engine import BaseMetadataStoreNode
from .run_store import RunStore


class SqlMetadataStore(BaseMetadataStoreNode):
    """The SQL metadata store node (see the module docstring); the keyword options go to :class:`RunStore`."""

    runs: RunStore

    def __init__(
        self,
        name: str,
        uri: str,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        *,
        input_retry_limit: int = 3,
        input_retry_backoff: float = 1.0,
        max_input_retry_backoff: float = 300.0,
    ) -> None:
        runs = RunStore(
            uri,
            name=name,
            input_retry_limit=input_retry_limit,
            input_retry_backoff=input_retry_backoff,
            max_input_retry_backoff=max_input_retry_backoff,
        )
        super().__init__(name, runs, loggers)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.runs.url!r})"


#: The Anacostia name of :class:`SqlMetadataStore` (the same class).
SqliteMetadataStore = SqlMetadataStore
