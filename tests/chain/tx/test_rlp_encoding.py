"""Minimal RLP for the signer's hot path: byte-identical to the reference ``rlp`` package."""

from __future__ import annotations

import os
import random

import pytest
import rlp

from anacostia_blockchain.chain.tx import rlp_encoding


@pytest.mark.parametrize("seed", range(5))
def test_minimal_rlp_matches_the_reference_encoder(seed: int) -> None:
    rng = random.Random(seed)

    def item(depth: int) -> object:
        kind = rng.choice(["int", "bytes", "list"] if depth < 3 else ["int", "bytes"])
        if kind == "int":
            return rng.choice([0, 1, 0x7F, 0x80, 255, 256, 2**64, 2**256 - 1, rng.getrandbits(rng.randint(1, 256))])
        if kind == "bytes":
            return os.urandom(rng.choice([0, 1, 55, 56, 57, 300, 70_000]))
        return [item(depth + 1) for _ in range(rng.randint(0, 6))]

    for _ in range(50):
        value = item(0)
        assert rlp_encoding.encode(value) == rlp.encode(value)  # type: ignore[arg-type]
    assert rlp_encoding.encode(b"\x05") == b"\x05" and rlp_encoding.encode(0) == b"\x80"
    with pytest.raises(TypeError):
        rlp_encoding.encode(-1)
    with pytest.raises(TypeError):
        rlp_encoding.encode(True)
