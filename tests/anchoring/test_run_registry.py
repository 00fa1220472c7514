"""RunRegistry.sol on a real anvil, through RunRegistryClient / TxSender."""

from __future__ import annotations

import random

import pytest

from anacostia_blockchain.chain.contracts import AnchorRequest, merkle
from anacostia_blockchain.chain.contracts.run_registry import ANCHOR_ROLE
from anacostia_blockchain.errors import ConfigurationError, CustomContractError

from .conftest import RegistryEnv

PIPELINE = merkle.pipeline_id("test-pipeline")


def _request(run_id: int, seed: int = 0, cid: str = "bafkreitestmanifestcid") -> AnchorRequest:
    return AnchorRequest(PIPELINE, run_id, random.Random(run_id * 1000 + seed).randbytes(32), cid)


def test_anchor_run_stores_the_root_and_emits_the_cid(registry_env: RegistryEnv) -> None:
    reg = registry_env.registry
    request = _request(1)
    assert not reg.is_anchored(PIPELINE, 1) and reg.run_root(PIPELINE, 1) is None
    outcome = reg.anchor_run(request)
    assert outcome.anchored == [(PIPELINE, 1)] and outcome.skipped == []
    assert reg.is_anchored(PIPELINE, 1)
    assert reg.run_root(PIPELINE, 1) == request.merkle_root
    record = reg.anchor_record(PIPELINE, 1)
    assert record is not None
    assert (record.manifest_cid, record.merkle_root, record.block_number) == (
        request.manifest_cid,
        request.merkle_root,
        outcome.block_number,
    )
    assert record.tx_hash == outcome.tx_hash and record.timestamp > 0
    assert reg.anchor_record(PIPELINE, 2) is None


def test_anchoring_a_run_twice_reverts_with_the_decoded_custom_error(registry_env: RegistryEnv) -> None:
    reg = registry_env.registry
    first = _request(7)
    reg.anchor_run(first)
    with pytest.raises(CustomContractError) as info:
        reg.anchor_run(_request(7, seed=1))
    assert info.value.error_name == "RunAlreadyAnchored"
    assert info.value.error_args == (PIPELINE, 7, first.merkle_root)
    assert reg.run_root(PIPELINE, 7) == first.merkle_root  # untouched


def test_batch_anchors_new_runs_and_skips_anchored_ones_without_overwriting(registry_env: RegistryEnv) -> None:
    reg = registry_env.registry
    early = _request(2)
    reg.anchor_run(early)
    batch = [_request(1), _request(2, seed=9), _request(3)]
    outcome = reg.anchor_runs(batch)
    assert outcome.anchored == [(PIPELINE, 1), (PIPELINE, 3)]
    (skipped,) = outcome.skipped
    assert (skipped.run_id, skipped.existing_root, skipped.offered_root) == (2, early.merkle_root, batch[1].merkle_root)
    assert reg.run_root(PIPELINE, 2) == early.merkle_root
    assert reg.run_root(PIPELINE, 3) == batch[2].merkle_root


def test_a_stranger_without_anchor_role_gets_access_control_unauthorized(registry_env: RegistryEnv) -> None:
    stranger = registry_env.stranger()
    address = registry_env.devnet.accounts[5].address
    assert not stranger.is_anchorer(address)
    for attempt in (lambda: stranger.anchor_run(_request(1)), lambda: stranger.anchor_runs([_request(1)])):
        with pytest.raises(CustomContractError) as info:
            attempt()
        assert info.value.error_name == "AccessControlUnauthorizedAccount"
        assert (info.value.error_args[0].lower(), info.value.error_args[1]) == (address.lower(), ANCHOR_ROLE)
        assert "AccessControlUnauthorizedAccount" in str(info.value)
    registry_env.registry.grant_anchorer(address)
    assert stranger.anchor_run(_request(1)).anchored == [(PIPELINE, 1)]


def test_malformed_anchors_are_refused_before_and_by_the_contract(registry_env: RegistryEnv) -> None:
    with pytest.raises(ConfigurationError, match="zero Merkle root"):
        AnchorRequest(PIPELINE, 1, b"\x00" * 32, "cid")
    with pytest.raises(ConfigurationError, match="manifest CID"):
        AnchorRequest(PIPELINE, 1, b"\x01" * 32, "")
    with pytest.raises(ConfigurationError, match="uint64"):
        AnchorRequest(PIPELINE, 2**64, b"\x01" * 32, "cid")
    with pytest.raises(ConfigurationError, match="empty"):
        registry_env.registry.anchor_runs([])
    # the contract enforces the same rules for callers that bypass the Python checks
    contract = registry_env.registry.contract
    with pytest.raises(CustomContractError) as info:
        registry_env.admin.transact(contract, "anchorRun", PIPELINE, 1, b"\x00" * 32, "cid")
    assert info.value.error_name == "ZeroMerkleRoot"
    with pytest.raises(CustomContractError) as info:
        registry_env.admin.transact(contract, "anchorRuns", [(PIPELINE, 1, b"\x01" * 32, "")])
    assert info.value.error_name == "EmptyManifestCid"
    with pytest.raises(CustomContractError) as info:
        registry_env.admin.transact(contract, "anchorRuns", [])
    assert info.value.error_name == "EmptyBatch"


def test_on_chain_proofs_agree_with_the_python_tree(registry_env: RegistryEnv) -> None:
    reg = registry_env.registry
    metrics = [("loss", merkle.scale_metric(0.25 - i / 100), i) for i in range(20)]
    leaves = [merkle.metric_leaf(*m) for m in metrics] + [merkle.text_leaf("param", "lr", "0.001")]
    tree = merkle.MerkleTree(leaves)
    reg.anchor_run(AnchorRequest(PIPELINE, 11, tree.root, "bafkreiproofs"))
    for (name, value, step), leaf in zip(metrics, leaves, strict=False):
        proof = tree.proof(leaf)
        assert reg.metric_leaf(name, value, step) == leaf
        assert reg.verify_proof(PIPELINE, 11, leaf, proof)
        assert reg.verify_metric(PIPELINE, 11, name, value, step, proof)
        assert not reg.verify_metric(PIPELINE, 11, name, value + 1, step, proof)  # another value fails
    param_leaf = leaves[-1]
    assert reg.verify_proof(PIPELINE, 11, param_leaf, tree.proof(param_leaf))
    # a param leaf cannot pass as a metric (domain separation)
    assert not reg.verify_metric(PIPELINE, 11, "lr", 10**15, 0, tree.proof(param_leaf))
    with pytest.raises(CustomContractError) as info:
        reg.verify_proof(PIPELINE, 12, param_leaf, [])
    assert info.value.error_name == "RunNotAnchored"


def test_gas_of_one_anchor_and_of_a_batch(registry_env: RegistryEnv) -> None:
    """Regression bounds on gas (deterministic, not timing), whatever the run's item count (only the root is sent).

    Single: 21k base + 22.1k fresh slot + 2.1k role check + calldata + event = ~52.0k (the 50k goal is missed by 4 %;
    see docs/anchoring.md). In a batch each further run costs ~29.5k (slot + calldata + event).
    """
    reg = registry_env.registry
    cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"  # a real-length CIDv1
    single = reg.anchor_run(_request(100, cid=cid))
    assert single.gas_used <= 52_500, single.gas_used
    gas = {}
    for n in (20, 100):
        batch = reg.anchor_runs([_request(1000 * n + i, cid=cid) for i in range(n)])
        assert len(batch.anchored) == n
        gas[n] = batch.gas_used
    marginal = (gas[100] - gas[20]) / 80
    assert marginal <= 30_000, marginal
    assert gas[100] / 100 <= 30_000, gas[100] / 100
