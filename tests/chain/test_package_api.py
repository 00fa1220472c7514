"""``anacostia_blockchain.chain`` is the way in: every exported name resolves, old names warn for one release."""

from __future__ import annotations

import pytest

import anacostia_blockchain.chain as chain
from anacostia_blockchain.chain import abi, contracts, dev, rpc, story, tx
from anacostia_blockchain.chain.abi import ContractArtifact


@pytest.mark.parametrize("package", [chain, rpc, abi, tx, contracts, story, dev], ids=lambda p: p.__name__)
def test_every_exported_name_resolves(package: object) -> None:
    names = package.__all__  # type: ignore[attr-defined]
    for name in names:
        assert getattr(package, name) is not None, name


def test_dev_names_load_lazily_from_the_dev_package() -> None:
    assert chain.Devnet is dev.Devnet and chain.deploy_all is dev.deploy_all
    with pytest.raises(AttributeError):
        chain.NoSuchName  # noqa: B018


def test_the_old_artifact_name_warns() -> None:
    with pytest.warns(DeprecationWarning, match="ContractArtifact"):
        assert chain.Artifact is ContractArtifact
    from anacostia_blockchain.chain.dev import compiler

    with pytest.warns(DeprecationWarning, match="ContractArtifact"):
        assert compiler.Artifact is ContractArtifact
