"""The two README examples run as scripts, unchanged but for their imports (see each example's docstring)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_anacostia_readme_example_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "anacostia_readme.py")],
        env={**os.environ, "ANACOSTIA_EXAMPLE_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "success"
    assert summary["metrics"] == {"shakespeare_test_loss": 1.47}
    assert "shakespeare_eval: Evaluating LLM on Shakespeare validation dataset" in result.stderr
    assert (tmp_path / "metadata" / "metadata.db").exists()


def _successful_runs(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM runs WHERE status = 'success'").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def test_anacostia_blockchain_readme_example_runs_until_sigint(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "anacostia_blockchain_readme.py")], cwd=tmp_path,
        env={**os.environ, "ANACOSTIA_DATA_PATH": str(data)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        data.mkdir()
        (data / "sonnet-18.txt").write_text("Shall I compare thee to a summer's day?\n")
        deadline = time.monotonic() + 30
        while _successful_runs(tmp_path / "metadata.db") < 1 and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[1]
            time.sleep(0.05)
        assert _successful_runs(tmp_path / "metadata.db") == 1
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    with sqlite3.connect(tmp_path / "metadata.db") as conn:
        metrics = conn.execute("SELECT node_name, key, value FROM metrics").fetchall()
    assert metrics == [("eval_node", "shakespeare_test_loss", 1.47)]
