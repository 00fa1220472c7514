"""The README examples work as their READMEs say: the two seed examples run as scripts, unchanged but for their
imports (see each example's docstring), and this repository's "Writing a pipeline" runs under ``anacostia-chain run``,
then anchored, deployed and verified through the CLI exactly as its first-use flow shows."""

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
    data.mkdir()  # a watched folder must exist before the pipeline launches
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "anacostia_blockchain_readme.py")], cwd=tmp_path,
        env={**os.environ, "ANACOSTIA_DATA_PATH": str(data)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
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


# --- the repository README: "Writing a pipeline", run by `anacostia-chain` as a user would ---------------------------
README = Path(__file__).resolve().parents[2] / "README.md"
CLI = str(Path(sys.executable).with_name("anacostia-chain"))


def readme_section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def code_blocks(section: str, language: str) -> list[str]:
    blocks = section.split(f"```{language}\n")[1:]
    return [block.split("```", 1)[0] for block in blocks]


def _outbox_settled(db: Path) -> bool:
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT status, attempts FROM anacostia_outbox").fetchone()
    except sqlite3.OperationalError:
        return False
    return row is not None and (row[0] == "confirmed" or row[1] > 0)


def test_the_readme_pipeline_runs_under_the_cli(tmp_path: Path) -> None:
    pipeline_code = code_blocks(readme_section("Writing a pipeline"), "python")[0]
    assert pipeline_code.startswith("# my_pipeline.py\n") and "def build_pipeline() -> Pipeline:" in pipeline_code
    (tmp_path / "my_pipeline.py").write_text(pipeline_code)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "batch-01.csv").write_text("1,2,3\n")
    result = subprocess.run([CLI, "run", "my_pipeline.py", "--for", "3", "--json"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [(run["status"], run["metrics"]) for run in summary["runs"]] == [("success", {"test_loss": 1.47})]
    assert "eval: evaluating" in result.stderr  # the node's self.log(...) is shown without asking
    assert (tmp_path / "metadata.db").exists()


def test_the_readme_first_use_flow_anchors_and_verifies(tmp_path: Path, fresh_chain) -> None:
    section = readme_section("Writing a pipeline")
    pipeline_code, swap = code_blocks(section, "python")[:2]
    flow = code_blocks(section, "bash")[-1]
    key = next(line.split("=", 1)[1] for line in flow.splitlines() if line.startswith("export ANACOSTIA_PRIVATE_KEY="))
    assert key == fresh_chain.accounts[0].private_key  # the README's key is the devnet's account 0
    imports, _, store_line = swap.partition("\n\n")
    store_line = store_line.replace("http://127.0.0.1:8545", fresh_chain.rpc_url)
    old_store = next(line for line in pipeline_code.splitlines() if "store = SqliteMetadataStore(" in line)
    indented = "\n".join("    " + line.strip() if n else line for n, line in enumerate(store_line.strip().splitlines()))
    anchored = imports + "\n" + pipeline_code.replace(old_store.strip(), indented.strip())
    (tmp_path / "my_pipeline.py").write_text(anchored)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "batch-01.csv").write_text("1,2,3\n")
    env = {**os.environ, "ANACOSTIA_PRIVATE_KEY": key, "ANACOSTIA_RPC_URL": fresh_chain.rpc_url}
    for name in ("ANACOSTIA_DB", "ANACOSTIA_PIPELINE"):
        env.pop(name, None)

    deploy = subprocess.run([CLI, "deploy"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert deploy.returncode == 0, deploy.stderr
    assert (tmp_path / "deployments" / f"{fresh_chain.chain_id}.json").is_file()

    process = subprocess.Popen([CLI, "run", "my_pipeline.py", "--json"], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not _outbox_settled(tmp_path / "metadata.db"):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the run's anchor was never sent"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    (run,) = json.loads(out)["runs"]
    assert run["status"] == "success" and run["anchor"]["status"] == "anchored"

    verify = subprocess.run([CLI, "verify", "1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.startswith("VERIFIED      run 1 of 'metadata_store'")
