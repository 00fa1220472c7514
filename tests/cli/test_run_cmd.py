"""``anacostia-chain run``: loading a user's pipeline, stopping it (``--for``, SIGINT, SIGTERM, a crash), the summary.

Real pipelines on real SQLite files and watched folders; the signal tests run the real console script in a
subprocess and signal it once the pipeline has demonstrably executed a run.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pipeline_modules import (
    ANCHORED,
    BROKEN_IMPORT,
    CRASHING,
    EXECUTES_AT_IMPORT,
    FACTORY,
    FACTORY_RAISES,
    IN_MEMORY,
    INSTANCE,
    MISTYPED_FOLDER,
    NOT_A_PIPELINE,
    NOTHING,
    SLOW_LAUNCH,
)

from anacostia_blockchain.chain import ChainClient, Devnet, LocalSigner, TxSender
from anacostia_blockchain.chain.contracts import DeploymentManifest
from anacostia_blockchain.chain.dev import deploy_all
from anacostia_blockchain.cli._run_summary import RunOutcome, summary_text
from anacostia_blockchain.cli.main import main
from anacostia_blockchain.cli.run_cmd import split_target
from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.metadata import SqliteMetadataStore

CLI = str(Path(sys.executable).with_name("anacostia-chain"))


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working folder with one data file waiting; ``RUN_TEST_DIR`` points at it; sys.path/modules restored."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "batch-1.txt").write_text("first batch")
    monkeypatch.setenv("RUN_TEST_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        if name.startswith(("anacostia_run_", "userpipes")):
            del sys.modules[name]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["run", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_factory_in_a_file_runs_until_the_deadline_and_reports_its_runs(work: Path, capsys) -> None:
    module = write(work / "pipes" / "train.py", FACTORY)
    started = time.monotonic()
    summary = run_json(capsys, str(module), "--for", "2")
    assert 2 <= time.monotonic() - started < 30
    assert summary["stopped_by"] == "deadline" and summary["error"] is None
    assert summary["nodes"] == ["metadata_store", "data_store", "eval_node"]
    assert summary["runs_finished"] == 1 and summary["runs_by_status"] == {"success": 1}
    (only,) = summary["runs"]
    assert only["status"] == "success" and only["trigger"] == "data_store"
    assert only["metrics"] == {"loss": 0.25, "accuracy": 0.9}  # the last value of each metric
    assert only["nodes"] == {"eval_node": "success"}
    assert (work / "executed").read_text().split() == [str(only["id"])]
    # the database holds what the summary says, and the store was closed cleanly (the input is old now)
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{work / 'metadata.db'}")  # same pipeline
    assert [r["status"] for r in store.runs.get_runs()] == ["success"]


def test_only_runs_of_this_invocation_are_summarized_and_a_failed_run_fails_the_command(work: Path, capsys) -> None:
    module = write(work / "train.py", FACTORY)
    first = run_json(capsys, str(module), "--for", "1")
    assert [r["id"] for r in first["runs"]] == [1] and first["failures"] == []
    write(work / "data" / "bad-batch.txt", "garbage")
    assert main(["run", f"{module}:build_pipeline", "--for", "1.5", "--json"]) == 1
    captured = capsys.readouterr()
    second = json.loads(captured.out)  # the summary is printed in full, then the one-line error
    assert [(r["id"], r["status"]) for r in second["runs"]] == [(2, "failed")]
    assert second["runs"][0]["nodes"] == {"eval_node": "failure"}
    assert second["runs_by_status"] == {"failed": 1}
    assert second["failures"] == ["run 2 failed: eval_node: execute() returned False"]
    assert [line for line in captured.err.splitlines() if line.startswith("error: ")] == [
        "error: run 2 failed: eval_node: execute() returned False"]


def test_text_summary(work: Path, capsys) -> None:
    module = write(work / "train.py", FACTORY)
    assert main(["run", str(module), "--for", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"pipeline {module}: 3 nodes (metadata_store, data_store, eval_node)"
    assert out[1].endswith("stopped after --for")
    assert out[2] == "runs: 1 (1 success)"
    assert out[3].split()[:3] == ["run", "1", "success"] and "loss=0.25 accuracy=0.9" in out[3]


def test_dotted_module_with_attribute_from_the_current_directory(work: Path, capsys, monkeypatch) -> None:
    write(work / "userpipes" / "__init__.py", "")
    write(work / "userpipes" / "nightly.py", INSTANCE)
    write(work / "other-data" / "x.txt", "other")
    monkeypatch.chdir(work)
    summary = run_json(capsys, "userpipes.nightly:other_pipeline", "--for", "1")
    assert summary["runs_by_status"] == {"success": 1}
    assert (work / "other.db").exists()  # the ATTR factory was used, not the module's `pipeline`


def test_module_level_pipeline_instance(work: Path, capsys, monkeypatch) -> None:
    write(work / "userpipes" / "__init__.py", "")
    write(work / "userpipes" / "daily.py", INSTANCE)
    monkeypatch.chdir(work)
    summary = run_json(capsys, "userpipes.daily", "--for", "1")
    assert summary["runs_by_status"] == {"success": 1} and (work / "metadata.db").exists()


def test_in_memory_store_reports_the_count_only(work: Path, capsys) -> None:
    summary = run_json(capsys, str(write(work / "mem.py", IN_MEMORY)), "--for", "1.5")
    assert summary["runs_finished"] == 1 and summary["runs"] is None
    assert "in-memory" in summary["note"]


@pytest.mark.parametrize(
    ("text", "target_suffix", "message"),
    [
        (NOT_A_PIPELINE, "", "pipeline in anacostia_run_bad is a int, not an anacostia Pipeline"),
        (BROKEN_IMPORT, "", "importing {path} failed: ModuleNotFoundError: No module named"),
        (FACTORY_RAISES, "", "build_pipeline() failed: ValueError: no GPU found"),
        (NOTHING, "", "defines neither `pipeline` nor `build_pipeline()`"),
        (NOTHING, ":missing.attr", "has no attribute 'missing.attr'"),
    ],
)
def test_bad_modules_are_one_line_errors(work: Path, capsys, text: str, target_suffix: str, message: str) -> None:
    path = write(work / "bad.py", text)
    assert main(["run", f"{path}{target_suffix}", "--for", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message.format(path=path) in err


def test_missing_file_and_module(work: Path, capsys, monkeypatch) -> None:
    assert main(["run", str(work / "nope.py")]) == 1
    assert f"no such pipeline file: {work / 'nope.py'}" in capsys.readouterr().err
    monkeypatch.chdir(work)
    assert main(["run", "no_such_pipeline_module"]) == 1
    assert "no module named 'no_such_pipeline_module'" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-3", "soon", "inf"])
def test_bad_duration_is_a_usage_error(value: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["run", "x.py", "--for", value])
    assert exited.value.code == 2
    assert "--for" in capsys.readouterr().err


def test_split_target() -> None:
    assert split_target("a/b.py") == ("a/b.py", None)
    assert split_target("pkg.mod:factory") == ("pkg.mod", "factory")
    assert split_target("a/b.py:ns.pipeline") == ("a/b.py", "ns.pipeline")
    for bad in ("a.py:", ":x", "a.py:1abc", "a.py:x-y"):
        with pytest.raises(ConfigurationError):
            split_target(bad)


# --- the real console script, signalled ------------------------------------------------------------------------------
def spawn(work: Path, module: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "RUN_TEST_DIR": str(work)}
    return subprocess.Popen([CLI, "run", str(module), "--json", *extra], cwd=work, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_gracefully_with_exit_0(work: Path, signum: signal.Signals) -> None:
    process = spawn(work, write(work / "train.py", FACTORY))
    try:
        wait_for(work / "executed", process)
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    summary = json.loads(out)
    assert summary["stopped_by"] == "signal" and summary["runs_by_status"] == {"success": 1}


def test_crashed_node_prints_the_summary_then_one_line_error_exit_1(work: Path) -> None:
    process = spawn(work, write(work / "crash.py", CRASHING), "--for", "60")
    try:
        out, err = process.communicate(timeout=90)
    finally:
        process.kill()
    assert process.returncode == 1
    summary = json.loads(out)
    assert summary["stopped_by"] == "crash" and "the disk caught fire" in summary["error"]
    assert summary["runs_by_status"] == {"success": 1}
    error_lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert error_lines == [f"error: {summary['error']}"]


def test_signal_while_launching_aborts_with_130(work: Path) -> None:
    process = spawn(work, write(work / "slow.py", SLOW_LAUNCH))
    try:
        wait_for(work / "launching", process)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130 and time.monotonic() - started < 20


def test_verbose_shows_the_pipeline_log_on_stderr(work: Path) -> None:
    module = write(work / "train.py", FACTORY)
    env = {**os.environ, "RUN_TEST_DIR": str(work)}
    quiet = subprocess.run([CLI, "run", str(module), "--for", "0.5"], env=env, capture_output=True, text=True,
                           timeout=120)
    loud = subprocess.run([CLI, "run", str(module), "--for", "0.5", "-v"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert quiet.returncode == loud.returncode == 0
    assert "pipeline: launched 3 nodes" in loud.stderr and "pipeline: launched" not in quiet.stderr
    assert loud.stdout.startswith(f"pipeline {module}: 3 nodes")


# --- what a user sees while and after it runs ----------------------------------------------------------------------
def test_a_nodes_own_log_lines_are_shown_by_default_and_as_json_on_request(work: Path) -> None:
    module = write(work / "train.py", FACTORY)
    env = {**os.environ, "RUN_TEST_DIR": str(work)}
    text = subprocess.run([CLI, "run", str(module), "--for", "1"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert text.returncode == 0, text.stderr
    assert "INFO anacostia_blockchain.node.eval_node: eval_node: evaluating 1 file(s)" in text.stderr
    write(work / "data" / "batch-2.txt", "second batch")
    as_json = subprocess.run([CLI, "run", str(module), "--for", "1", "--log-format", "json"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert as_json.returncode == 0, as_json.stderr
    records = [json.loads(line) for line in as_json.stderr.splitlines()]
    assert {"logger": "anacostia_blockchain.node.eval_node", "level": "INFO",
            "message": "eval_node: evaluating 1 file(s)"}.items() <= records[0].items()
    assert "time" in records[0]
    quiet = subprocess.run([CLI, "run", str(module), "--for", "0.5", "--log-level", "warning"], env=env,
                           capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_a_module_that_executes_its_pipeline_at_import_is_explained(work: Path) -> None:
    process = spawn(work, write(work / "script.py", EXECUTES_AT_IMPORT))
    try:
        wait_for(work / "executed", process)  # the import itself is running the pipeline
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 1
    (line,) = [line for line in err.splitlines() if line.startswith("error: ")]
    assert "importing it ran a pipeline (nodes metadata_store, data_store, eval_node)" in line
    assert "def build_pipeline()" in line and 'if __name__ == "__main__":' in line


@pytest.fixture
def registry(fresh_chain: Devnet, tmp_path: Path) -> Path:
    """RunRegistry deployed by account 0 (admin and anchorer); the deployments folder."""
    client = ChainClient(fresh_chain.rpc_url)
    manifest = DeploymentManifest.load(tmp_path / "deployments", client.chain_id)
    with TxSender(client, LocalSigner.from_key(fresh_chain.accounts[0].private_key)) as sender:
        deploy_all(sender, manifest, only=["RunRegistry"])
    return tmp_path / "deployments"


def run_anchored(work: Path, chain: Devnet, deployments: Path, key: str) -> tuple[int, dict, str]:
    """Run the anchored pipeline until its one run's anchor was attempted (landed or failed), then SIGINT it."""
    env = {**os.environ, "RUN_TEST_DIR": str(work), "RUN_TEST_RPC_URL": chain.rpc_url,
           "RUN_TEST_DEPLOYMENTS": str(deployments), "ANACOSTIA_PRIVATE_KEY": key}
    process = subprocess.Popen([CLI, "run", str(write(work / "anchored.py", ANCHORED)), "--json"], cwd=work, env=env,
                               text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not _anchor_attempted(work / "metadata.db"):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the anchor was never attempted"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    return process.returncode, json.loads(out), err


def _anchor_attempted(db: Path) -> bool:
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT status, attempts FROM anacostia_outbox").fetchone()
    except sqlite3.OperationalError:  # not created yet
        return False
    return row is not None and (row[0] == "confirmed" or row[1] > 0)


def test_each_run_shows_its_anchor(work: Path, fresh_chain: Devnet, registry: Path) -> None:
    code, summary, err = run_anchored(work, fresh_chain, registry, fresh_chain.accounts[0].private_key)
    assert code == 0, err
    (only,) = summary["runs"]
    assert only["anchor"]["status"] == "anchored" and only["anchor"]["tx"].startswith("0x")
    assert isinstance(only["anchor"]["block"], int) and summary["failures"] == []
    outcome = RunOutcome(started_at=summary["started_at"], runs=summary["runs"], nodes=summary["nodes"])
    text = summary_text("anchored.py", outcome).splitlines()
    assert text[3].split()[:3] == ["run", "1", "success"]
    assert text[4].strip() == f"anchor: anchored in block {only['anchor']['block']} (tx {only['anchor']['tx']})"


def test_a_signer_without_the_role_is_a_failed_anchor_named_by_role(work: Path, fresh_chain: Devnet,
                                                                     registry: Path) -> None:
    stranger = fresh_chain.accounts[3]
    code, summary, err = run_anchored(work, fresh_chain, registry, stranger.private_key)
    assert code == 1
    (only,) = summary["runs"]
    assert only["status"] == "success" and only["anchor"]["status"] == "failed"
    assert only["anchor"]["attempts"] >= 1
    assert f"AccessControlUnauthorizedAccount(account={stranger.address}, neededRole=ANCHOR_ROLE)" in (
        only["anchor"]["error"])
    (line,) = [line for line in err.splitlines() if line.startswith("error: ")]
    assert line.startswith("error: the anchor of run 1 failed: ") and "neededRole=ANCHOR_ROLE" in line
    assert "0x08b5ce2e" not in err + json.dumps(summary)  # keccak("ANCHOR_ROLE"): shown by name only


def test_a_mistyped_watched_folder_is_an_error_unless_create_is_true(work: Path) -> None:
    env = {**os.environ, "RUN_TEST_DIR": str(work)}
    strict = write(work / "strict.py", MISTYPED_FOLDER.replace("{create}", ""))  # the default
    done = subprocess.run([CLI, "run", str(strict), "--for", "1"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and not (work / "dta").exists()
    assert done.stderr.splitlines()[-1] == (f"error: resource 'data_store': the watched folder {work / 'dta'} does not "
                                            "exist (create it, or pass create=True)")
    created = write(work / "created.py", MISTYPED_FOLDER.replace("{create}", ", create=True"))
    done = subprocess.run([CLI, "run", str(created), "--for", "1"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "does not exist" not in done.stderr
    assert (work / "dta").is_dir()
