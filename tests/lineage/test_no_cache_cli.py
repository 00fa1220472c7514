"""``anacostia-chain run --no-cache``: the real console script, one process per invocation, one database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .lineage_kit import drop

CLI = str(Path(sys.executable).with_name("anacostia-chain"))
PIPELINE = '''
from pathlib import Path
from anacostia_blockchain import BaseActionNode, FilesystemStoreNode, Pipeline, SqliteMetadataStore

HERE = Path(__file__).parent

class Shout(BaseActionNode):
    def __init__(self, name, data, out):
        super().__init__(name, [data, out])
        self.data, self.out = data, out

    def execute(self):
        with open(HERE / "executions.log", "a") as log:
            log.write("executed\\n")
        for artifact in self.data.current_inputs():
            self.out.save_artifact(artifact.location + ".loud", self.data.read_bytes(artifact).upper())
        return True

def build_pipeline():
    store = SqliteMetadataStore("metadata", f"sqlite:///{HERE / 'meta.db'}")
    data = FilesystemStoreNode("data", HERE / "data", store, create=True)
    out = FilesystemStoreNode("out", HERE / "out", store, monitoring=False)
    return Pipeline([store, data, out, Shout("shout", data, out)])
'''


def run_cli(module: Path, *flags: str) -> None:
    done = subprocess.run([CLI, "run", str(module), "--for", "4", "--json", *flags], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)["runs"]
    assert [run["status"] for run in runs] == ["success"]


def executions(db: Path) -> list[tuple[int, str, str, int]]:
    """``(run, status, cache key, reusable)`` of every execution, in order."""
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT run_id, status, cache_key, reusable FROM executions ORDER BY id"))


@pytest.mark.slow
def test_no_cache_executes_what_would_be_reused(tmp_path: Path) -> None:
    module = tmp_path / "pipe.py"
    module.write_text(textwrap.dedent(PIPELINE))
    for index, flags in enumerate([(), (), ("--no-cache",)]):
        drop(tmp_path / "data", f"{index}.txt", "hello")  # the same content under a new name each time
        run_cli(module, *flags)
    (_, first, key1, reusable), (_, second, key2, _), (_, third, _, _) = executions(tmp_path / "meta.db")
    assert first == "success" and reusable
    # Each invocation is a new process that fingerprints the code again: the same code and content give the same
    # key, and the result is reused. (The package's own sources count too: were they edited between the two
    # processes, the key differs and the action rightly executes.)
    assert second == ("reused" if key2 == key1 else "success")
    assert third == "success"  # --no-cache: executed although an execution with its key may be reused
    assert (tmp_path / "executions.log").read_text().count("executed") == (2 if second == "reused" else 3)
