"""Run manifests are fetched from IPFS by CID and are untrusted until their root matches the anchor: whatever bytes
arrive, ``RunManifest.from_bytes`` either returns a manifest whose Merkle root can be computed or raises a
:class:`ValidationError` — never a ``KeyError``, ``TypeError``, ``OverflowError``, ``RecursionError``, an eth-abi
encoding error or a ``ConfigurationError`` from deeper down — and any change to what a genuine manifest commits to
changes its root or is refused (item keys are labels: see ``test_any_flipped_byte_is_refused_or_changes_the_root``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anacostia_blockchain.anchoring.manifest import RunManifest
from anacostia_blockchain.errors import ValidationError

GENUINE = RunManifest.from_export("hostile-manifest", 42, {
    "metrics": [{"name": "accuracy", "value": 0.93, "step": 1}, {"name": "loss", "value": -0.25, "step": 1}],
    "params": {"lr": 0.01, "epochs": 3},
    "notes": ["trained on a Tuesday"],
})
GENUINE_BYTES = GENUINE.to_bytes()
GENUINE_DOC = json.loads(GENUINE_BYTES)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _parse(data: bytes) -> RunManifest | None:
    try:
        manifest = RunManifest.from_bytes(data)
    except ValidationError as exc:
        assert str(exc)
        return None
    assert len(manifest.root) == 32
    return manifest


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, len(GENUINE_BYTES) - 1), flip=st.integers(1, 255))
def test_any_flipped_byte_is_refused_or_changes_the_root(position: int, flip: int) -> None:
    damaged = bytearray(GENUINE_BYTES)
    damaged[position] ^= flip
    parsed = _parse(bytes(damaged))
    if parsed is not None and parsed.root == GENUINE.root:
        # Only an item's key may change without changing the root: keys are lookup labels derived from the
        # committed fields (the CID of the anchored bytes protects them); everything a reader uses is committed.
        assert _committed(parsed) == _committed(GENUINE)


def _committed(manifest: RunManifest) -> tuple[Any, ...]:
    return manifest.pipeline, manifest.run_id, sorted((i.kind, json.dumps(dict(i.fields), sort_keys=True))
                                                      for i in manifest.items)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


PATHS = _paths(GENUINE_DOC)


@settings(max_examples=400, deadline=None)
@given(path=st.sampled_from(PATHS), value=json_values, drop=st.booleans())
def test_any_field_replaced_or_removed_is_refused_or_parses_cleanly(path: tuple[Any, ...], value: Any,
                                                                     drop: bool) -> None:
    doc = json.loads(GENUINE_BYTES)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    _parse(json.dumps(doc).encode())


@pytest.mark.parametrize("data", [
    b"", b"null", b"[]", b'"manifest"', b"1e400", b"[" * 300_000 + b"]" * 300_000,
    json.dumps({**GENUINE_DOC, "runId": "7"}).encode(),
    json.dumps({**GENUINE_DOC, "runId": 2**64}).encode(),
    json.dumps({**GENUINE_DOC, "runId": True}).encode(),
    json.dumps({**GENUINE_DOC, "pipeline": ""}).encode(),
    json.dumps({**GENUINE_DOC, "pipeline": ["a"]}).encode(),
    json.dumps({**GENUINE_DOC, "items": {"a": 1}}).encode(),
    json.dumps({**GENUINE_DOC, "items": [{"key": "metric:x", "kind": "metric", "fields": {"name": "x",
                                                                                           "value": "NaN"}}]}).encode(),
    json.dumps({**GENUINE_DOC, "items": []}).encode(),
    GENUINE_BYTES.replace(b'"runId":42', b'"runId":1e400'),
    b"\xff\xfe" + GENUINE_BYTES,
])
def test_malformed_manifests_are_validation_errors(data: bytes) -> None:
    with pytest.raises(ValidationError):
        RunManifest.from_bytes(data)
