"""Running the node scripts of ``peers/`` (OpenZeppelin's merkle-tree, the docs/verifying.md recipe) from tests."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

PEERS = Path(__file__).parent / "peers"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300.0


def run_node(script: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``node peers/<script> args...`` from the project root (its node_modules hold the libraries)."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH: install Node.js 20 and run `npm ci` (make test does both)")
    if not (PROJECT_ROOT / "node_modules" / "@openzeppelin" / "merkle-tree").is_dir():
        raise RuntimeError("node_modules/@openzeppelin/merkle-tree is missing: run `npm ci`")
    return subprocess.run(
        [node, str(PEERS / script), *args],
        cwd=PROJECT_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def openzeppelin(request: dict[str, Any]) -> dict[str, Any]:
    """One request to ``peers/oz_merkle.mjs`` (``@openzeppelin/merkle-tree``); see the script for the protocol."""
    done = run_node("oz_merkle.mjs", stdin=json.dumps(request))
    reply: dict[str, Any] = json.loads(done.stdout or "{}")
    if done.returncode != 0 or "fatal" in reply:
        raise RuntimeError(f"oz_merkle.mjs failed ({done.returncode}): {reply.get('fatal') or done.stderr}")
    return reply


def hx(data: bytes) -> str:
    return "0x" + data.hex()


def unhex(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))
