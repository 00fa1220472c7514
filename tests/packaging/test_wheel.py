"""The package as a ``pip install`` user gets it: the wheel is built from the sources, installed into a fresh virtual
environment, and the ``anacostia-chain`` CLI is run from a folder outside the checkout, with anvil found on PATH (as
Foundry's ``foundryup`` installs it) or through ``ANACOSTIA_ANVIL`` — never through this checkout's ``node_modules``.

To stay offline and fast the fresh environment installs only the wheel (``--no-deps``); the dependencies it declares
are those already installed for this project, made visible through a ``.pth`` file (that folder's own ``.pth`` hooks,
such as this checkout's editable install, are not run, so ``anacostia_blockchain`` is the wheel's).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import sysconfig
import textwrap
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anacostia_blockchain.chain.dev.devnet import find_anvil

pytestmark = pytest.mark.slow  # about a minute: a wheel build, a fresh environment, anvil, a deploy, a run

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "anacostia_blockchain")


@dataclass
class Installed:
    venv: Path
    wheel: Path
    bin: Path  # the venv's scripts

    def env(self, *extra_path: Path, **variables: str) -> dict[str, str]:
        """A user's environment: the venv's scripts (and ``extra_path``) on PATH, no ANACOSTIA_* settings."""
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("ANACOSTIA_", "ANVIL_", "PYTHON", "VIRTUAL_ENV"))}
        env["PATH"] = os.pathsep.join([str(self.bin), *map(str, extra_path), "/usr/bin", "/bin"])
        env.update(variables)
        return env

    def cli(self, *argv: str, cwd: Path, env: dict[str, str], stdin: str | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin / "anacostia-chain"), *argv], cwd=cwd, env=env, input=stdin,
                              capture_output=True, text=True, timeout=timeout)


def _build_wheel(tmp: Path) -> Path:
    source, out = tmp / "src", tmp / "dist"
    source.mkdir()
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)]
    if _setuptools_is_new_enough():
        command.append("--no-build-isolation")  # the build requirement is installed: nothing to download
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("anacostia_blockchain-*.whl")
    return wheel


def _setuptools_is_new_enough() -> bool:
    if importlib.util.find_spec("setuptools") is None:
        return False
    import setuptools

    return int(setuptools.__version__.split(".")[0]) >= 77


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True, timeout=300)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "_anacostia_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    yield Installed(venv, wheel, venv / "bin")


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A user's project folder, nowhere near the checkout."""
    folder = tmp_path / "project"
    folder.mkdir()
    assert ROOT not in folder.parents
    return folder


@pytest.fixture(scope="module")
def anvil_on_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only an ``anvil`` executable, as ``~/.foundry/bin`` does after ``foundryup``."""
    folder = tmp_path_factory.mktemp("foundry-bin")
    (folder / "anvil").symlink_to(find_anvil().resolve())
    return folder


def test_the_wheel_carries_every_package_file(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    package = ROOT / "anacostia_blockchain"
    expected = {str(path.relative_to(ROOT)) for path in package.rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}
    assert expected - names == set()


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Installed, outside: Path) -> None:
    env = installed.env()
    where = subprocess.run([str(installed.bin / "python"), "-c", "import anacostia_blockchain; "
                            "print(anacostia_blockchain.__file__)"], cwd=outside, env=env, capture_output=True,
                           text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.venv)
    version = installed.cli("--version", cwd=outside, env=env)
    assert version.returncode == 0 and version.stdout.startswith("anacostia-chain ")
    module = subprocess.run([str(installed.bin / "python"), "-m", "anacostia_blockchain", "--version"], cwd=outside,
                            env=env, capture_output=True, text=True, timeout=120)
    assert module.stdout == version.stdout


def test_without_anvil_the_error_names_every_way_to_get_it(installed: Installed, outside: Path) -> None:
    done = installed.cli("devnet", "--port", "0", cwd=outside, env=installed.env())
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("error: anvil not found: ")
    assert "foundryup" in line and "PATH" in line and "ANACOSTIA_ANVIL=" in line and "npm ci" in line


def test_anvil_named_by_anacostia_anvil(installed: Installed, outside: Path) -> None:
    env = installed.env(ANACOSTIA_ANVIL=str(find_anvil().resolve()))
    process, _lines = start_devnet(installed, outside, env)
    stop(process)


def start_devnet(installed: Installed, cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen([str(installed.bin / "anacostia-chain"), "devnet", "--port", "0", "--show-keys"],
                               cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C"):
            return process, lines
    process.kill()
    raise AssertionError(f"devnet did not come up: {lines} {process.communicate()[1]}")


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()


PIPELINE = textwrap.dedent(
    """
    import os

    from anacostia_blockchain import (BaseActionNode, BlockchainMetadataStore, FilesystemStoreNode, LocalSigner,
                                      Pipeline)


    class EvalNode(BaseActionNode):
        def __init__(self, name, predecessors, metadata_store):
            self.metadata_store = metadata_store
            super().__init__(name, predecessors)

        def execute(self, *args, **kwargs) -> bool:
            self.metadata_store.log_metrics(test_loss=1.47)
            return True


    def build_pipeline():
        store = BlockchainMetadataStore("metadata_store", "sqlite:///metadata.db", signer=LocalSigner.from_env(),
                                        rpc_url=os.environ["ANACOSTIA_RPC_URL"], deployments="deployments")
        data = FilesystemStoreNode("data_store", "data", store, create=True)
        return Pipeline(nodes=[store, data, EvalNode("eval", [data], store)])
    """
)


def test_first_use_from_the_wheel(installed: Installed, outside: Path, anvil_on_path: Path) -> None:
    env = installed.env(anvil_on_path)
    devnet, lines = start_devnet(installed, outside, env)
    try:
        rpc_url = next(line.split()[-1] for line in lines if line.startswith("RPC URL:"))
        key = next(line.rpartition("=")[2] for line in lines if "export ANACOSTIA_PRIVATE_KEY=" in line)
        env.update(ANACOSTIA_RPC_URL=rpc_url, ANACOSTIA_PRIVATE_KEY=key)

        deploy = installed.cli("deploy", "--contracts", "RunRegistry", cwd=outside, env=env)
        assert deploy.returncode == 0, deploy.stderr
        assert json.loads((outside / "deployments" / "31337.json").read_text())["contracts"]["RunRegistry"]

        added = installed.cli("ipfs", "add", "-Q", "--repo", "ipfs", cwd=outside, env=env, stdin="hello\n")
        assert added.returncode == 0 and added.stdout == "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN\n"
        cat = installed.cli("ipfs", "cat", added.stdout.strip(), "--repo", "ipfs", cwd=outside, env=env)
        assert cat.stdout == "hello\n"

        (outside / "my_pipeline.py").write_text(PIPELINE)
        (outside / "data").mkdir()
        (outside / "data" / "batch-01.csv").write_text("1,2,3\n")
        summary = run_until_anchored(installed, outside, env)
        assert [run["anchor"]["status"] for run in summary["runs"]] == ["anchored"]

        verify = installed.cli("verify", "1", cwd=outside, env=env)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert verify.stdout.startswith("VERIFIED      run 1 of 'metadata_store'")
    finally:
        stop(devnet)


def run_until_anchored(installed: Installed, cwd: Path, env: dict[str, str]) -> dict:
    process = subprocess.Popen([str(installed.bin / "anacostia-chain"), "run", "my_pipeline.py", "--json"], cwd=cwd,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while not _anchor_attempted(cwd / "metadata.db"):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the run's anchor was never sent"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    return json.loads(out)


def _anchor_attempted(db: Path) -> bool:
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT status, attempts FROM anacostia_outbox").fetchone()
    except sqlite3.OperationalError:
        return False
    return row is not None and (row[0] == "confirmed" or row[1] > 0)
