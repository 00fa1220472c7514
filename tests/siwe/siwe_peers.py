"""The reference SIWE libraries as long-lived subprocesses: npm ``siwe@3`` (with ``ethers@6``) under node, and PyPI
``siwe`` 4.4.0 in its own virtualenv. Each starts once per test session; a request is one JSON line and carries a
whole batch (see ``peers/npm_siwe.js`` and ``peers/pypi_siwe.py`` for the protocol).
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

PEERS = Path(__file__).parent / "peers"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The PyPI ``siwe`` virtualenv that ``make .stamps/siwe-peer`` creates (``ANACOSTIA_SIWE_PEER_PYTHON`` overrides).
PYPI_SIWE_PYTHON = PROJECT_ROOT / ".stamps" / "siwe-venv" / "bin" / "python"
#: How long one batch may take (PyPI ``siwe`` parses some 30 messages a second on a busy machine).
BATCH_TIMEOUT = 600.0


class PeerError(RuntimeError):
    """A reference library's process died, hung or answered something that is not a reply."""


class Peer:
    """One reference library behind a line-oriented JSON protocol."""

    def __init__(self, name: str, argv: list[str]) -> None:
        self.name = name
        # stderr goes to a file, not a pipe: a chatty peer never blocks on it; closed in close()
        self.errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            argv, cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors, text=True
        )
        self.versions = self.ask({"op": "hello"})

    def send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(BATCH_TIMEOUT):
                raise PeerError(f"{self.name} gave no reply within {BATCH_TIMEOUT:.0f} s")
        line = self.process.stdout.readline()
        if not line:
            raise PeerError(f"{self.name} exited ({self.process.wait()}): {self._stderr()}")
        reply: dict[str, Any] = json.loads(line)
        if "fatal" in reply:
            raise PeerError(f"{self.name} refused the request: {reply['fatal']}")
        return reply

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        self.send(request)
        return self.receive()

    def _stderr(self) -> str:
        self.errors.seek(0)
        return self.errors.read()[-2000:]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.errors.close()


def start_npm_siwe() -> Peer:
    node = shutil.which("node")
    if node is None or not (PROJECT_ROOT / "node_modules" / "siwe").is_dir():
        raise PeerError("npm siwe needs node and the project's node_modules: run `npm ci` (or `make setup`)")
    return Peer("npm siwe", [node, str(PEERS / "npm_siwe.js")])


def start_pypi_siwe() -> Peer:
    python = Path(os.environ.get("ANACOSTIA_SIWE_PEER_PYTHON", PYPI_SIWE_PYTHON))
    if not python.exists():
        raise PeerError(f"PyPI siwe's virtualenv is missing ({python}): run `make .stamps/siwe-peer`")
    return Peer("PyPI siwe", [str(python), str(PEERS / "pypi_siwe.py")])


def ask_both(npm: Peer, pypi: Peer, request: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The same batch to both references at once (they work in parallel); their replies' results."""
    npm.send(request)
    pypi.send(request)
    return npm.receive()["results"], pypi.receive()["results"]
