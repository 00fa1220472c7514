"""The two nodes of the Anacostia README example, importable as the Anacostia-Blockchain README does::

    from anacostia_blockchain.nodes import MonitoringDataStoreNode, ShakespeareEvalNode

``MonitoringDataStoreNode`` is a watched folder that triggers a run as soon as it holds one ``new`` file;
``ShakespeareEvalNode`` stands in for an evaluation step and logs the README's ``shakespeare_test_loss`` metric.
"""

from __future__ import annotations

import logging
import os

from .engine import BaseActionNode, BaseMetadataStoreNode, BaseNode
from .resources import FilesystemStoreNode


class MonitoringDataStoreNode(FilesystemStoreNode):
    """A folder resource whose trigger is "at least one new file"."""

    def __init__(
        self, name: str, resource_path: str | os.PathLike[str], metadata_store: BaseMetadataStoreNode,
        init_state: str = "new", max_old_samples: int | None = None, *, create: bool = False,
    ) -> None:
        super().__init__(name, resource_path, metadata_store, init_state, max_old_samples, create=create)

    def trigger_condition(self) -> bool:
        num_new = self.get_num_artifacts("new")
        return num_new >= 1


class ShakespeareEvalNode(BaseActionNode):
    """Evaluates the model on the Shakespeare validation set (the README's example metric)."""

    def __init__(
        self, name: str, predecessors: list[BaseNode], metadata_store: BaseMetadataStoreNode,
        loggers: logging.Logger | list[logging.Logger] | None = None,
    ) -> None:
        self.metadata_store = metadata_store
        super().__init__(name, predecessors, loggers)

    def execute(self, *args: object, **kwargs: object) -> bool:
        self.log("Evaluating LLM on Shakespeare validation dataset", level="INFO")
        self.metadata_store.log_metrics(shakespeare_test_loss=1.47)
        return True
