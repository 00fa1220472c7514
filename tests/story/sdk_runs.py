"""Run Story's official SDKs (their registry packages) against one story-compat devnet and collect what they did.

The Python SDK (PyPI ``story-protocol-python-sdk``, pinned with ``web3==7.15.0`` in ``sdk/requirements.txt``) lives in
its own venv (``.venv-story``, ``make setup`` creates it; ``STORY_SDK_PYTHON`` points elsewhere); the TypeScript SDK
(npm ``@story-protocol/core-sdk`` with ``viem``) comes from the project's ``node_modules``. Both flow scripts run at
the same time against the same devnet, each with its own two accounts, and print one JSON object each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anacostia_blockchain.chain.abi.contract import Contract
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story.addresses import aeneid

PROJECT = Path(__file__).resolve().parents[2]
SDK_DIR = Path(__file__).parent / "sdk"
#: dev accounts used by each SDK run: (A, B)
ACCOUNTS = {"python": (1, 2), "typescript": (3, 4)}
RUN_TIMEOUT = 240


def python_sdk_interpreter() -> Path | None:
    """The interpreter of the venv holding Story's Python SDK, when it is installed."""
    configured = os.environ.get("STORY_SDK_PYTHON")
    candidate = Path(configured) if configured else PROJECT / ".venv-story" / "bin" / "python"
    if not candidate.is_file():
        return None
    probe = subprocess.run(
        [str(candidate), "-c", "import story_protocol_python_sdk"], capture_output=True, text=True, timeout=120
    )
    return candidate if probe.returncode == 0 else None


def typescript_sdk_available() -> bool:
    return bool(shutil.which("node")) and (PROJECT / "node_modules" / "@story-protocol" / "core-sdk").is_dir()


@dataclass
class SdkRun:
    """One SDK's run: its JSON output (or why there is none)."""

    sdk: str
    output: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    failure: str | None = None


def start_runs(devnet: Devnet, nft_address: str) -> dict[str, tuple[subprocess.Popen[str] | None, SdkRun]]:
    """Launch both flow scripts (those whose SDK is installed) in parallel."""
    runs: dict[str, tuple[subprocess.Popen[str] | None, SdkRun]] = {}
    commands: dict[str, list[str] | None] = {"python": None, "typescript": None}
    interpreter = python_sdk_interpreter()
    if interpreter is not None:
        commands["python"] = [str(interpreter), str(SDK_DIR / "py_flows.py")]
    if typescript_sdk_available():
        commands["typescript"] = ["node", str(SDK_DIR / "ts_flows.mjs")]
    for sdk, command in commands.items():
        run = SdkRun(sdk)
        if command is None:
            run.skipped = f"Story's {sdk} SDK is not installed (run `make setup`)"
            runs[sdk] = (None, run)
            continue
        first, second = ACCOUNTS[sdk]
        env = {
            **os.environ,
            "STORY_RPC_URL": devnet.rpc_url,
            "STORY_KEY_A": devnet.accounts[first].private_key,
            "STORY_KEY_B": devnet.accounts[second].private_key,
            "STORY_MOCK_ERC721": nft_address,
            "NODE_PATH": str(PROJECT / "node_modules"),
        }
        process = subprocess.Popen(
            command, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        runs[sdk] = (process, run)
    return runs


def finish_runs(runs: dict[str, tuple[subprocess.Popen[str] | None, SdkRun]]) -> dict[str, SdkRun]:
    results = {}
    for sdk, (process, run) in runs.items():
        if process is not None:
            try:
                stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, stderr = process.communicate()
                run.failure = f"timed out after {RUN_TIMEOUT}s; stderr: {stderr[-2000:]}"
            if run.failure is None:
                try:
                    run.output = json.loads(stdout.strip().splitlines()[-1])
                except (IndexError, ValueError):
                    run.failure = f"exit {process.returncode}; stderr: {stderr[-3000:]}"
        results[sdk] = run
    return results


@dataclass
class Chain:
    """Reads of the suite at Story's Aeneid addresses, through this project's own client and artifacts."""

    client: ChainClient

    def at(self, artifact: str, name: str) -> Contract:
        return Contract.at(self.client, artifact, aeneid(name))
