"""Our Merkle tree is OpenZeppelin's, checked with ``@openzeppelin/merkle-tree`` 1.0.8 itself (peers/oz_merkle.mjs).

For 1..33 leaves and a few large counts: the same root and the same node array as ``SimpleMerkleTree.of(leaves)``,
the same proofs, our proofs accepted by the library's ``verify`` and its proofs by ours; ``StandardMerkleTree`` gives
our leaf hashes for every typed leaf kind; and the deployed ``RunRegistry.verifyProof`` (real anvil) accepts the
library's proofs of anchored roots.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from anacostia_blockchain.chain.contracts import AnchorRequest, merkle

from .conftest import RegistryEnv
from .node_peers import hx, openzeppelin, unhex

COUNTS = [*range(1, 34), 64, 100, 1000, 2049, 4097]
#: Above this many leaves a sample of leaves is proven (the library checks every proof it makes: ~3 ms a proof).
ALL_PROOFS_UP_TO = 1000
PIPELINE = merkle.pipeline_id("openzeppelin-merkle-tree")


def _leaves(count: int) -> list[bytes]:
    rng = random.Random(count)
    return [rng.randbytes(32) for _ in range(count)]


def _indices(count: int) -> list[int]:
    return list(range(count)) if count <= ALL_PROOFS_UP_TO else sorted(random.Random(-count).sample(range(count), 64))


@pytest.fixture(scope="module")
def peer_trees() -> dict[int, tuple[list[bytes], merkle.MerkleTree, dict[str, Any]]]:
    """Each count's leaves, our tree, and the library's answer (root, node array, proofs of the leaves at
    :func:`_indices`, its verdicts on our proofs of them)."""
    cases = {count: _leaves(count) for count in COUNTS}
    ours = {count: merkle.MerkleTree(leaves) for count, leaves in cases.items()}
    request = {
        "simple": [
            {
                "leaves": [hx(leaf) for leaf in leaves],
                "indices": _indices(n),
                "proofs": [[hx(p) for p in ours[n].proof(leaves[i])] for i in _indices(n)],
            }
            for n, leaves in cases.items()
        ]
    }
    reply = openzeppelin(request)
    assert reply["version"] == "1.0.8"
    return {n: (cases[n], ours[n], theirs) for n, theirs in zip(COUNTS, reply["simple"], strict=True)}


@pytest.mark.parametrize("count", COUNTS)
def test_root_and_node_array_equal_simple_merkle_tree(peer_trees: dict[int, Any], count: int) -> None:
    _, ours, theirs = peer_trees[count]
    assert theirs["root"] == hx(ours.root)
    assert theirs["tree"] == [hx(node) for node in ours.nodes]


@pytest.mark.parametrize("count", COUNTS)
def test_proofs_are_the_same_and_each_side_accepts_the_other(peer_trees: dict[int, Any], count: int) -> None:
    leaves, ours, theirs = peer_trees[count]
    assert len(theirs["acceptsOurs"]) == len(_indices(count))
    assert all(theirs["acceptsOurs"]) and all(theirs["staticAcceptsOurs"])
    for index, their_proof in zip(_indices(count), theirs["proofs"], strict=True):
        assert [hx(p) for p in ours.proof(leaves[index])] == their_proof
        assert merkle.verify_proof(ours.root, leaves[index], [unhex(p) for p in their_proof])


def test_the_odd_promoted_layout_of_format_1_differs_where_the_library_does() -> None:
    """Why manifests changed format: 5, 7, 9... leaves gave a root no standard tool rebuilds."""
    differs = [
        n for n in range(1, 34) if merkle.OddPromotedMerkleTree(_leaves(n)).root != merkle.MerkleTree(_leaves(n)).root
    ]
    assert differs[:3] == [5, 7, 9] and 6 not in differs and 8 not in differs and 16 not in differs


def test_duplicate_leaves_give_the_same_root_and_proofs_that_verify_in_both() -> None:
    a, b, c = _leaves(3)
    leaves = [a, c, a, b, c, c]
    ours = merkle.MerkleTree(leaves)
    (theirs,) = openzeppelin({"simple": [{"leaves": [hx(leaf) for leaf in leaves]}]})["simple"]
    assert theirs["root"] == hx(ours.root) and theirs["tree"] == [hx(node) for node in ours.nodes]
    for leaf, their_proof in zip(leaves, theirs["proofs"], strict=True):
        assert merkle.verify_proof(ours.root, leaf, [unhex(p) for p in their_proof])


def test_standard_merkle_tree_hashes_every_typed_leaf_kind_as_we_do() -> None:
    """``StandardMerkleTree.of(values, encoding)``: leaf = keccak256(keccak256(abi.encode(...))), same tree shape."""
    metrics = [("acc", merkle.scale_metric(0.9 + i / 1000), i) for i in range(7)] + [("loss", -(10**17), 0)]
    sha = bytes(range(32))
    pid = merkle.pipeline_id("p")
    kinds: list[tuple[list[str], list[list[Any]], list[bytes]]] = [
        (
            ["bytes32", "string", "int256", "uint256"],
            [[hx(merkle.kind_tag("metric")), n, str(v), str(s)] for n, v, s in metrics],
            [merkle.metric_leaf(n, v, s) for n, v, s in metrics],
        ),
        (
            ["bytes32", "string", "string"],
            [[hx(merkle.kind_tag("param")), f"p{i}", f'"{i}"'] for i in range(5)],
            [merkle.text_leaf("param", f"p{i}", f'"{i}"') for i in range(5)],
        ),
        (
            ["bytes32", "string", "bytes32", "uint256", "string", "string"],
            [[hx(merkle.kind_tag("artifact")), f"m{i}.pkl", hx(sha), str(i), "bafy", "{}"] for i in range(3)],
            [merkle.artifact_leaf(f"m{i}.pkl", sha, i, "bafy", "{}") for i in range(3)],
        ),
        (
            ["bytes32", "bytes32", "uint64", "string"],
            [[hx(merkle.kind_tag("run")), hx(pid), str(7), '{"id":7}']],
            [merkle.run_leaf(pid, 7, '{"id":7}')],
        ),
    ]
    reply = openzeppelin({"standard": [{"encoding": enc, "values": values} for enc, values, _ in kinds]})
    for (_, _, leaves), theirs in zip(kinds, reply["standard"], strict=True):
        assert theirs["leafHashes"] == [hx(leaf) for leaf in leaves]
        assert theirs["root"] == hx(merkle.MerkleTree(leaves).root)


def test_the_contract_accepts_the_librarys_proofs(peer_trees: dict[int, Any], registry_env: RegistryEnv) -> None:
    reg = registry_env.registry
    counts = [5, 7, 9, 33, 1000]
    reg.anchor_runs(
        [AnchorRequest(PIPELINE, run_id, peer_trees[n][1].root, f"bafy-{n}") for run_id, n in enumerate(counts, 1)]
    )
    for run_id, count in enumerate(counts, 1):
        leaves, _, theirs = peer_trees[count]
        proven = list(zip(_indices(count), theirs["proofs"], strict=True))
        for index, their_proof in proven if count < 100 else random.Random(1).sample(proven, 40):
            assert reg.verify_proof(PIPELINE, run_id, leaves[index], [unhex(p) for p in their_proof])
        wrong_run = run_id % len(counts) + 1
        first = leaves[_indices(count)[0]]
        assert not reg.verify_proof(PIPELINE, wrong_run, first, [unhex(p) for p in theirs["proofs"][0]])
