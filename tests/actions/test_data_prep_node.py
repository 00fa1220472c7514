"""DataPrepNode in a real pipeline: folder in, IPFS out; bad files quarantined, outputs decryptable by recipients."""

from __future__ import annotations

import io
import json
import os
import secrets
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain.actions.data_prep import DataPrepNode
from anacostia_blockchain.actions.data_prep_schema import FieldSpec, RecordSchema
from anacostia_blockchain.crypto import decrypt_bytes, key_for_private_key, public_key_for_private_key, read_header
from anacostia_blockchain.engine import ArtifactState, NodeStatus, Pipeline, RunStatus
from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.ipfs import EmbeddedBlockstore, compute_cid
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode

WAIT = 30.0
SCHEMA = RecordSchema((FieldSpec("text", min_length=1), FieldSpec("source", required=False, clean=False)))


@pytest.fixture
def operator() -> tuple[bytes, bytes]:
    private = secrets.token_bytes(32)
    return private, public_key_for_private_key(private)


def _build(
    tmp_path: Path, recipients: list[bytes], url: str | None = None, **kwargs: Any
) -> tuple[Pipeline, DataPrepNode, EmbeddedBlockstore]:
    store = SqliteMetadataStore("metadata", url or f"sqlite:///{tmp_path / 'meta.db'}")
    incoming = FilesystemStoreNode("incoming", tmp_path / "incoming", store, create=True)
    blockstore = EmbeddedBlockstore(tmp_path / "ipfs", fsync=False)
    vault = IPFSStoreNode("vault", store, store=blockstore)
    prep = DataPrepNode(
        "prep",
        incoming,
        vault,
        schema=SCHEMA,
        recipient_public_keys=recipients,
        quarantine_dir=tmp_path / "quarantine",
        dedupe_fields=["text"],
        **kwargs,
    )
    return Pipeline([store, incoming, vault, prep]), prep, blockstore


def _land(folder: Path, name: str, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f".{name}.tmp").write_bytes(data)
    os.replace(folder / f".{name}.tmp", folder / name)


def _open(blockstore: EmbeddedBlockstore, cid: str, private: bytes) -> tuple[str, list[dict[str, Any]]]:
    envelope = blockstore.cat(cid)
    header = read_header(io.BytesIO(envelope))
    plaintext = decrypt_bytes(envelope, key_for_private_key(header, private))
    assert compute_cid(plaintext) == header.plaintext_cid
    return header.plaintext_cid, [json.loads(line) for line in plaintext.decode().splitlines()]


def test_validate_clean_encrypt_with_a_quarantined_file(tmp_path: Path, operator: tuple[bytes, bytes]) -> None:
    private, public = operator
    auditor_private = secrets.token_bytes(32)
    pipeline, prep, blockstore = _build(tmp_path, [public, public_key_for_private_key(auditor_private)])
    incoming = tmp_path / "incoming"
    good = [
        {"text": "  Cafe\u0301   au\tlait ", "source": "  web  "},
        {"text": "second\r\n\r\n\r\nrecord"},
        {"text": "Café au lait"},  # equal to the first after cleaning: a duplicate
    ]
    _land(incoming, "a.jsonl", "".join(json.dumps(r) + "\n" for r in good).encode())
    _land(incoming, "b.csv", b'text,source\r\n"second\n\n\nrecord",dup\r\nthird one,forum\r\n')
    _land(incoming / "batch", "bad.jsonl", b'{"text": "fine"}\n{"text": "also fine"}\n{"source": "no text"}\n')
    _land(incoming, "notes.txt", b"free text is not a supported format")

    with pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
    store = pipeline.metadata_store
    [run] = store.runs.get_runs()
    assert run["status"] == RunStatus.SUCCESS
    assert [n["status"] for n in store.runs.get_node_runs(run["id"])] == [NodeStatus.SUCCESS]

    outputs = {a.location: a for a in prep.output_resource.list_artifacts()}
    assert sorted(outputs) == ["a.jsonl.enc", "b.jsonl.enc"]
    cid_a, records_a = _open(blockstore, outputs["a.jsonl.enc"].cid, private)
    assert records_a == [{"text": "Café au lait", "source": "  web  "}, {"text": "second\n\nrecord"}]
    _, records_b = _open(blockstore, outputs["b.jsonl.enc"].cid, auditor_private)
    assert records_b == [{"text": "third one", "source": "forum"}]  # "second record" was already in a.jsonl
    assert "Café".encode() not in blockstore.cat(outputs["a.jsonl.enc"].cid)
    assert cid_a == compute_cid(b'{"text":"Caf\xc3\xa9 au lait","source":"  web  "}\n{"text":"second\\n\\nrecord"}\n')

    quarantine = tmp_path / "quarantine" / f"run-{run['id']}"
    assert (quarantine / "batch" / "bad.jsonl").exists() and not (incoming / "batch" / "bad.jsonl").exists()
    reason = json.loads((quarantine / "batch" / "bad.jsonl.reason.json").read_text())
    assert reason["reason"] == "line 3: field 'text' is missing"
    assert reason["run_id"] == run["id"] and reason["node"] == "prep" and len(reason["sha256"]) == 64
    assert "unsupported file type '.txt'" in json.loads((quarantine / "notes.txt.reason.json").read_text())["reason"]

    metrics = {m["key"]: m["value"] for m in store.runs.get_metrics(run["id"])}
    assert metrics == {
        "files_ok": 2.0,
        "files_quarantined": 2.0,
        "records_in": 5.0,
        "records_out": 3.0,
        "duplicates_dropped": 2.0,
    }
    reasons = json.loads(store.runs.get_tags(run["id"])["prep.quarantine"])
    assert {r["location"] for r in reasons} == {"batch/bad.jsonl", "notes.txt"}

    for output, source in (("a.jsonl.enc", "a.jsonl"), ("b.jsonl.enc", "b.csv")):
        lineage = store.runs.lineage(outputs[output])
        assert lineage is not None and lineage["node"] == "prep"
        assert [a.location for a in lineage["inputs"]] == [source]  # exactly its input, not all four the node read
    assert list(prep.work_dir.iterdir()) == []


def test_a_file_of_duplicates_stores_nothing_and_the_run_succeeds(
    tmp_path: Path, operator: tuple[bytes, bytes]
) -> None:
    _, public = operator
    pipeline, prep, _ = _build(tmp_path, [public])
    _land(tmp_path / "incoming", "same.jsonl", b'{"text": "x"}\n{"text": " x "}\n')
    with pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
        _land(tmp_path / "incoming", "again.jsonl", b'{"text": "x"}\n')  # dedupe is per run: stored again
        assert pipeline.wait_for_runs(2, WAIT)
    assert sorted(a.location for a in prep.output_resource.list_artifacts()) == ["again.jsonl.enc", "same.jsonl.enc"]
    assert pipeline.metadata_store.runs.get_runs()[0]["status"] == RunStatus.SUCCESS


def test_an_output_store_failure_fails_the_run_and_keeps_the_input(
    tmp_path: Path, operator: tuple[bytes, bytes]
) -> None:
    """Not the data's fault: nothing is quarantined, the input goes back to `new` for a retry."""
    _, public = operator
    pipeline, prep, _ = _build(tmp_path, [public])
    _land(tmp_path / "incoming", "ok.jsonl", b'{"text": "valid"}\n')
    blocks = tmp_path / "ipfs" / "blocks"
    for shard in blocks.iterdir():
        shard.rmdir()
    blocks.rmdir()
    blocks.write_bytes(b"not a directory: every block write fails")
    with pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
    store = pipeline.metadata_store
    [run] = store.runs.get_runs()
    assert run["status"] == RunStatus.FAILED
    assert "ArtifactWriteError" in run["error"]
    assert not (tmp_path / "quarantine").exists()
    assert (tmp_path / "incoming" / "ok.jsonl").exists()
    [artifact] = prep.input_resource.list_artifacts()
    assert artifact.state in (ArtifactState.NEW, ArtifactState.QUARANTINED) and artifact.attempts == 1
    assert prep.output_resource.list_artifacts() == []


def test_configuration_is_checked(tmp_path: Path, operator: tuple[bytes, bytes]) -> None:
    _, public = operator
    with pytest.raises(ConfigurationError, match="unrecoverable"):
        _build(tmp_path, [])
    store = SqliteMetadataStore("m", f"sqlite:///{tmp_path / 'm.db'}")
    incoming = FilesystemStoreNode("in", tmp_path / "in", store, create=True)
    out = IPFSStoreNode("out", store, store=tmp_path / "ipfs")
    with pytest.raises(ConfigurationError, match="dedupe_fields"):
        DataPrepNode(
            "p",
            incoming,
            out,
            schema=SCHEMA,
            recipient_public_keys=[public],
            quarantine_dir=tmp_path,
            dedupe_fields=["nope"],
        )


def test_ipfs_input_and_folder_output(tmp_path: Path, operator: tuple[bytes, bytes]) -> None:
    """The other resource pairing: inputs read back from IPFS (verified), envelopes written to a plain folder."""
    private, public = operator
    store = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")
    blockstore = EmbeddedBlockstore(tmp_path / "ipfs", fsync=False)
    published = blockstore.add_bytes(b'{"text": "from a CID"}\n', pin=False)  # CID inputs: no local file
    broken = blockstore.add_bytes(b"\xff\xfe not utf-8", pin=False)
    incoming = IPFSStoreNode(
        "incoming",
        store,
        store=blockstore,
        staging_dir=tmp_path / "staging",
        cids=[str(published.cid), str(broken.cid)], create=True,
    )
    outbox = FilesystemStoreNode("encrypted", tmp_path / "encrypted", store, monitoring=False)
    prep = DataPrepNode(
        "prep",
        incoming,
        outbox,
        schema=SCHEMA,
        recipient_public_keys=[public],
        quarantine_dir=tmp_path / "q",
        default_format="jsonl",
    )
    _land(tmp_path / "staging", "ok.tsv", b"text\tsource\nhello   world\tdemo\n")
    _land(tmp_path / "staging", "bad.csv", b"source\nno text column\n")
    with Pipeline([store, incoming, outbox, prep]) as pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
    envelope = (tmp_path / "encrypted" / "ok.jsonl.enc").read_bytes()
    header = read_header(io.BytesIO(envelope))
    assert decrypt_bytes(envelope, key_for_private_key(header, private)) == b'{"text":"hello world","source":"demo"}\n'
    assert (tmp_path / "q" / "run-1" / "bad.csv").read_bytes() == b"source\nno text column\n"
    assert not (tmp_path / "staging" / "bad.csv").exists()
    copied = tmp_path / "q" / "run-1" / str(broken.cid)  # no file to move: the content is copied out of IPFS
    assert copied.read_bytes() == b"\xff\xfe not utf-8"
    assert "not valid UTF-8" in json.loads(copied.with_name(copied.name + ".reason.json").read_text())["reason"]
    from_cid = (tmp_path / "encrypted" / f"{published.cid}.jsonl.enc").read_bytes()
    assert decrypt_bytes(from_cid, key_for_private_key(read_header(io.BytesIO(from_cid)), private)) == (
        b'{"text":"from a CID"}\n'
    )
    saved = {a.location: a for a in outbox.list_artifacts()}
    assert sorted(saved) == sorted(["ok.jsonl.enc", f"{published.cid}.jsonl.enc"])
    assert saved["ok.jsonl.enc"].produced_by_node == "prep"


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_each_output_derives_exactly_from_its_own_input_in_the_anchored_manifest(
    tmp_path: Path, operator: tuple[bytes, bytes], database: str, request: pytest.FixtureRequest
) -> None:
    """Two inputs, two outputs: each output's lineage (and its manifest edge) names only the file it was made from."""
    _, public = operator
    url = str(request.getfixturevalue("postgres_url")) if database == "postgres" else None
    pipeline, prep, _ = _build(tmp_path, [public], url)
    _land(tmp_path / "incoming", "one.jsonl", b'{"text": "first file"}\n')
    _land(tmp_path / "incoming", "two.jsonl", b'{"text": "second file"}\n')
    with pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
    store = pipeline.metadata_store
    [run] = store.runs.get_runs()
    assert run["status"] == RunStatus.SUCCESS
    inputs = {a.location: a for a in store.runs.run_artifacts(run["id"])["consumed"]}
    assert sorted(inputs) == ["one.jsonl", "two.jsonl"]
    outputs = {a.location: a for a in prep.output_resource.list_artifacts()}
    for output, source in (("one.jsonl.enc", "one.jsonl"), ("two.jsonl.enc", "two.jsonl")):
        lineage = store.runs.lineage(outputs[output])
        assert lineage is not None
        assert [a.id for a in lineage["inputs"]] == [inputs[source].id]
        assert lineage["execution"]["basis"] == "declared"
    manifest_edges = {o["location"]: o for o in store.runs.export_run(run["id"])["outputs"]}
    for output, source in (("one.jsonl.enc", "one.jsonl"), ("two.jsonl.enc", "two.jsonl")):
        assert manifest_edges[output]["derived_from"] == [
            {"resource": "incoming", "location": source, "sha256": inputs[source].sha256}]
        assert manifest_edges[output]["basis"] == "declared"
