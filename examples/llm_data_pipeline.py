"""Seed 000's pipeline: validate, clean and encrypt the incoming new data to the LLM, then store it on IPFS.

    .venv/bin/python examples/llm_data_pipeline.py                 # one demo run in a temporary folder, then exit
    .venv/bin/python examples/llm_data_pipeline.py --workdir ./llm --watch   # keep watching ./llm/incoming

Everything runs on embedded defaults: SQLite metadata, a watched folder for incoming data, the embedded IPFS
blockstore for the encrypted output. The DAG::

    metadata_store ── incoming (FilesystemStoreNode, watched) ──┐
                   └─ encrypted_corpus (IPFSStoreNode, output) ─┴─> prepare (DataPrepNode)

The operator's secp256k1 key (any Ethereum account key works) receives every file's data key. The demo creates one
in ``<workdir>/operator.key`` (mode 0600) if none exists; it is never printed. The script prints one JSON summary:
the encrypted outputs with their CIDs, the quarantined files with their reasons, the run's metrics, and a check that
the operator key decrypts what was stored.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

from anacostia_blockchain.actions.data_prep import DataPrepNode
from anacostia_blockchain.actions.data_prep_schema import FieldSpec, RecordSchema
from anacostia_blockchain.crypto import decrypt_bytes, key_for_private_key, public_key_for_private_key, read_header
from anacostia_blockchain.engine import Pipeline
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode

#: One training record: the text, where it came from, and an optional quality score.
SCHEMA = RecordSchema(
    (
        FieldSpec("text", min_length=1, max_length=100_000),
        FieldSpec("source", required=False, clean=False),
        FieldSpec("quality", type="float", required=False),
    )
)

SAMPLES = {
    "forum.jsonl": (
        '{"text": "The  cafe\\u0301 opens at   nine.", "source": "forum", "quality": 0.8}\n'
        '{"text": "Bring\\u200b your own cup.\\r\\n\\r\\n\\r\\nThanks!", "source": "forum"}\n'
    ),
    "scraped.csv": (
        "text,source,quality\r\n"
        '"The café opens at nine.",web,0.5\r\n'  # a duplicate of the first forum record once cleaned
        '"Poetry:\tshort  lines, long   silences",web,0.9\r\n'
    ),
    "broken.jsonl": '{"text": "fine"}\n{"text": 42}\n',  # quarantined: line 2 has the wrong type
}


def operator_key(workdir: Path) -> bytes:
    """The demo operator's private key, created once with owner-only permissions."""
    path = workdir / "operator.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def build(workdir: Path, private_key: bytes) -> tuple[Pipeline, DataPrepNode, EmbeddedBlockstore]:
    metadata_store = SqliteMetadataStore("metadata_store", f"sqlite:///{workdir / 'metadata.db'}")
    incoming = FilesystemStoreNode("incoming", workdir / "incoming", metadata_store, create=True)
    blockstore = EmbeddedBlockstore(workdir / "ipfs")
    encrypted = IPFSStoreNode("encrypted_corpus", metadata_store, store=blockstore, import_options={"cid_version": 1})
    prepare = DataPrepNode(
        "prepare",
        incoming,
        encrypted,
        schema=SCHEMA,
        recipient_public_keys=[public_key_for_private_key(private_key)],
        quarantine_dir=workdir / "quarantine",
        dedupe_fields=["text"],
        cid_options={"cid_version": 1},
    )
    return Pipeline([metadata_store, incoming, encrypted, prepare]), prepare, blockstore


def summarize(pipeline: Pipeline, prepare: DataPrepNode, blockstore: EmbeddedBlockstore, key: bytes) -> dict[str, Any]:
    store = pipeline.metadata_store
    run = store.runs.get_runs()[-1]
    outputs = []
    for artifact in prepare.output_resource.list_artifacts():
        envelope = blockstore.cat(artifact.cid)
        header = read_header(io.BytesIO(envelope))
        plaintext = decrypt_bytes(envelope, key_for_private_key(header, key))
        outputs.append(
            {
                "location": artifact.location,
                "cid": artifact.cid,
                "plaintext_cid": header.plaintext_cid,
                "records": len(plaintext.splitlines()),
            }
        )
    tags = store.runs.get_tags(run["id"])
    return {
        "run": {"id": run["id"], "status": run["status"]},
        "outputs": outputs,
        "quarantined": json.loads(tags.get("prepare.quarantine", "[]")),
        "metrics": {m["key"]: m["value"] for m in store.runs.get_metrics(run["id"])},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path,
                        help="where data, metadata and IPFS blocks live (default: a temporary folder, removed at exit)")
    parser.add_argument("--watch", action="store_true", help="keep running and process new files until Ctrl-C")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the demo run")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="anacostia-llm-")))
        return run(workdir, args.watch, args.timeout, keep=args.workdir is not None)


def run(workdir: Path, watch: bool, timeout: float, *, keep: bool) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    key = operator_key(workdir)
    pipeline, prepare, blockstore = build(workdir, key)
    incoming = workdir / "incoming"
    incoming.mkdir(exist_ok=True)
    for name, text in SAMPLES.items():
        if not (incoming / name).exists() and not any((workdir / "quarantine").rglob(name)):
            (incoming / name).write_text(text, encoding="utf-8")
    if watch:
        print(f"watching {incoming}; drop .jsonl/.csv files there (Ctrl-C to stop)", file=sys.stderr)
        pipeline.execute()
        return 0
    with pipeline:
        finished = pipeline.wait_for_runs(1, timeout)
        summary = summarize(pipeline, prepare, blockstore, key) if finished else {"error": "no run finished"}
    if keep:
        summary["workdir"] = str(workdir)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0 if finished and summary["run"]["status"] == "success" else 1


if __name__ == "__main__":
    raise SystemExit(main())
