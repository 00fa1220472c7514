"""A database written by the library version before pipelines were scoped opens, migrates in place and keeps going.

The fixture database is written by that version's own code (``/work/baseline``, or ``$ANACOSTIA_BASELINE``) in a
subprocess: two successful runs and a run a crash left ``running``. This version reads it unmigrated, migrates it
when a pipeline opens it (adopting its rows, recovering the crashed run), keeps every run's record as that version
exported it, and runs the recovered input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from anacostia_blockchain import BaseActionNode, FilesystemStoreNode, Pipeline
from anacostia_blockchain.engine import ArtifactState
from anacostia_blockchain.metadata import RunStore, SqlMetadataStore
from anacostia_blockchain.metadata.schema import SCHEMA_VERSION, schema_info

from .processes import drop

pytestmark = pytest.mark.slow
BASELINE = Path(os.environ.get("ANACOSTIA_BASELINE", "/work/baseline"))
WRITER = Path(__file__).parent / "fixtures" / "write_baseline_db.py"
#: What the older version recorded and this one must read back unchanged.
KEPT = ("run", "metrics", "params", "tags", "artifacts", "lineage")


def written_by_baseline(url: str, folder: Path, tmp_path: Path) -> dict[str, Any]:
    if not (BASELINE / "anacostia_blockchain").is_dir():
        pytest.skip(f"no checkout of the earlier version at {BASELINE} (set ANACOSTIA_BASELINE)")
    out = tmp_path / "baseline-exports.json"
    env = {**os.environ, "PYTHONPATH": str(BASELINE)}
    done = subprocess.run([sys.executable, str(WRITER), url, str(folder), str(out)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads(out.read_text()))


def kept(export: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps({key: export[key] for key in KEPT}, default=str))


class Train(BaseActionNode):
    def execute(self, *args: object, **kwargs: object) -> bool:
        return True


def test_a_database_of_the_earlier_version_migrates_in_place(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "data"
    baseline = written_by_baseline(db_url, folder, tmp_path)
    crashed, exports = int(baseline["crashed_run"]), baseline["exports"]
    reader = RunStore(db_url)  # a read-only tool: no open(), no migration
    try:
        assert [int(run["id"]) for run in reader.get_runs()] == [int(run_id) for run_id in exports]
        for run_id, export in exports.items():
            assert kept(reader.export_run(int(run_id))) == kept(export)
    finally:
        reader.close()

    store = SqlMetadataStore("metadata", db_url)  # the pipeline's own store: migrates, adopts, recovers
    data = FilesystemStoreNode("data", folder, store, create=True)
    with Pipeline([store, data, Train("train", [data])]) as pipeline:
        assert pipeline.wait_for_runs(1, timeout=60)  # the crashed run's input, back to `new`, runs again
        drop(folder, "d.csv", "7,8\n")
        assert pipeline.wait_for_runs(2, timeout=60)
    with store.runs.engine.connect() as conn:
        assert conn.execute(select(schema_info.c.version)).scalar_one() == SCHEMA_VERSION == 4
    runs = store.runs.get_runs()
    assert [run["status"] for run in runs] == ["success", "success", "aborted", "success", "success"]
    assert "interrupted" in runs[2]["error"] and int(runs[2]["id"]) == crashed
    for run_id, export in exports.items():
        if int(run_id) != crashed:
            assert kept(store.runs.export_run(int(run_id))) == kept(export)
    consumed = {a.location: a.consumed_run_id for a in data.list_artifacts() if a.state is ArtifactState.OLD}
    assert consumed == {"a.csv": 1, "b.csv": 2, "c.csv": runs[3]["id"], "d.csv": runs[4]["id"]}
    another = RunStore(db_url, pipeline="another")
    try:
        assert another.get_runs() == []  # the adopted rows are this pipeline's
    finally:
        another.close()
