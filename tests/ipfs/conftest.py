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
