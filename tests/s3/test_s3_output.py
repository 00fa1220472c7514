"""``S3StoreNode`` as an output in a real pipeline (SQLite metadata store, moto server): objects written with their
CID and lineage, multipart uploads, objects a worker put there recorded, reads recorded for lineage."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

import pytest

from anacostia_blockchain import BaseActionNode, Pipeline
from anacostia_blockchain.engine import Artifact, ArtifactState, BaseNode
from anacostia_blockchain.errors import ContentMismatchError, LineageError
from anacostia_blockchain.resources.s3 import S3StoreNode

from .moto_kit import S3Env
from .s3_kit import Consume, expected, metadata_store

pytestmark = pytest.mark.xdist_group("s3")

MiB = 1024 * 1024


def test_a_pipeline_from_an_s3_input_to_an_s3_output_records_content_addressed_outputs_and_lineage(
    tmp_path: Path, s3: S3Env, bucket: str
) -> None:
    client = s3.server.client()
    client.put_object(Bucket=bucket, Key="raw/a.txt", Body=b"abc")
    client.put_object(Bucket=bucket, Key="raw/b.txt", Body=b"def")
    store = metadata_store(tmp_path)
    source = S3StoreNode("raw", store, bucket=bucket, prefix="raw/", endpoint_url=s3.endpoint, poll_interval=0.2)
    output = S3StoreNode("processed", store, bucket=bucket, prefix="out/", endpoint_url=s3.endpoint,
                         monitoring=False)
    action = Consume("consume", [source], source, output)
    with Pipeline([store, source, output, action]) as run:
        assert run.wait_for_runs(1, 60)
    (finished,) = store.runs.get_runs()
    assert finished["status"] == "success"
    assert client.get_object(Bucket=bucket, Key="out/a.txt.out")["Body"].read() == b"ABC"
    produced = store.runs.present_artifacts("processed")
    assert sorted(produced) == ["a.txt.out", "b.txt.out"]
    assert (produced["a.txt.out"].sha256, produced["a.txt.out"].cid) == expected(b"ABC")
    assert produced["a.txt.out"].produced_run_id == finished["id"]
    for name, origin in (("a.txt.out", "a.txt"), ("b.txt.out", "b.txt")):
        lineage = store.runs.lineage(produced[name])
        assert lineage is not None and [a.location for a in lineage["inputs"]] == [origin]
        assert lineage["node"] == "consume"
    assert {a.state for a in source.list_artifacts()} == {ArtifactState.OLD}


class SaveTwice(BaseActionNode):
    """Writes a large object through a writer function (multipart) and one declared as derived from a single input;
    then asks for a lineage it did not read."""

    def __init__(self, name: str, predecessors: list[BaseNode], source: S3StoreNode, output: S3StoreNode) -> None:
        super().__init__(name, predecessors)
        self.source, self.output = source, output
        self.saved: list[Artifact] = []
        self.refused: Exception | None = None

    def execute(self, *args: object, **kwargs: object) -> bool:
        first, second = sorted(self.source.current_inputs(), key=lambda a: a.location)
        body = self.source.read_bytes(first)

        def write(handle: IO[bytes]) -> None:
            for _ in range(6):
                handle.write(body * (MiB // len(body)))

        self.saved.append(self.output.save_artifact("big.bin", write, derived_from=[first]))
        try:
            self.output.save_artifact("never.bin", b"x", derived_from=[second.id + 1000])
        except LineageError as exc:
            self.refused = exc
        return True


def test_large_outputs_go_up_in_parts_and_a_declared_lineage_is_checked_before_writing(
    tmp_path: Path, s3: S3Env, bucket: str
) -> None:
    client = s3.server.client()
    client.put_object(Bucket=bucket, Key="raw/a.txt", Body=b"abcd")
    client.put_object(Bucket=bucket, Key="raw/b.txt", Body=b"efgh")
    store = metadata_store(tmp_path)
    source = S3StoreNode("raw", store, bucket=bucket, prefix="raw/", endpoint_url=s3.endpoint, poll_interval=0.2)
    output = S3StoreNode("processed", store, bucket=bucket, prefix="out/", endpoint_url=s3.endpoint,
                         monitoring=False, multipart_threshold=5 * MiB)
    action = SaveTwice("save", [source], source, output)
    with Pipeline([store, source, output, action]) as run:
        assert run.wait_for_runs(1, 60)
    content = b"abcd" * (6 * MiB // 4)
    (big,) = action.saved
    assert (big.sha256, big.size, big.cid) == (*expected(content)[:1], len(content), expected(content)[1])
    head = client.head_object(Bucket=bucket, Key="out/big.bin")
    assert head["ETag"].strip('"').endswith("-2")  # two parts
    assert hashlib.sha256(client.get_object(Bucket=bucket, Key="out/big.bin")["Body"].read()).hexdigest() == big.sha256
    lineage = store.runs.lineage(big)
    assert lineage is not None and [a.location for a in lineage["inputs"]] == ["a.txt"]
    assert isinstance(action.refused, LineageError)
    assert "Contents" not in client.list_objects_v2(Bucket=bucket, Prefix="out/never")


class RecordWorkerOutput(BaseActionNode):
    """Reads one of its inputs (found in the metadata store directly, so only the read itself goes through the
    resource), lets "a worker" put the result in the bucket, then records it (once with a wrong sha256)."""

    def __init__(self, name: str, predecessors: list[BaseNode], source: S3StoreNode, output: S3StoreNode,
                 worker: object) -> None:
        super().__init__(name, predecessors)
        self.source, self.output, self.worker = source, output, worker
        self.mismatch: Exception | None = None

    def execute(self, *args: object, **kwargs: object) -> bool:
        current = self.source.metadata_store.runs.list_artifacts("raw", ArtifactState.CURRENT)
        (artifact,) = [a for a in current if a.location == "in.txt"]
        result = self.source.read_bytes(artifact)[::-1]
        self.worker.put_object(Bucket=self.output.bucket, Key="out/reversed.txt", Body=result)  # type: ignore[attr-defined]
        try:
            self.output.record_current("reversed.txt", sha256="0" * 64)
        except ContentMismatchError as exc:
            self.mismatch = exc
        self.output.record_current("reversed.txt", sha256=hashlib.sha256(result).hexdigest())
        return True


def test_an_object_a_worker_put_in_the_bucket_is_recorded_with_what_was_read_after_its_sha256_is_checked(
    tmp_path: Path, s3: S3Env, bucket: str
) -> None:
    client = s3.server.client()
    client.put_object(Bucket=bucket, Key="raw/in.txt", Body=b"stressed")
    client.put_object(Bucket=bucket, Key="raw/unread.txt", Body=b"not read by the action")
    store = metadata_store(tmp_path)
    source = S3StoreNode("raw", store, bucket=bucket, prefix="raw/", endpoint_url=s3.endpoint, poll_interval=0.2)
    output = S3StoreNode("processed", store, bucket=bucket, prefix="out/", endpoint_url=s3.endpoint,
                         monitoring=False)
    action = RecordWorkerOutput("worker", [source], source, output, client)
    with Pipeline([store, source, output, action]) as run:
        assert run.wait_for_runs(1, 60)
    assert isinstance(action.mismatch, ContentMismatchError)
    (recorded,) = output.list_artifacts()  # the refused attempt recorded nothing
    assert (recorded.location, recorded.sha256, recorded.cid) == ("reversed.txt", *expected(b"desserts"))
    lineage = store.runs.lineage(recorded)  # what the action read through the resource, not all the run's inputs
    assert lineage is not None and [a.location for a in lineage["inputs"]] == ["in.txt"]
    assert lineage["execution"]["basis"] == "reads"
