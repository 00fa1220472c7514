"""A pipeline process whose actions run on an embedded Ray (``RayExecutor()``, no address): for the test that loses
that Ray mid-run. ``python ray_driver.py DB_URL WORKDIR``; runs until SIGTERM."""

from __future__ import annotations

import sys
from pathlib import Path

from anacostia_blockchain import FilesystemStoreNode, Pipeline
from anacostia_blockchain.executors import DatumAction, RayExecutor
from anacostia_blockchain.metadata import SqlMetadataStore
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode
from executors.work_fns import upper_or_hang


def main() -> None:
    url, work = sys.argv[1], Path(sys.argv[2])
    store = SqlMetadataStore("metadata", url, input_retry_backoff=600)
    data = FilesystemStoreNode("data", work / "data", store, create=True)
    out = IPFSStoreNode("out", store, store=work / "blocks")
    action = DatumAction("work", [data], work=upper_or_hang, output=out, executor=RayExecutor(),
                         params={"markers": str(work / "markers")})
    Pipeline([store, data, out, action]).execute()


if __name__ == "__main__":
    main()
