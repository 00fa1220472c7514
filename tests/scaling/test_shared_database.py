"""Two pipelines in two processes on one database (a SQLite file, a PostgreSQL schema), and a third process refused.

Each process watches its own folder; files land in both while both run. Neither process touches the other's runs
or inputs: every file is consumed by exactly one successful run of its own pipeline, and nothing is aborted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from anacostia_blockchain.metadata import RunStore

from .pipeline_process import REFUSED_EXIT
from .processes import PipelineProcess, drop, read_journal, start, wait_for

pytestmark = pytest.mark.slow
FILES = 4


def consumed(url: str, pipeline: str) -> dict[int, list[str]]:
    """``{run id: [input locations]}`` of the pipeline's runs, from the database."""
    store = RunStore(url, pipeline=pipeline)
    try:
        return {int(run["id"]): sorted(a.location for a in store.run_artifacts(int(run["id"]))["consumed"])
                for run in store.get_runs()}
    finally:
        store.close()


def test_two_pipeline_processes_share_one_database_without_touching_each_other(tmp_path: Path, db_url: str) -> None:
    journal = tmp_path / "journal.jsonl"
    folders = {name: tmp_path / name for name in ("alpha", "beta")}
    procs: dict[str, PipelineProcess] = {}
    try:
        for name, folder in folders.items():
            folder.mkdir()
            procs[name] = start(tmp_path, name, db=db_url, pipeline=name, folder=folder, journal=journal, work=0.3)
        for name, proc in procs.items():
            wait_for(lambda p=proc: p.events("active"), 90, f"{name} to launch", check=list(procs.values()))
        for index in range(FILES):
            for name, folder in folders.items():
                drop(folder, f"{name}-{index}.csv", f"{name},{index}\n")
        for name, proc in procs.items():
            wanted = {f"{name}-{index}.csv" for index in range(FILES)}
            wait_for(lambda p=proc, w=wanted: w <= {i for r in p.events("end") for i in r["inputs"]}, 90,
                     f"{name} to process its files", check=list(procs.values()))
        refused = start(tmp_path, "alpha-again", db=db_url, pipeline="alpha", folder=folders["alpha"],
                        journal=journal)
        assert refused.popen.wait(90) == REFUSED_EXIT
        assert f"pipeline 'alpha' is already running on this database (process {procs['alpha'].pid}" in \
            refused.output()
        for proc in procs.values():
            assert proc.stop() == 0
    finally:
        for proc in procs.values():
            proc.kill()
    for name in folders:
        runs = RunStore(db_url, pipeline=name)
        try:
            assert {run["status"] for run in runs.get_runs()} == {"success"}
        finally:
            runs.close()
        inputs = [location for locations in consumed(db_url, name).values() for location in locations]
        assert sorted(inputs) == sorted(f"{name}-{index}.csv" for index in range(FILES))  # each exactly once
    executed = {(r["pid"], r["run"]) for r in read_journal(journal) if r["event"] == "end"}
    assert {pid for pid, _ in executed} == {proc.pid for proc in procs.values()}
