"""The Anacostia-Blockchain README example, as written but for one thing: the README's placeholder data folder
``/data/path`` can be overridden with ``ANACOSTIA_DATA_PATH`` (the default stays ``/data/path``).

``pipeline.execute()`` blocks; drop files into the data folder to trigger runs, stop with Ctrl-C (SIGINT) or SIGTERM.
The metadata database is ``metadata.db`` in the current directory, as in the README.
"""

import os

# Import pipeline and node classes
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.nodes import MonitoringDataStoreNode, ShakespeareEvalNode
from anacostia_blockchain.pipeline import Pipeline

# Additional blockchain-related variables and imports are initialized here
DATA_PATH = os.environ.get("ANACOSTIA_DATA_PATH", "/data/path")

if __name__ == "__main__":
    # Initialize metadata store and nodes
    metadata_store = SqliteMetadataStore("metadata_store", "sqlite:///metadata.db")
    data_store = MonitoringDataStoreNode("data_store", DATA_PATH, metadata_store)
    eval_node = ShakespeareEvalNode("eval_node", [data_store], metadata_store)

    # Define and execute the pipeline, integrating blockchain functionalities
    pipeline = Pipeline(nodes=[metadata_store, data_store, eval_node])
    pipeline.execute()
