"""An S3 input with a shared content store: objects are added to it by CID when recorded, so executors' tasks read
them by CID (never from the bucket, never through the coordinator), and reads back are served by CID."""

from __future__ import annotations

from pathlib import Path

import pytest

from anacostia_blockchain import Pipeline
from anacostia_blockchain.executors import DatumAction, LocalExecutor
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode
from anacostia_blockchain.resources.s3 import S3StoreNode

from .moto_kit import S3Env
from .s3_kit import expected, metadata_store

pytestmark = pytest.mark.xdist_group("s3")


def test_objects_reach_tasks_by_their_cid_through_the_shared_content_store(
    tmp_path: Path, s3: S3Env, bucket: str
) -> None:
    from executors.work_fns import upper

    blocks = EmbeddedBlockstore(tmp_path / "blocks")
    s3.server.client().put_object(Bucket=bucket, Key="raw/a.txt", Body=b"abc")
    store = metadata_store(tmp_path)
    source = S3StoreNode("raw", store, bucket=bucket, prefix="raw/", endpoint_url=s3.endpoint, poll_interval=0.2,
                         content_store=blocks)
    out = IPFSStoreNode("out", store, store=blocks)
    action = DatumAction("upper", [source], work=upper, output=out, executor=LocalExecutor(1))
    with Pipeline([store, source, out, action]) as run:
        assert run.wait_for_runs(1, 60)
    (recorded,) = source.list_artifacts()
    assert (recorded.sha256, recorded.cid) == expected(b"abc")
    assert recorded.cid is not None and blocks.has(recorded.cid)  # added to the store when it was recorded
    produced = store.runs.present_artifacts("out")["a.txt.up"]
    assert blocks.cat(str(produced.cid)) == b"ABC"
    lineage = store.runs.lineage(produced)
    assert lineage is not None and [a.location for a in lineage["inputs"]] == ["a.txt"]
    s3.server.client().delete_object(Bucket=bucket, Key="raw/a.txt")
    assert source.read_bytes(recorded) == b"abc"  # served by CID: the bucket no longer has it
