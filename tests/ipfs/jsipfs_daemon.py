"""An offline js-ipfs 0.66 daemon (npm ``ipfs``, installed apart in ``peers/jsipfs``) for the RPC wire tests."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
JSIPFS = HERE / "peers" / "jsipfs" / "node_modules" / ".bin" / "jsipfs"
CONFIG = {
    "Addresses": {"Swarm": ["/ip4/127.0.0.1/tcp/0"], "API": "/ip4/127.0.0.1/tcp/0",
                  "Gateway": "/ip4/127.0.0.1/tcp/0", "RPC": "/ip4/127.0.0.1/tcp/0"},
    "Bootstrap": [],
    "Discovery": {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}},
}


class JsIpfsDaemon:
    """``jsipfs init --profile test`` then ``jsipfs daemon --offline`` on loopback ports; ``url`` is its RPC API."""

    def __init__(self, repo: Path) -> None:
        if shutil.which("node") is None or not JSIPFS.exists():
            pytest.skip("node and tests/ipfs/peers/jsipfs/node_modules are needed (run `make setup`)")
        env = {**os.environ, "IPFS_PATH": str(repo),
               "NODE_OPTIONS": f"--import {HERE / 'peers' / 'polyfill.mjs'}"}
        subprocess.run([str(JSIPFS), "init", "--profile", "test"], env=env, check=True, capture_output=True,
                       timeout=120)
        config_path = repo / "config"
        config = json.loads(config_path.read_text())
        for key, value in CONFIG.items():
            config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
        config_path.write_text(json.dumps(config))
        self._proc = subprocess.Popen([str(JSIPFS), "daemon", "--offline"], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True)
        self.url = self._wait_ready()

    def _wait_ready(self, timeout: float = 120) -> str:
        assert self._proc.stdout is not None
        deadline = time.monotonic() + timeout
        url = None
        seen = []
        for line in self._proc.stdout:
            seen.append(line)
            found = re.search(r"HTTP API listening on /ip4/([\d.]+)/tcp/(\d+)/http", line)
            if found:
                url = f"http://{found.group(1)}:{found.group(2)}"
            if "Daemon is ready" in line and url:
                return url
            if time.monotonic() > deadline:
                break
        self.stop()
        raise AssertionError("js-ipfs daemon did not start:\n" + "".join(seen[-30:]))

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
