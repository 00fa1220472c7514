"""``SqlMetadataStore(name, uri)``: the pipeline's metadata store node over a SQL :class:`~.run_store.RunStore`.

The node is the engine's :class:`~anacostia_blockchain.engine.BaseMetadataStoreNode` (the run loop's thread and the
logging API); everything it stores and every query lives in ``store.runs``, a :class:`~.run_store.RunStore` on
``uri`` (any SQLAlchemy URL: ``sqlite:///path/metadata.db``, ``postgresql://user@host/db``).

Queries with the Anacostia signatures are on the node too: ``get_metrics(node_name=None, run_id=None)``,
``get_params(...)`` and ``get_tags(...)`` return rows (dicts), every filter optional. Called inside a run (from an
action's ``execute()``, or while a run is in progress) without ``run_id`` they answer for the current run; outside a
run (a script after the pipeline ran) they return the matching rows of every run.

Many pipelines may share one database: ``pipeline`` (default: the node's name) names this one; the store sees only
its runs and artifacts and holds its lease while the pipeline runs. A second process of the same pipeline is refused
at launch, or, with ``standby=True``, waits there and takes over when the running one stops or dies (within
``lease_ttl`` seconds). A process whose lease was taken over stops its pipeline with
:class:`~anacostia_blockchain.errors.LeaseLostError`.

``SqliteMetadataStore`` is the same class under the name of the Anacostia API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from ..engine import BaseMetadataStoreNode
from ..errors import LeaseLostError
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
        pipeline: str | None = None,
        standby: bool = False,
        lease_ttl: float = 15.0,
    ) -> None:
        runs = RunStore(
            uri,
            name=name,
            input_retry_limit=input_retry_limit,
            input_retry_backoff=input_retry_backoff,
            max_input_retry_backoff=max_input_retry_backoff,
            pipeline=pipeline or name,
            standby=standby,
            lease_ttl=lease_ttl,
        )
        super().__init__(name, runs, loggers)
        if runs.lease is not None:
            runs.lease.on_lost = self._lease_lost

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.runs.url!r})"

    def _lease_lost(self, exc: LeaseLostError) -> None:
        """Another process took the pipeline over: stop this one (``Pipeline.execute`` raises the error)."""
        self.log(str(exc), level="CRITICAL")
        if self._coordinator is not None:
            self._coordinator.node_crashed(self, exc)

    # --- the Anacostia query API (rows; see the module docstring for the run they answer for) -----------------------
    def get_metrics(self, node_name: str | None = None, run_id: int | None = None) -> list[dict[str, Any]]:
        """Metric rows ``{run_id, node_name, key, value, step, timestamp}`` in logging order."""
        return self.runs.get_metrics(run_id, node_name=node_name)

    def get_params(self, node_name: str | None = None, run_id: int | None = None) -> list[dict[str, Any]]:
        """Param rows ``{run_id, node_name, key, value}`` (``node_name``: the node that logged it)."""
        return self.runs.get_param_rows(run_id, node_name=node_name)

    def get_tags(self, node_name: str | None = None, run_id: int | None = None) -> list[dict[str, Any]]:
        """Tag rows ``{run_id, node_name, key, value}`` (``node_name``: the node that set it)."""
        return self.runs.get_tag_rows(run_id, node_name=node_name)


#: The Anacostia name of :class:`SqlMetadataStore` (the same class).
SqliteMetadataStore = SqlMetadataStore
