"""Shipped contract artifacts: ``chain/artifacts/<Name>.json`` (abi, bytecode, deployed bytecode, compiler version,
source hash), read at run time without a compiler.

:func:`load_artifact` parses a file once per file version (a recompile during development is picked up). The
artifacts are produced by :mod:`anacostia_blockchain.chain.dev.compiler` (``make compile``).

One set per EVM build target (:data:`ARTIFACT_EVM_VERSIONS`): ``chain/artifacts/*.json`` for the default target
(Cancun) and ``chain/artifacts/<version>/*.json`` for each other (Shanghai, for chains without Cancun opcodes).
ABIs are the same in every set; only the bytecode differs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import CompilerError

#: Where the shipped artifacts live (package data).
ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "artifacts"
#: The EVM versions an artifact set is shipped for, newest first; the first is the default set.
ARTIFACT_EVM_VERSIONS: tuple[str, ...] = ("cancun", "shanghai")
DEFAULT_EVM_VERSION = ARTIFACT_EVM_VERSIONS[0]


def artifacts_dir(evm_version: str | None = None) -> Path:
    """The directory of the artifact set built for ``evm_version`` (default: the Cancun set)."""
    if evm_version is None or evm_version == DEFAULT_EVM_VERSION:
        return ARTIFACTS_DIR
    if evm_version not in ARTIFACT_EVM_VERSIONS:
        shipped = ", ".join(ARTIFACT_EVM_VERSIONS)
        raise CompilerError(f"no artifact set for EVM version {evm_version!r} (shipped: {shipped})")
    return ARTIFACTS_DIR / evm_version


@dataclass(frozen=True)
class ContractArtifact:
    """One compiled contract as shipped in the package."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler_version: str
    source_path: str
    source_hash: str

    @property
    def artifact_hash(self) -> str:
        """A stable hash of what gets deployed (bytecode + abi), recorded in deployment manifests."""
        payload = json.dumps({"abi": self.abi, "bytecode": self.bytecode}, sort_keys=True).encode()
        return "0x" + hashlib.sha256(payload).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "contractName": self.name,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
            "compilerVersion": self.compiler_version,
            "sourcePath": self.source_path,
            "sourceHash": self.source_hash,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContractArtifact:
        return cls(
            name=data["contractName"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
            compiler_version=data["compilerVersion"],
            source_path=data["sourcePath"],
            source_hash=data["sourceHash"],
        )


_loaded: dict[Path, tuple[int, ContractArtifact]] = {}


def load_artifact(name: str, evm_version: str | None = None) -> ContractArtifact:
    """Load a shipped artifact by contract name from the set built for ``evm_version`` (default: Cancun); parsed
    once per file version, so a recompile is picked up."""
    path = artifacts_dir(evm_version) / f"{name}.json"
    try:
        version = path.stat().st_mtime_ns
    except FileNotFoundError:
        known = ", ".join(list_artifacts(evm_version)) or "none"
        raise CompilerError(f"no shipped artifact named {name!r} (known: {known}); run `make compile`") from None
    cached = _loaded.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    artifact = ContractArtifact.from_json(json.loads(path.read_text()))
    _loaded[path] = (version, artifact)
    return artifact


def list_artifacts(evm_version: str | None = None) -> list[str]:
    """Names of every shipped artifact (of the set built for ``evm_version``; default: Cancun)."""
    return sorted(p.stem for p in artifacts_dir(evm_version).glob("*.json"))


def shipped_abis() -> list[tuple[str, list[dict[str, Any]]]]:
    """``(name, abi)`` of every shipped artifact that reads; a half-written file (during development) is skipped."""
    abis = []
    for path in sorted(ARTIFACTS_DIR.glob("*.json")):
        try:
            abis.append((path.stem, json.loads(path.read_text())["abi"]))
        except (OSError, ValueError, KeyError):
            continue  # the artifact freshness test reports it
    return abis
