"""The pure-Python Merkle trees (OpenZeppelin's layout and format 1's), leaf encodings and metric scaling (no chain).

``tests/anchoring/test_openzeppelin_merkle.py`` checks the layout against ``@openzeppelin/merkle-tree`` itself.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from anacostia_blockchain.chain.contracts import merkle
from anacostia_blockchain.errors import MetricValueError, ValidationError


def _leaves(n: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(32) for _ in range(n)]


LAYOUTS = [merkle.MerkleTree, merkle.OddPromotedMerkleTree]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.layout)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 1000])
def test_every_leaf_proves_against_the_root(layout: type[merkle.SortedPairTree], n: int) -> None:
    leaves = _leaves(n)
    tree = layout(leaves)
    for leaf in leaves:
        proof = tree.proof(leaf)
        assert merkle.verify_proof(tree.root, leaf, proof)
        assert len(proof) <= max(1, n - 1).bit_length()


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.layout)
def test_root_ignores_leaf_order(layout: type[merkle.SortedPairTree]) -> None:
    leaves = _leaves(9)
    assert layout(leaves).root == layout(list(reversed(leaves))).root
    assert layout(leaves[:1]).root == leaves[0]


def test_openzeppelin_layout_matches_a_hand_built_complete_tree() -> None:
    """Five sorted leaves s0..s4 sit at array indices 8..4; node i hashes nodes 2i+1 and 2i+2."""
    s = sorted(_leaves(5))
    h = merkle.hash_pair
    tree = merkle.MerkleTree(list(reversed(s)))
    assert tree.nodes[4:] == [s[4], s[3], s[2], s[1], s[0]]
    assert tree.nodes[:4] == [
        h(h(h(s[0], s[1]), s[4]), h(s[2], s[3])),
        h(h(s[0], s[1]), s[4]),
        h(s[2], s[3]),
        h(s[0], s[1]),
    ]
    assert tree.proof(s[0]) == [s[1], s[4], h(s[2], s[3])]
    assert tree.proof(s[4]) == [h(s[0], s[1]), h(s[2], s[3])]


def test_odd_promoted_layout_matches_a_hand_built_tree() -> None:
    s = sorted(_leaves(5))
    h = merkle.hash_pair
    tree = merkle.OddPromotedMerkleTree(s)
    assert tree.root == h(h(h(s[0], s[1]), h(s[2], s[3])), s[4])
    assert tree.proof(s[4]) == [h(h(s[0], s[1]), h(s[2], s[3]))]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.layout)
def test_a_wrong_leaf_or_a_changed_sibling_does_not_verify(layout: type[merkle.SortedPairTree]) -> None:
    leaves = _leaves(10)
    tree = layout(leaves)
    proof = tree.proof(leaves[3])
    assert not merkle.verify_proof(tree.root, leaves[4], proof)
    broken = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    assert not merkle.verify_proof(tree.root, leaves[3], broken)
    with pytest.raises(ValidationError, match="not in this tree"):
        tree.proof(b"\x01" * 32)


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.layout)
def test_empty_and_malformed_trees_are_rejected(layout: type[merkle.SortedPairTree]) -> None:
    with pytest.raises(ValidationError, match="at least one leaf"):
        layout([])
    with pytest.raises(ValidationError, match="32 bytes"):
        layout([b"short"])


def test_hash_pair_is_commutative_keccak_of_the_sorted_pair() -> None:
    a, b = sorted(_leaves(2))
    assert merkle.hash_pair(a, b) == merkle.hash_pair(b, a) == keccak(a + b)


def test_metric_leaf_is_the_double_hash_of_the_domain_separated_abi_encoding() -> None:
    kind = keccak(text="anacostia.leaf.metric.v1")
    inner = keccak(abi_encode(["bytes32", "string", "int256", "uint256"], [kind, "loss", -5 * 10**17, 3]))
    assert merkle.metric_leaf("loss", -5 * 10**17, 3) == keccak(inner)
    # domain separation: the same name/value as a param is a different leaf
    assert merkle.text_leaf("param", "loss", "-0.5") != merkle.metric_leaf("loss", -5 * 10**17, 3)
    assert merkle.kind_tag("metric") == kind


@pytest.mark.parametrize(
    ("value", "scaled"),
    [
        (0.1, 10**17),
        (1, 10**18),
        (-2.5, -25 * 10**17),
        (0.30000000000000004, 300000000000000040),
        (1e-18, 1),
        (5e-19, 0),  # half-to-even: 0.5 -> 0
        (1.5e-18, 2),  # 1.5 -> 2
        (Decimal("123.456"), 123456 * 10**15),
        (10**40, 10**58),
    ],
)
def test_scale_metric_is_exact_decimal_with_half_even_rounding(value: object, scaled: int) -> None:
    assert merkle.scale_metric(value) == scaled


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), True, "0.1", None, 10**60])
def test_scale_metric_rejects_what_cannot_be_anchored(bad: object) -> None:
    with pytest.raises(MetricValueError):
        merkle.scale_metric(bad)


def test_pipeline_id_is_keccak_of_the_utf8_name() -> None:
    assert merkle.pipeline_id("fraud-model") == keccak(b"fraud-model")
    assert merkle.pipeline_id("modèle") == keccak("modèle".encode())
    with pytest.raises(Exception, match="must not be empty"):
        merkle.pipeline_id("")


def test_leaf_inputs_are_validated() -> None:
    with pytest.raises(ValidationError, match="uint64"):
        merkle.run_leaf(b"\x00" * 32, 2**64, "{}")
    with pytest.raises(ValidationError, match="32 bytes"):
        merkle.artifact_leaf("a.bin", b"\x00" * 31, 1, "", "{}")
    with pytest.raises(ValidationError, match="unknown leaf kind"):
        merkle.text_leaf("secret", "k", "v")
    with pytest.raises(ValidationError, match="step"):
        merkle.metric_leaf("loss", 1, -1)
