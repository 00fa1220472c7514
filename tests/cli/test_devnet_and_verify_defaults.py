"""First use without surprises: ``devnet`` says how to get a dev key and refuses a state file it could not write;
``verify`` takes the project's ``./metadata.db`` and ``./deployments``, names everything still missing in one
message and never creates a database; ``deploy`` takes ``ANACOSTIA_RPC_URL``; a malformed RPC URL is a usage error.
(The whole first-use flow, defaults included, runs in ``tests/engine/test_readme_examples.py``.)"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anacostia_blockchain.chain import LocalSigner
from anacostia_blockchain.cli.main import main

CLI = str(Path(sys.executable).with_name("anacostia-chain"))


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err.removeprefix("error: ").rstrip("\n")


# --- devnet ------------------------------------------------------------------------------------------------------
def test_a_state_file_in_a_missing_folder_fails_before_anvil_starts(tmp_path: Path, capsys) -> None:
    state = tmp_path / "missing" / "dir" / "state.json"
    assert main(["devnet", "--port", "0", "--state", str(state)]) == 1
    assert one_line_error(capsys) == f"--state {state}: no such folder {state.parent}"
    assert main(["devnet", "--port", "0", "--state", str(tmp_path)]) == 1
    assert one_line_error(capsys) == f"--state {tmp_path} is a directory: give the path of the state file"
    assert not (tmp_path / "missing").exists()


def devnet_output(*extra: str) -> tuple[str, str]:
    process = subprocess.Popen([CLI, "devnet", "--port", "0", "--accounts", "2", *extra], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    while not lines or not lines[-1].startswith("Press Ctrl-C"):
        line = process.stdout.readline()
        assert line and time.monotonic() < deadline, (lines, process.poll())
        lines.append(line.rstrip("\n"))
    process.terminate()
    rest, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return "\n".join(lines) + rest, err


def test_devnet_says_how_to_get_a_dev_key_without_printing_one() -> None:
    out, err = devnet_output()
    assert "0x" + "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"[:16] not in out + err
    assert "`anacostia-chain devnet --show-keys` prints their private keys" in err
    assert "export ANACOSTIA_PRIVATE_KEY=<one of them>" in err


def test_devnet_show_keys_gives_the_line_to_use() -> None:
    out, _err = devnet_output("--show-keys")
    account_0 = next(line.split()[1] for line in out.splitlines() if line.strip().startswith("(0)"))
    (export,) = [line for line in out.splitlines() if line.startswith("Sign with account (0): export ")]
    key = export.rpartition("ANACOSTIA_PRIVATE_KEY=")[2]
    assert LocalSigner.from_key(key).address == account_0


# --- verify ------------------------------------------------------------------------------------------------------
@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder as the current directory, no ANACOSTIA_* settings."""
    for name in ("ANACOSTIA_DB", "ANACOSTIA_PIPELINE", "ANACOSTIA_RPC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_verify_names_everything_missing_in_one_message(project: Path, capsys) -> None:
    assert main(["verify", "1"]) == 1
    assert one_line_error(capsys) == (
        "verify needs --db, --pipeline, --rpc-url, --registry ADDRESS or --deployments DIR (no ./metadata.db here; "
        "no ./deployments here; or the matching ANACOSTIA_* settings: environment, .env, anacostia.toml)"
    )


def test_verify_takes_the_projects_database_and_deployments(project: Path, capsys) -> None:
    with sqlite3.connect(project / "metadata.db") as db:  # a database that anchors nothing
        db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY)")
    (project / "deployments").mkdir()
    assert main(["verify", "1", "--rpc-url", "http://127.0.0.1:9"]) == 1
    assert one_line_error(capsys) == (
        "verify needs --pipeline (the database holds no anchored run; or the matching ANACOSTIA_* settings: "
        "environment, .env, anacostia.toml)"
    )


def test_verify_never_creates_a_database(project: Path, capsys) -> None:
    assert main(["verify", "1", "--db", "sqlite:///x/y.db", "--pipeline", "p", "--offline"]) == 1
    assert one_line_error(capsys) == "no database at x/y.db (from sqlite:///x/y.db): give the metadata database of " \
                                     "the pipeline"
    assert list(project.iterdir()) == []


# --- RPC URLs ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [["deploy"], ["verify", "1"]])
@pytest.mark.parametrize(("url", "shown"), [("notaurl", "'notaurl'"), ("localhost:8545", "'localhost:8545'"),
                                            ("https://user:s3cr3t@rpc.example.org:99999/v3/APIKEY123",
                                             "'https://rpc.example.org:99999'")])
def test_a_malformed_rpc_url_is_a_usage_error_that_hides_secrets(command: list[str], url: str, shown: str,
                                                                  capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--rpc-url", url])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "argument --rpc-url: " in err and shown in err
    assert "s3cr3t" not in err and "APIKEY123" not in err and "://None" not in err


def test_deploy_takes_the_rpc_url_from_the_environment(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("ANACOSTIA_RPC_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ANACOSTIA_PRIVATE_KEY", "0x" + "5c" * 32)
    assert main(["deploy", "--contracts", "RunRegistry"]) == 1  # nothing listens there: it was used
    assert "http://127.0.0.1:9" in one_line_error(capsys)
