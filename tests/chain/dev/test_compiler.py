"""Shipped artifacts are fresh against contracts/, well-formed, and the compiler fails with typed errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from anacostia_blockchain.chain.abi import artifacts as artifacts_module
from anacostia_blockchain.chain.dev import compiler
from anacostia_blockchain.chain.dev.compiler import (
    ARTIFACT_EVM_VERSIONS,
    CONTRACTS_DIR,
    PROJECT_ROOT,
    SOLC_VERSION,
    artifacts_dir,
    cancun_only_sources,
    compile_sources,
    list_artifacts,
    load_artifact,
    source_files,
    stale_artifacts,
)
from anacostia_blockchain.errors import CompilerError

TEST_CONTRACTS = Path(__file__).parent.parent / "solidity"


def test_every_shipped_artifact_is_fresh() -> None:
    stale = stale_artifacts()
    assert stale == [], f"artifacts older than contracts/: {stale}; run `make compile` and commit the result"


@pytest.mark.parametrize("evm_version", ARTIFACT_EVM_VERSIONS)
def test_shipped_artifacts_are_complete(evm_version: str) -> None:
    names = list_artifacts(evm_version)
    cancun_only = {str(p.relative_to(PROJECT_ROOT)) for p in cancun_only_sources(evm_version=evm_version)}
    expected = [
        n for n in list_artifacts() if evm_version == "cancun" or load_artifact(n).source_path not in cancun_only
    ]
    assert "RunRegistry" in names and names == expected  # every set holds every contract its EVM can run
    for name in names:
        artifact = load_artifact(name, evm_version)
        assert artifact.abi == load_artifact(name).abi  # only the bytecode depends on the target
        assert artifact.name == name
        assert isinstance(artifact.abi, list)
        assert artifact.bytecode.startswith("0x") and len(artifact.bytecode) > 2
        assert artifact.deployed_bytecode.startswith("0x") and len(artifact.deployed_bytecode) > 2
        assert artifact.compiler_version.startswith(SOLC_VERSION)
        assert (PROJECT_ROOT / artifact.source_path).is_file(), artifact.source_path
        assert artifact.artifact_hash.startswith("0x") and len(artifact.artifact_hash) == 66


def test_cancun_only_sources_are_those_reaching_a_cancun_opcode() -> None:
    # Story's AccessController keeps transient permissions in transient storage; its Shanghai variant does not.
    found = {str(p.relative_to(PROJECT_ROOT)) for p in cancun_only_sources()}
    assert found == {"contracts/story/AccessController.sol"}
    assert cancun_only_sources(evm_version="shanghai") == []
    assert "AccessController" in list_artifacts("shanghai") and "ModelNFT" in list_artifacts("shanghai")


def test_staleness_covers_every_artifact_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shipped = tmp_path / "artifacts"
    shutil.copytree(artifacts_dir(), shipped)
    monkeypatch.setattr(artifacts_module, "ARTIFACTS_DIR", shipped)
    assert stale_artifacts() == []
    run_registry = shipped / "shanghai" / "RunRegistry.json"
    document = json.loads(run_registry.read_text())
    run_registry.write_text(json.dumps({**document, "sourceHash": "0x" + "00" * 32}))
    (shipped / "shanghai" / "ModelNFT.json").unlink()
    assert stale_artifacts() == ["shanghai/ModelNFT", "shanghai/RunRegistry"]


def test_every_own_source_is_mit_and_pinned() -> None:
    for path in source_files(CONTRACTS_DIR):
        text = path.read_text()
        assert "// SPDX-License-Identifier: MIT" in text, path
        assert "pragma solidity ^0.8.24;" in text, path


def test_unknown_artifact_names_the_known_ones() -> None:
    with pytest.raises(CompilerError, match=r"no shipped artifact named 'Nope' \(known: .*RunRegistry"):
        load_artifact("Nope")


def test_syntax_error_is_reported_with_location() -> None:
    with pytest.raises(CompilerError, match=r"ParserError[\s\S]*SyntaxError.sol:7"):
        compile_sources([TEST_CONTRACTS / "invalid" / "SyntaxError.sol"])


def test_duplicate_contract_names_are_refused() -> None:
    with pytest.raises(CompilerError, match="two contracts are named Twin"):
        compile_sources([TEST_CONTRACTS / "duplicate" / "First.sol", TEST_CONTRACTS / "duplicate" / "Second.sol"])


def test_missing_and_outside_sources(tmp_path: Path) -> None:
    with pytest.raises(CompilerError, match="does not exist"):
        compile_sources([TEST_CONTRACTS / "Nope.sol"])
    outside = tmp_path / "Outside.sol"
    outside.write_text("// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\ncontract Outside {}\n")
    with pytest.raises(CompilerError, match="outside the project"):
        compile_sources([outside])


def test_broken_compiler_binary() -> None:
    with pytest.raises(CompilerError, match="could not run the compiler"):
        compile_sources([TEST_CONTRACTS / "ChainProbe.sol"], solc_binary=Path("/nonexistent/solc"))


def test_no_compiler_at_all_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import solcx

    monkeypatch.setattr(solcx, "get_installed_solc_versions", lambda: [])
    monkeypatch.setattr(compiler.shutil, "which", lambda name: None)
    with pytest.raises(CompilerError, match=r"install Node\.js"):
        compiler.find_solc_binary()
    monkeypatch.setattr(compiler.shutil, "which", lambda name: "/usr/bin/node" if name == "node" else None)
    monkeypatch.setattr(compiler, "NODE_MODULES", tmp_path)
    with pytest.raises(CompilerError, match="npm ci"):
        compiler.find_solc_binary()


def test_compiles_test_contract_into_a_loadable_artifact() -> None:
    artifacts = compile_sources([TEST_CONTRACTS / "ChainProbe.sol"])
    probe = artifacts["ChainProbe"]
    assert probe.source_path == "tests/chain/solidity/ChainProbe.sol"
    assert {e["name"] for e in probe.abi if e["type"] == "error"} == {"NotAllowed", "Exactly"}
    assert "ChainProbe" not in list_artifacts()  # test contracts are never shipped
