"""A real Ray cluster for the tests: ``ray start --head`` on a free port plus ``ray start --address`` workers, each in
its own session and temp dir; stopped by killing exactly the processes these commands started (never ``ray stop``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")
TESTS = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Ray settings of every Ray process the tests start, the test process included: no usage reports, and no token
#: authentication (a local test cluster; with it, Ray would write a token into the home folder).
RAY_SETTINGS = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


def worker_env() -> dict[str, str]:
    """The environment of the Ray processes: the tests folder on the path, so workers import ``executors.*``."""
    path = os.pathsep.join(p for p in (str(TESTS), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **RAY_SETTINGS}


def descendants(pids: list[int]) -> list[int]:
    """``pids`` and every process below them (read from /proc), deepest first."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rpartition(")")[2].split()[1]), []).append(int(entry))
    found: list[int] = []
    todo = list(pids)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return list(reversed(found))


@dataclass
class RayCluster:
    """The processes of a cluster started here, its GCS address and its Ray Client address (``ray://``)."""

    address: str
    client_address: str
    temp_dir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def add_worker(self, cpus: int = 1, resources: str | None = None) -> subprocess.Popen[bytes]:
        """A worker node joining the head (``resources``: its custom resources as JSON)."""
        extra = [f"--resources={resources}"] if resources else []
        process = _ray_start(["--address", self.address, f"--num-cpus={cpus}", *extra], self.temp_dir, "worker")
        self.processes.append(process)
        return process

    def pids(self) -> list[int]:
        """Every process of this cluster: below the ``ray start`` commands, plus those Ray detaches from them (a Ray
        Client server for one client), told by this cluster's own GCS address on their command line."""
        port = self.address.rpartition(":")[2]
        names = (f"{_node_ip()}:{port}", f"127.0.0.1:{port}")
        detached = [pid for pid in _all_pids()
                    if pid != os.getpid() and any(f"--address={name}" in cmdline(pid) for name in names)]
        return [pid for pid in descendants([p.pid for p in self.processes] + detached) if pid != os.getpid()]

    def stop(self) -> None:
        """Kill every process of this cluster (a test cluster: its temp dir goes with it)."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for process in self.processes:
            process.wait(30)
        shutil.rmtree(self.temp_dir.parent, ignore_errors=True)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _node_ip() -> str:
    """The address Ray gives this machine's nodes."""
    from ray.util import get_node_ip_address

    return str(get_node_ip_address())


def _ray_start(args: list[str], temp_dir: Path, tag: str) -> subprocess.Popen[bytes]:
    log = open(temp_dir / f"{tag}-{len(os.listdir(temp_dir))}.log", "wb")  # noqa: SIM115 - lives with the process
    return subprocess.Popen([str(RAY), "start", *args, "--block", "--disable-usage-stats"], stdout=log,
                            stderr=subprocess.STDOUT, env=worker_env(), start_new_session=True)


def start_head(cpus: int = 1) -> RayCluster:
    """A head node on a free port, in a temp dir of its own (short: Ray puts sockets there; named ``ray`` inside a
    folder of its own, so that ``RAY_TMPDIR=<that folder>`` makes ``address="auto"`` find this cluster)."""
    temp_dir = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp")) / "ray"
    temp_dir.mkdir()
    port, client_port = free_port(), free_port()
    cluster = RayCluster(f"127.0.0.1:{port}", f"ray://127.0.0.1:{client_port}", temp_dir)
    cluster.processes.append(_ray_start(["--head", f"--port={port}", f"--num-cpus={cpus}",
                                         f"--ray-client-server-port={client_port}", "--include-dashboard=false",
                                         f"--temp-dir={temp_dir}"], temp_dir, "head"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return cluster
        except OSError:
            if cluster.processes[0].poll() is not None:
                break
            time.sleep(0.2)
    cluster.stop()
    raise RuntimeError(f"the Ray head did not start; see {temp_dir}")
