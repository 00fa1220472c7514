"""The Anacostia README example, as written but for its imports (and a runnable ``__main__``).

The two node classes are the README's, verbatim. The README's ``__main__`` is a fragment (it uses
``metadata_store`` before creating it, and ``retraining``, ``haiku_data_store_path``, ``metadata_store_path`` and
``logger`` are never defined), so here it defines those names, follows the data store directly, and then actually
runs the pipeline: it drops one file into the watched folder, waits for the run, prints what the run recorded and
stops. The dashboard (``run_background_webserver``) is not part of this package.

Run it with ``python examples/anacostia_readme.py``; ``ANACOSTIA_EXAMPLE_DIR`` chooses the working folder
(default: a fresh temporary folder, removed when it exits).
"""

import contextlib
import json
import logging
import os
import tempfile
from logging import Logger
from typing import List  # noqa: UP035 (the README's annotations, kept as written)

from anacostia_blockchain import BaseActionNode, BaseMetadataStoreNode, BaseNode
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.pipeline import Pipeline
from anacostia_blockchain.resources import FilesystemStoreNode


class MonitoringDataStoreNode(FilesystemStoreNode):
    def __init__(
        self, name: str, resource_path: str, metadata_store: BaseMetadataStoreNode,
        init_state: str = "new", max_old_samples: int = None  # noqa: RUF013
    ) -> None:
        super().__init__(name, resource_path, metadata_store, init_state, max_old_samples)

    def trigger_condition(self) -> bool:
        num_new = self.get_num_artifacts("new")
        return num_new >= 1

class ShakespeareEvalNode(BaseActionNode):
    def __init__(
        self, name: str, predecessors: List[BaseNode],  # noqa: UP006
        metadata_store: BaseMetadataStoreNode, loggers: Logger | List[Logger] = None  # noqa: RUF013, UP006
    ) -> None:
        self.metadata_store = metadata_store
        super().__init__(name, predecessors, loggers)

    def execute(self, *args, **kwargs) -> bool:
        self.log("Evaluating LLM on Shakespeare validation dataset", level="INFO")
        self.metadata_store.log_metrics(shakespeare_test_loss=1.47)
        return True

if __name__ == "__main__":
    with contextlib.ExitStack() as stack:  # a temporary working folder is removed at exit
        workdir = os.environ.get("ANACOSTIA_EXAMPLE_DIR") or stack.enter_context(
            tempfile.TemporaryDirectory(prefix="anacostia-example-"))
        haiku_data_store_path = os.path.join(workdir, "haiku")
        os.makedirs(haiku_data_store_path, exist_ok=True)  # a watched folder must exist (or pass create=True)
        metadata_store_path = os.path.join(workdir, "metadata")
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        logger = logging.getLogger("anacostia_example")

        metadata_store = SqliteMetadataStore(
            name="metadata_store",
            uri=f"sqlite:///{metadata_store_path}/metadata.db"
        )
        haiku_data_store = MonitoringDataStoreNode("haiku_data_store", haiku_data_store_path, metadata_store)
        shakespeare_eval = ShakespeareEvalNode(
            "shakespeare_eval", predecessors=[haiku_data_store], metadata_store=metadata_store
        )

        pipeline = Pipeline(
            nodes=[metadata_store, haiku_data_store, shakespeare_eval],
            loggers=logger
        )

        with pipeline:
            with open(os.path.join(haiku_data_store_path, f"haiku-{os.getpid()}.txt"), "w") as sample:
                sample.write("An old silent pond\nA frog jumps into the pond\nSplash! Silence again\n")
            if not pipeline.wait_for_runs(1, timeout=60):
                raise SystemExit("no run finished within 60 s")
        run = metadata_store.runs.get_runs()[-1]
        print(json.dumps({"run": run["id"], "status": run["status"], "metrics": {
            m["key"]: m["value"] for m in metadata_store.runs.get_metrics(run["id"])}}))
