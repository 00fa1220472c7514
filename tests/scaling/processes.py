"""Starting pipeline processes (``pipeline_process.py``) and reading their journals, for the multi-process tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("pipeline_process.py")


@dataclass
class PipelineProcess:
    """A started pipeline process; its output goes to ``log``."""

    popen: subprocess.Popen[bytes]
    journal: Path
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        return [r for r in read_journal(self.journal) if r["pid"] == self.pid and event in (None, r["event"])]

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM (a graceful stop) and wait."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(30)


def start(
    tmp_path: Path, tag: str, *, db: str, pipeline: str, folder: Path, journal: Path, standby: bool = False,
    work: float = 0.2, lease_ttl: float = 15.0, anchor: tuple[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> PipelineProcess:
    args = [sys.executable, str(SCRIPT), "--db", db, "--pipeline", pipeline, "--folder", str(folder),
            "--journal", str(journal), "--work", str(work), "--lease-ttl", str(lease_ttl)]
    if standby:
        args.append("--standby")
    if anchor is not None:
        args += ["--anchor", *anchor]
    log = tmp_path / f"{tag}.log"
    with open(log, "wb") as out:
        popen = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    return PipelineProcess(popen, journal, log)


def read_journal(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, *, check: list[PipelineProcess] = ()) -> Any:
    """Poll ``predicate`` until it returns something true; fail naming ``what`` (and the output of any process in
    ``check`` that exited) on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        for process in check:
            if process.popen.poll() is not None:
                raise AssertionError(f"process {process.pid} exited while waiting for {what}:\n{process.output()}")
        time.sleep(0.05)
    outputs = "\n".join(f"--- {p.pid}:\n{p.output()[-3000:]}" for p in check)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{outputs}")


def drop(folder: Path, name: str, content: str) -> None:
    """Write a file atomically into a watched folder."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{name}"
    tmp.write_text(content)
    tmp.rename(folder / name)
