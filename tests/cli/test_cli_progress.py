"""Progress of long commands: drawn on stderr when stderr is a terminal (a real pseudo-terminal here), absent when
it is not; the command's own output (stdout) is the same either way. Deploy prints a line per contract as it lands
and says how far it got when interrupted."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from anacostia_blockchain.chain.dev import DEPLOY_PLAN
from anacostia_blockchain.chain.dev.devnet import Devnet

CLI = str(Path(sys.executable).with_name("anacostia-chain"))
ESC = "\x1b["


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def run_cli(argv: list[str], *, tty: bool, stdin: bytes = b"", env: dict[str, str] | None = None,
            timeout: float = 180) -> Result:
    """Run the console script with stderr on a pseudo-terminal (``tty``) or a pipe; stdout is always a pipe."""
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", **(env or {})}
    if not tty:
        done = subprocess.run([CLI, *argv], input=stdin, capture_output=True, env=environment, timeout=timeout)
        return Result(done.returncode, done.stdout.decode(), done.stderr.decode())
    master, slave = pty.openpty()
    process = subprocess.Popen([CLI, *argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=slave,
                               env=environment)
    os.close(slave)
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(master, chunks), daemon=True)
    reader.start()
    try:
        out, _ = process.communicate(stdin, timeout=timeout)
    finally:
        process.kill()
    reader.join(timeout=10)
    os.close(master)
    return Result(process.returncode, out.decode(), b"".join(chunks).decode(errors="replace"))


def _drain(fd: int, chunks: list[bytes]) -> None:
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the other side closed
            return
        if not data:
            return
        chunks.append(data)


@pytest.fixture
def car(tmp_path: Path) -> tuple[Path, str, Path]:
    """A repo holding a 3 MiB file, its root CID and a CAR of it."""
    repo = tmp_path / "repo"
    data = tmp_path / "big.bin"
    data.write_bytes(os.urandom(3 << 20))
    added = run_cli(["ipfs", "add", "-Q", str(data), "--repo", str(repo)], tty=False)
    assert added.code == 0, added.err
    cid = added.out.strip()
    exported = run_cli(["ipfs", "car", "export", cid, str(tmp_path / "big.car"), "--repo", str(repo)], tty=False)
    assert exported.code == 0, exported.err
    return repo, cid, tmp_path / "big.car"


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
def test_car_import_and_export(car: tuple[Path, str, Path], tmp_path: Path, tty: bool) -> None:
    _repo, cid, car_file = car
    fresh = tmp_path / f"fresh-{tty}"
    imported = run_cli(["ipfs", "car", "import", str(car_file), "--repo", str(fresh)], tty=tty)
    assert imported.code == 0, imported.err
    assert imported.out == f"Pinned root\t{cid}\tsuccess\n"
    exported = run_cli(["ipfs", "car", "export", cid, str(tmp_path / f"again-{tty}.car"), "--repo", str(fresh)],
                       tty=tty)
    assert exported.code == 0, exported.err
    assert (tmp_path / f"again-{tty}.car").read_bytes() == car_file.read_bytes()
    if tty:
        assert "importing big.car" in imported.err and ESC in imported.err
        assert f"exporting {cid}" in exported.err and ESC in exported.err
    else:
        assert imported.err == exported.err == ""


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
def test_add_from_stdin(tty: bool, tmp_path: Path) -> None:
    added = run_cli(["ipfs", "add", "-Q", "--repo", str(tmp_path / "repo")], tty=tty, stdin=b"hello\n")
    assert added.code == 0 and added.out == "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN\n"
    assert ("adding stdin" in added.err) if tty else added.err == ""


# --- deploy ----------------------------------------------------------------------------------------------------------
def deploy_env(chain: Devnet) -> dict[str, str]:
    return {"ANACOSTIA_PRIVATE_KEY": chain.accounts[0].private_key}


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
def test_deploy_prints_a_line_per_contract(fresh_chain: Devnet, tmp_path: Path, tty: bool) -> None:
    argv = ["deploy", "--rpc-url", fresh_chain.rpc_url, "--manifest", str(tmp_path / "deployments"),
            "--contracts", "RunRegistry,ModelNFT"]
    done = run_cli(argv, tty=tty, env=deploy_env(fresh_chain))
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0].startswith(f"deploying from {fresh_chain.accounts[0].address} to chain 31337")
    assert [line.split()[:2] for line in lines[1:3]] == [["RunRegistry", "deployed"], ["ModelNFT", "deployed"]]
    assert lines[3] == f"manifest: {tmp_path / 'deployments' / '31337.json'}"
    if tty:
        assert "deploying RunRegistry" in done.err and ESC in done.err
    else:
        assert done.err == ""


def test_ctrl_c_during_deploy_says_how_far_it_got_and_a_rerun_resumes(fresh_chain: Devnet, tmp_path: Path) -> None:
    manifest = tmp_path / "deployments" / "31337.json"
    argv = [CLI, "deploy", "--rpc-url", fresh_chain.rpc_url, "--manifest", str(tmp_path / "deployments")]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **deploy_env(fresh_chain)})
    try:
        deadline = time.monotonic() + 120
        while not (manifest.exists() and json.loads(manifest.read_text())["contracts"]):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    landed = [line for line in out.splitlines()[1:] if line.split()[1:2] in (["deployed"], ["reused"])]
    recorded = json.loads(manifest.read_text())["contracts"]
    assert 1 <= len(landed) < len(DEPLOY_PLAN)
    assert err == (f"error: interrupted after {len(landed)} of {len(DEPLOY_PLAN)} contracts ({manifest} records "
                   "them: run the same command again to resume)\n")
    assert {line.split()[0] for line in landed} <= set(recorded)
    again = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                           env={**os.environ, **deploy_env(fresh_chain)})
    assert again.returncode == 0, again.stderr
    statuses = {line.split()[0]: line.split()[1] for line in again.stdout.splitlines()[1:-1]}
    assert all(statuses[line.split()[0]] == "reused" for line in landed)
    assert len(statuses) == len(DEPLOY_PLAN)


# --- the demo ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
def test_the_demo_narrates_in_its_own_lines(tmp_path: Path, tty: bool) -> None:
    done = run_cli(["demo", "--batches", "1", "--workdir", str(tmp_path / "demo")], tty=tty, timeout=300)
    assert done.code == 0, done.out[-2000:] + done.err[-2000:]
    lines = done.out.splitlines()
    smudged = lines.index(f"[2/2] dropping batch-smudged.csv into {tmp_path / 'demo' / 'incoming'}")
    assert lines[smudged + 1] == "  ... quarantined batch-smudged.csv: row 4: field 'p10': 'smudge' is not a valid int"
    assert lines[smudged + 2].startswith("  training run 2: success (no new model, 1 file quarantined)")
    assert "WARNING" not in done.out + done.err  # the node's own log line is not shown: the demo says it
    if tty:
        assert ESC in done.err and "dropping batch-smudged.csv" in done.err  # the spinner shows the step
    else:
        assert done.err == ""


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
def test_add_of_a_tree_counts_files_and_bytes(tmp_path: Path, tty: bool) -> None:
    tree = tmp_path / "tree"
    for name, size in {"a.bin": 500_000, "sub/b.bin": 1_000_000, "sub/deeper/c.txt": 0}.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(os.urandom(size))
    (tree / ".hidden").write_bytes(b"skipped without -H")
    argv = ["ipfs", "add", "-r", str(tree), "--repo", str(tmp_path / f"repo-{tty}")]
    added = run_cli(argv, tty=tty, env={"COLUMNS": "300"})  # one line for a long temporary path
    assert added.code == 0, added.err
    assert [line.split()[2] for line in added.out.splitlines()] == [
        "tree/a.bin", "tree/sub/b.bin", "tree/sub/deeper/c.txt", "tree/sub/deeper", "tree/sub", "tree"]
    assert added.out == run_cli(argv, tty=not tty).out  # stdout is the same with or without the display
    if tty:
        assert ESC in added.err
        shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", added.err)  # the frames drawn, without colours
        # the last frame: every file and every byte out of the totals measured before importing
        assert re.search(rf"adding {re.escape(str(tree))}: 3/3 files \S+ 1\.5/1\.5 MB", shown), shown
    else:
        assert added.err == ""
