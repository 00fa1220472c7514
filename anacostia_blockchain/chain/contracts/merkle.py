"""Leaf encodings and the sorted-pair keccak Merkle tree shared with ``RunRegistry.verifyProof``.

Design (written out with examples in ``docs/anchoring.md``):

* **Leaves are domain-separated and double-hashed**, like OpenZeppelin's ``StandardMerkleTree``::

      leaf = keccak256(keccak256(abi.encode(bytes32 KIND, ...fields)))

  ``KIND`` is ``keccak256("anacostia.leaf.<kind>.v1")``, so a param can never be passed off as a metric, and the
  64-byte preimage of an inner node can never be a leaf preimage (second-preimage safety).
* **Metric leaves are typed** — ``(KIND_metric, string name, int256 value, uint256 step)`` with ``value`` the metric
  scaled by 1e18 (:func:`scale_metric`) — so a contract can check a metric's *value* (``RunRegistry.verifyMetric``).
  Other entries are ``(KIND, string key, string canonicalJson)``; artifacts carry their sha256, size and CID as
  typed fields; the run leaf binds ``pipelineId`` and ``runId``.
* **Inner nodes hash the sorted pair**: ``keccak256(min(a, b) || max(a, b))`` (OpenZeppelin ``MerkleProof``), so a
  proof is just the list of sibling hashes with no left/right flags.
* **Tree shape** (:class:`MerkleTree`): exactly ``@openzeppelin/merkle-tree``'s ``SimpleMerkleTree`` /
  ``StandardMerkleTree``: leaves sorted by hash (the root does not depend on the order items were logged), laid out
  as a complete binary tree in one array of ``2n - 1`` nodes — node ``i`` hashes nodes ``2i + 1`` and ``2i + 2``,
  leaf ``k`` of the sorted list sits at index ``2n - 2 - k``, the root at index 0. So
  ``SimpleMerkleTree.of(leaves).root`` is our root for every leaf count, and the proofs of both verify in either.
  A one-leaf tree's root is the leaf. :class:`OddPromotedMerkleTree` is the layout of manifest format 1 (pairs
  level by level, an odd node at the end of a level promoted unchanged), kept so those anchors still verify.

Pure Python on eth-abi / eth-utils; no RPC.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache
from typing import Any, ClassVar

from eth_abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_utils import keccak

from ...errors import ConfigurationError, MetricValueError, ValidationError

METRIC_SCALE = 10**18
INT256_MIN = -(2**255)
INT256_MAX = 2**255 - 1
UINT64_MAX = 2**64 - 1

#: The leaf kinds a run manifest uses. Their tags are ``keccak256("anacostia.leaf.<kind>.v1")``.
LEAF_KINDS = ("run", "node", "metric", "param", "tag", "artifact", "lineage", "entry")


@cache
def kind_tag(kind: str) -> bytes:
    """The 32-byte domain tag of a leaf kind (``RunRegistry.METRIC_LEAF_KIND`` is ``kind_tag("metric")``)."""
    if kind not in LEAF_KINDS:
        raise ValidationError(f"unknown leaf kind {kind!r}; expected one of {', '.join(LEAF_KINDS)}")
    return keccak(text=f"anacostia.leaf.{kind}.v1")


def pipeline_id(name: str) -> bytes:
    """``keccak256(bytes(name))`` (UTF-8): the ``bytes32 pipelineId`` the registry keys runs by."""
    if not name:
        raise ConfigurationError("a pipeline name must not be empty")
    return keccak(text=name)


def scale_metric(value: Any) -> int:
    """A metric as the int256 the chain sees: ``value * 1e18``, computed exactly in decimal.

    Floats go through ``Decimal(repr(x))`` — the shortest decimal that round-trips, i.e. what the user saw — so
    ``0.1`` becomes exactly ``10**17`` (not the binary float's 0.1000000000000000055...). Digits beyond 18 decimals
    are rounded half-to-even. Ints and ``Decimal`` are exact. NaN, infinities, bools, non-numbers and values outside
    int256 raise :class:`MetricValueError`.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise MetricValueError(f"a metric must be an int, float or Decimal, got {type(value).__name__}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MetricValueError(f"a metric must be finite to be anchored, got {value!r}")
        value = Decimal(repr(value))
    elif isinstance(value, Decimal) and not value.is_finite():
        raise MetricValueError(f"a metric must be finite to be anchored, got {value!r}")
    try:
        scaled = int((Decimal(value) * METRIC_SCALE).to_integral_value(rounding=ROUND_HALF_EVEN))
    except (InvalidOperation, OverflowError) as exc:
        raise MetricValueError(f"metric {value!r} cannot be scaled to int256") from exc
    if not INT256_MIN <= scaled <= INT256_MAX:
        raise MetricValueError(f"metric {value!r} scaled by 1e18 does not fit in int256")
    return scaled


def unscale_metric(scaled: int) -> Decimal:
    """The exact decimal a scaled metric stands for (``scale_metric`` inverted, up to its rounding)."""
    return Decimal(scaled) / METRIC_SCALE


def _leaf(kind: str, types: Sequence[str], values: Sequence[Any]) -> bytes:
    try:
        encoded = abi_encode(["bytes32", *types], [kind_tag(kind), *values])
    except EncodingError as exc:  # a field of the wrong type or out of range (e.g. from a malformed manifest)
        raise ValidationError(f"cannot encode a {kind} leaf: {exc}") from exc
    return keccak(keccak(encoded))


def metric_leaf(name: str, scaled_value: int, step: int) -> bytes:
    """``(KIND_metric, string name, int256 value, uint256 step)`` — identical to ``RunRegistry.metricLeaf``."""
    if not INT256_MIN <= scaled_value <= INT256_MAX:
        raise MetricValueError(f"metric value {scaled_value} is outside int256")
    if step < 0:
        raise ValidationError(f"metric step must be >= 0, got {step}")
    return _leaf("metric", ["string", "int256", "uint256"], [name, scaled_value, step])


def text_leaf(kind: str, key: str, canonical_json: str) -> bytes:
    """``(KIND, string key, string canonicalJson)`` for params, tags, node results, lineage and other entries."""
    return _leaf(kind, ["string", "string"], [key, canonical_json])


def artifact_leaf(key: str, sha256: bytes, size: int, cid: str, canonical_json: str) -> bytes:
    """``(KIND_artifact, string key, bytes32 sha256, uint256 size, string cid, string canonicalJsonOfTheRest)``."""
    if len(sha256) != 32:
        raise ValidationError(f"artifact {key!r}: sha256 must be 32 bytes, got {len(sha256)}")
    if size < 0:
        raise ValidationError(f"artifact {key!r}: size must be >= 0, got {size}")
    return _leaf(
        "artifact", ["string", "bytes32", "uint256", "string", "string"], [key, sha256, size, cid, canonical_json]
    )


def run_leaf(pipeline: bytes, run_id: int, canonical_json: str) -> bytes:
    """``(KIND_run, bytes32 pipelineId, uint64 runId, string canonicalJsonOfTheRunRow)``: binds the tree to its run."""
    if not 0 <= run_id <= UINT64_MAX:
        raise ValidationError(f"run id {run_id} does not fit in uint64")
    return _leaf("run", ["bytes32", "uint64", "string"], [pipeline, run_id, canonical_json])


def keccak_hex(text: str) -> str:
    """keccak256 of UTF-8 text as lower-case hex without 0x (stable short ids for manifest keys)."""
    return keccak(text=text).hex()


def hash_pair(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin ``Hashes.commutativeKeccak256``: keccak of the sorted pair."""
    return keccak(a + b) if a < b else keccak(b + a)


class SortedPairTree(ABC):
    """A sorted-pair keccak tree over 32-byte leaves sorted by value; subclasses choose the layout."""

    #: The layout's name in reports (``anacostia-chain verify --json`` prints it as ``treeLayout``).
    layout: ClassVar[str]

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValidationError("a Merkle tree needs at least one leaf")
        for leaf in leaves:
            if len(leaf) != 32:
                raise ValidationError(f"a leaf must be 32 bytes, got {len(leaf)}")
        self.leaves: list[bytes] = sorted(leaves)
        self._index = {leaf: i for i, leaf in reversed(list(enumerate(self.leaves)))}

    @property
    @abstractmethod
    def root(self) -> bytes:
        """The tree's root."""

    def __contains__(self, leaf: object) -> bool:
        return leaf in self._index

    def _sorted_index(self, leaf: bytes) -> int:
        try:
            return self._index[leaf]
        except KeyError:
            raise ValidationError(f"leaf 0x{leaf.hex()} is not in this tree") from None

    @abstractmethod
    def proof(self, leaf: bytes) -> list[bytes]:
        """Sibling hashes from ``leaf`` up to the root (what ``MerkleProof.verify`` takes)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(leaves={len(self.leaves)}, root=0x{self.root.hex()})"


class MerkleTree(SortedPairTree):
    """OpenZeppelin's layout (``@openzeppelin/merkle-tree``): a complete binary tree in one array.

    :attr:`nodes` is the library's ``tree`` array: ``nodes[0]`` is the root, node ``i`` is
    ``hash_pair(nodes[2i + 1], nodes[2i + 2])``, and the ``k``-th smallest leaf is ``nodes[2n - 2 - k]``.
    """

    layout = "openzeppelin"

    def __init__(self, leaves: Sequence[bytes]) -> None:
        super().__init__(leaves)
        count = len(self.leaves)
        nodes = [b""] * (2 * count - 1)
        for k, leaf in enumerate(self.leaves):
            nodes[len(nodes) - 1 - k] = leaf
        for i in range(count - 2, -1, -1):
            nodes[i] = hash_pair(nodes[2 * i + 1], nodes[2 * i + 2])
        self.nodes: list[bytes] = nodes

    @property
    def root(self) -> bytes:
        return self.nodes[0]

    def proof(self, leaf: bytes) -> list[bytes]:
        """Sibling hashes from ``leaf`` up to the root (OpenZeppelin ``getProof``)."""
        index = len(self.nodes) - 1 - self._sorted_index(leaf)
        proof: list[bytes] = []
        while index > 0:
            proof.append(self.nodes[index + 1 if index % 2 else index - 1])
            index = (index - 1) // 2
        return proof


class OddPromotedMerkleTree(SortedPairTree):
    """Sorted leaves paired level by level; an odd node at the end of a level moves up unchanged (manifest format 1).

    Same root as :class:`MerkleTree` for 1, 2, 3, 4, 6 and 8 leaves (among others), a different one for 5, 7, 9...
    """

    layout = "odd-promoted"

    def __init__(self, leaves: Sequence[bytes]) -> None:
        super().__init__(leaves)
        self.layers: list[list[bytes]] = [self.leaves]
        while len(self.layers[-1]) > 1:
            level = self.layers[-1]
            upper = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                upper.append(level[-1])
            self.layers.append(upper)

    @property
    def root(self) -> bytes:
        return self.layers[-1][0]

    def proof(self, leaf: bytes) -> list[bytes]:
        index = self._sorted_index(leaf)
        proof: list[bytes] = []
        for level in self.layers[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root a proof leads to (OpenZeppelin ``MerkleProof.processProof``)."""
    computed = leaf
    for sibling in proof:
        computed = hash_pair(computed, sibling)
    return computed


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """Off-chain twin of ``MerkleProof.verify`` / ``RunRegistry.verifyProof``."""
    return process_proof(leaf, proof) == root
