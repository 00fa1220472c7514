"""The JS toolchain installs anvil for every platform (``@foundry-rs/anvil`` and its per-platform optional packages,
pinned in the lock file), and the devnet finds this machine's anvil binary in it, not the Node wrapper."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from anacostia_blockchain.chain.dev import devnet

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = {"darwin-amd64", "darwin-arm64", "linux-amd64", "linux-arm64", "win32-amd64"}


def test_package_json_depends_on_the_anvil_of_every_platform() -> None:
    dependencies = json.loads((ROOT / "package.json").read_text())["dependencies"]
    assert "@foundry-rs/anvil" in dependencies
    assert not [name for name in dependencies if name.startswith("@foundry-rs/anvil-")]
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    optional = locked["node_modules/@foundry-rs/anvil"]["optionalDependencies"]
    assert {name.removeprefix("@foundry-rs/anvil-") for name in optional} == PLATFORMS
    assert all(locked[f"node_modules/{name}"]["optional"] for name in optional)


def test_the_devnet_finds_the_platform_binary_installed_by_npm(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (ROOT / "node_modules" / "@foundry-rs" / "anvil").is_dir():
        pytest.skip("run `npm ci` first")
    for variable in (devnet.ANVIL_ENV, "ANVIL_PATH"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PATH", "")
    found = devnet.find_anvil()
    assert found == devnet.NPM_ANVIL and found.parent.parent.name.startswith("anvil-")
    assert found.read_bytes()[:2] != b"#!"  # the native binary, not the Node wrapper in node_modules/.bin
    assert os.access(found, os.X_OK)
    version = subprocess.run([str(found), "--version"], capture_output=True, text=True, check=True, timeout=30)
    assert version.stdout.startswith("anvil")
