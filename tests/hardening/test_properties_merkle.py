"""Merkle proofs for any item in any tree size: verified off chain, and for a sample through the deployed
``RunRegistry.verifyProof`` / ``verifyMetric`` on anvil (the contract and ``chain.merkle`` must agree bit for bit).

``tests/chain/contracts/test_merkle.py`` checks fixed sizes; here Hypothesis picks the size (1..300 leaves, duplicates
allowed), the item, and a wrong leaf or a tampered proof, which must never verify. Manifests built from arbitrary
metrics and params must prove every item, and a manifest round-tripped through bytes must keep its root.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from anacostia_blockchain.anchoring.manifest import RunManifest
from anacostia_blockchain.chain import ChainClient, Devnet, LocalSigner, TxSender
from anacostia_blockchain.chain.contracts import merkle
from anacostia_blockchain.chain.contracts.run_registry import AnchorRequest, RunRegistryClient

leaves = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=300)


@pytest.mark.parametrize("layout", [merkle.MerkleTree, merkle.OddPromotedMerkleTree], ids=lambda t: t.layout)
@settings(max_examples=150, deadline=None)
@given(tree_leaves=leaves, pick=st.integers(min_value=0), data=st.data())
def test_any_item_of_any_tree_proves_and_nothing_else_does(layout: type[merkle.SortedPairTree],
                                                            tree_leaves: list[bytes], pick: int,
                                                            data: st.DataObject) -> None:
    tree = layout(tree_leaves)
    leaf = tree_leaves[pick % len(tree_leaves)]
    proof = tree.proof(leaf)
    assert merkle.verify_proof(tree.root, leaf, proof)
    assert len(proof) <= max(1, len(tree_leaves) - 1).bit_length()
    assert layout(list(reversed(tree_leaves))).root == tree.root  # order-independent

    outsider = data.draw(st.binary(min_size=32, max_size=32).filter(lambda b: b not in tree))
    assert not merkle.verify_proof(tree.root, outsider, proof)
    if proof:
        index = data.draw(st.integers(0, len(proof) - 1))
        byte, bit = data.draw(st.integers(0, 31)), data.draw(st.integers(0, 7))
        sibling = bytearray(proof[index])
        sibling[byte] ^= 1 << bit
        assert not merkle.verify_proof(tree.root, leaf, [*proof[:index], bytes(sibling), *proof[index + 1:]])
        assert not merkle.verify_proof(tree.root, leaf, proof[:-1])  # a shortened proof stops below the root


metric_values = st.one_of(st.integers(-(10**30), 10**30), st.floats(allow_nan=False, allow_infinity=False,
                                                                       min_value=-1e30, max_value=1e30))
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=24)


@st.composite
def manifests(draw: st.DrawFn) -> RunManifest:
    metrics = draw(st.lists(st.tuples(names, metric_values, st.integers(0, 1000)), max_size=12))
    params = draw(st.dictionaries(names, st.one_of(st.text(max_size=30), st.integers(), st.booleans()), max_size=6))
    export = {
        "metrics": [{"name": n, "value": v, "step": s} for n, v, s in metrics],
        "params": params,
        "notes": draw(st.lists(st.text(max_size=40), max_size=3)),
    }
    return RunManifest.from_export(draw(names), draw(st.integers(0, 2**64 - 1)), export)


@settings(max_examples=60, deadline=None)
@given(manifest=manifests())
def test_every_item_of_any_manifest_proves_and_survives_a_byte_round_trip(manifest: RunManifest) -> None:
    for item in manifest.items:
        leaf, proof = manifest.proof(item.key)
        assert merkle.verify_proof(manifest.root, leaf, proof)
    again = RunManifest.from_bytes(manifest.to_bytes())
    assert again.root == manifest.root and again.diff(manifest) == []


# --- the contract agrees ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def registry(devnet: Devnet) -> Iterator[RunRegistryClient]:
    snapshot = devnet.snapshot()
    client = ChainClient(devnet.rpc_url, expected_chain_id=devnet.chain_id)
    sender = TxSender(client, LocalSigner.from_key(devnet.accounts[0].private_key))
    try:
        admin = sender.signer.address
        contract = sender.deploy("RunRegistry", admin, admin)
        yield RunRegistryClient(client, contract.address, sender)
    finally:
        sender.close()
        devnet.revert(snapshot)


RUN_IDS = itertools.count(1)
PIPELINE = merkle.pipeline_id("property-pipeline")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree_leaves=leaves, pick=st.integers(min_value=0), flip=st.integers(0, 31))
def test_the_registry_verifies_exactly_what_the_python_tree_proves(registry: RunRegistryClient,
                                                                   tree_leaves: list[bytes], pick: int,
                                                                   flip: int) -> None:
    tree = merkle.MerkleTree(tree_leaves)
    assume(tree.root != bytes(32))  # a zero root is refused before anchoring (ZeroMerkleRoot)
    run_id = next(RUN_IDS)
    registry.anchor_run(AnchorRequest(PIPELINE, run_id, tree.root, f"bafkreiproperty{run_id}"))
    leaf = tree_leaves[pick % len(tree_leaves)]
    proof = tree.proof(leaf)
    assert registry.verify_proof(PIPELINE, run_id, leaf, proof) is True
    wrong = bytes(b ^ 0xFF if i == flip else b for i, b in enumerate(leaf))
    assert registry.verify_proof(PIPELINE, run_id, wrong, proof) is merkle.verify_proof(tree.root, wrong, proof)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=manifests())
def test_the_registry_accepts_every_metric_of_any_anchored_manifest(registry: RunRegistryClient,
                                                                    manifest: RunManifest) -> None:
    run_id = next(RUN_IDS)
    registry.anchor_run(AnchorRequest(PIPELINE, run_id, manifest.root, f"bafkreimanifest{run_id}"))
    run_leaves = {item.key: item for item in manifest.items}
    for key, item in run_leaves.items():
        leaf, proof = manifest.proof(key)
        if item.kind == "metric":
            # the leaf a manifest item encodes is the one computed with the anchored run's own pipeline id/run id
            fields = item.fields
            assert registry.metric_leaf(fields["name"], int(fields["value"]), int(fields["step"])) == leaf
            assert registry.verify_metric(PIPELINE, run_id, fields["name"], int(fields["value"]),
                                          int(fields["step"]), proof)
            # a claimed value one unit (1e-18) off, or at another step, is refused by the contract
            assert not registry.verify_metric(PIPELINE, run_id, fields["name"], int(fields["value"]) + 1,
                                              int(fields["step"]), proof)
            assert not registry.verify_metric(PIPELINE, run_id, fields["name"], int(fields["value"]),
                                              int(fields["step"]) + 1, proof)
        elif item.kind != "run":  # the run leaf binds the manifest's own pipeline and run id, not this test's
            assert registry.verify_proof(PIPELINE, run_id, leaf, proof)
