"""The seed-000 example runs end to end on embedded defaults and its output decrypts with the operator key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from anacostia_blockchain.ipfs import EmbeddedBlockstore

REPO = Path(__file__).resolve().parents[2]


def test_llm_data_pipeline_example(tmp_path: Path) -> None:
    workdir = tmp_path / "llm"
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "llm_data_pipeline.py"), "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["run"]["status"] == "success"
    assert {o["location"]: o["records"] for o in summary["outputs"]} == {"forum.jsonl.enc": 2, "scraped.jsonl.enc": 1}
    assert summary["quarantined"] == [
        {"location": "broken.jsonl", "reason": "line 2: field 'text' must be str, got int"}
    ]
    assert summary["metrics"]["duplicates_dropped"] == 1.0
    assert (workdir / "quarantine" / "run-1" / "broken.jsonl.reason.json").exists()
    key_file = workdir / "operator.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert key_file.read_text().strip() not in done.stdout + done.stderr
    blockstore = EmbeddedBlockstore(workdir / "ipfs")
    pinned = {str(cid) for cid in blockstore.pins()}
    assert {o["cid"] for o in summary["outputs"]} <= pinned
    for output in summary["outputs"]:
        assert b"caf" not in blockstore.cat(output["cid"])  # stored encrypted
