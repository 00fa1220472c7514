"""The npm reference oracle (``tests/ipfs/reference_importer.mjs``: ipfs-unixfs-importer configured like Kubo, and
@ipld/car) as a module-scoped fixture for the property tests: one node process answers JSON lines."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "ipfs" / "reference_importer.mjs"


class NpmReference:
    def __init__(self) -> None:
        node = shutil.which("node")
        assert node is not None, "node is needed for the npm reference importer (run `make setup`)"
        assert (REPO / "node_modules" / "ipfs-unixfs-importer").is_dir(), "run `npm ci` first"
        self._proc = subprocess.Popen([node, str(SCRIPT)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True)

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self._proc.stdout.readline())
        assert "error" not in answer, f"reference failed: {answer.get('error')}"
        return answer

    def import_file(self, path: Path, *, cid_version: int, raw_leaves: bool, chunk_size: int,
                    max_links: int) -> tuple[str, int]:
        [entry] = self.ask({"op": "import", "entries": [{"path": path.name, "file": str(path)}],
                            "cidVersion": cid_version, "rawLeaves": raw_leaves, "chunkSize": chunk_size,
                            "maxChildrenPerNode": max_links})["entries"]
        return str(entry["cid"]), int(entry["size"])

    def read_car(self, path: Path) -> dict[str, list[str]]:
        return self.ask({"op": "car", "file": str(path)})

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=10)


@pytest.fixture(scope="module")
def npm_reference() -> Iterator[NpmReference]:
    reference = NpmReference()
    try:
        yield reference
    finally:
        reference.close()
