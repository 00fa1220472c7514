"""Source texts of the pipeline modules the ``run`` tests load: real files, real SQLite, real watched folders.

Every module reads ``RUN_TEST_DIR`` (set by the test) so the same text works as a file target, a dotted module and in
a subprocess. The eval action appends the run id to ``<dir>/executed`` so a test can wait for real progress.
"""

from __future__ import annotations

import textwrap

COMMON = textwrap.dedent(
    """
    import os
    from pathlib import Path

    from anacostia_blockchain import BaseActionNode, BaseResourceNode, Pipeline, SqliteMetadataStore
    from anacostia_blockchain.nodes import MonitoringDataStoreNode

    WORK = Path(os.environ["RUN_TEST_DIR"])


    class EvalNode(BaseActionNode):
        def __init__(self, name, predecessors, metadata_store):
            self.metadata_store = metadata_store
            super().__init__(name, predecessors)

        def execute(self, *args, **kwargs) -> bool:
            inputs = self.predecessors[0].current_inputs()
            if any(a.location.startswith("bad") for a in inputs):
                return False
            self.log(f"evaluating {len(inputs)} file(s)")
            self.metadata_store.log_metrics(loss=0.5)
            self.metadata_store.log_metrics(loss=0.25, accuracy=0.9)
            with open(WORK / "executed", "a") as handle:
                handle.write(f"{self.metadata_store.current_run_id}\\n")
            return True


    def make(db_url=None, data=None):
        store = SqliteMetadataStore("metadata_store", db_url or f"sqlite:///{WORK / 'metadata.db'}",
                                    input_retry_limit=1)
        folder = MonitoringDataStoreNode("data_store", data or WORK / "data", store, create=True)
        return Pipeline(nodes=[store, folder, EvalNode("eval_node", [folder], store)])
    """
)

#: ``build_pipeline()`` — the factory form.
FACTORY = COMMON + "\n\ndef build_pipeline():\n    return make()\n"

#: ``pipeline`` built at import time, plus an alternative factory to select with ``:ATTR``.
INSTANCE = COMMON + textwrap.dedent(
    """

    pipeline = make()


    def other_pipeline():
        return make(f"sqlite:///{WORK / 'other.db'}", WORK / "other-data")
    """
)

#: An in-memory store: everything is gone when it closes.
IN_MEMORY = COMMON + "\n\ndef build_pipeline():\n    return make('sqlite://')\n"

#: A resource whose thread dies after the first run: the pipeline stops and ``run`` exits 1.
CRASHING = COMMON + textwrap.dedent(
    """

    class ExplodingResource(BaseResourceNode):
        def __init__(self, name, metadata_store):
            super().__init__(name, metadata_store, monitoring=False)

        def serve(self):
            while not (WORK / "executed").exists():
                if self._halt.wait(0.05):
                    return
            raise RuntimeError("the disk caught fire")


    def build_pipeline():
        store = SqliteMetadataStore("metadata_store", f"sqlite:///{WORK / 'metadata.db'}")
        folder = MonitoringDataStoreNode("data_store", WORK / "data", store, create=True)
        return Pipeline(nodes=[store, folder, ExplodingResource("exploding", store),
                               EvalNode("eval_node", [folder], store)])
    """
)

#: A launch that blocks in ``setup()`` until told otherwise: a signal must abort it.
SLOW_LAUNCH = COMMON + textwrap.dedent(
    """
    import time


    class SlowResource(BaseResourceNode):
        def __init__(self, name, metadata_store):
            super().__init__(name, metadata_store, monitoring=False)

        def setup(self):
            (WORK / "launching").write_text("yes")
            time.sleep(60)


    def build_pipeline():
        store = SqliteMetadataStore("metadata_store", f"sqlite:///{WORK / 'metadata.db'}")
        return Pipeline(nodes=[store, SlowResource("slow", store)])
    """
)

#: The pipeline's store anchors runs in a RunRegistry: RPC URL, deployments folder and key from the environment.
ANCHORED = COMMON + textwrap.dedent(
    """

    from anacostia_blockchain import BlockchainMetadataStore, LocalSigner


    def build_pipeline():
        store = BlockchainMetadataStore(
            "metadata_store", f"sqlite:///{WORK / 'metadata.db'}", signer=LocalSigner.from_env(),
            rpc_url=os.environ["RUN_TEST_RPC_URL"], deployments=os.environ["RUN_TEST_DEPLOYMENTS"],
            pipeline="run-test",
        )
        folder = MonitoringDataStoreNode("data_store", WORK / "data", store, create=True)
        return Pipeline(nodes=[store, folder, EvalNode("eval_node", [folder], store)])
    """
)

#: The shape of a script run with ``python``: the pipeline executes at import (``run`` must explain, not hang).
EXECUTES_AT_IMPORT = COMMON + "\n\nrunning = make()\nrunning.execute()\n"

#: A watched folder whose path is mistyped (``dta``): ``{create}`` is filled in by the test.
MISTYPED_FOLDER = COMMON + textwrap.dedent(
    """

    from anacostia_blockchain import FilesystemStoreNode


    def build_pipeline():
        store = SqliteMetadataStore("metadata_store", f"sqlite:///{WORK / 'metadata.db'}")
        folder = FilesystemStoreNode("data_store", WORK / "dta", store{create})
        return Pipeline(nodes=[store, folder, EvalNode("eval_node", [folder], store)])
    """
)

NOT_A_PIPELINE = "pipeline = 42\n"
BROKEN_IMPORT = "import this_module_does_not_exist_anywhere\n"
FACTORY_RAISES = "def build_pipeline():\n    raise ValueError('no GPU found')\n"
NOTHING = "x = 1\n"
