"""Glob patterns with named capture groups (``plates/{plate}/{well}.tif``)."""

from __future__ import annotations

import pickle

import pytest

from anacostia_blockchain.engine import Artifact, ArtifactState
from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.resources.datums import Datum, GlobPattern


def test_captures_one_segment_per_group() -> None:
    glob = GlobPattern("plates/{plate}/{well}.tif")
    assert glob.groups == ("plate", "well")
    assert glob.match("plates/P1/A01.tif") == {"plate": "P1", "well": "A01"}
    assert glob.match("plates/P1/extra/A01.tif") is None  # a capture never spans a '/'
    assert glob.match("plates/P1/A01.tiff") is None  # the whole path must match
    assert glob.match("other/P1/A01.tif") is None


def test_wildcards() -> None:
    assert GlobPattern("**/{name}.csv").match("a/b/c.csv") == {"name": "c"}
    assert GlobPattern("**/{name}.csv").match("c.csv") == {"name": "c"}
    assert GlobPattern("*.txt").match("notes.txt") == {}
    assert GlobPattern("*.txt").match("dir/notes.txt") is None
    assert GlobPattern("run-{n}-*.log").match("run-7-x.log") == {"n": "7"}
    assert GlobPattern("a.b+c/{x}").match("a.b+c/1") == {"x": "1"}  # regex characters are literal
    assert GlobPattern("a.b+c/{x}").match("aXb+c/1") is None


@pytest.mark.parametrize("pattern, message", [
    ("", "non-empty relative"),
    ("/abs/{x}", "non-empty relative"),
    ("a/{x", "unbalanced"),
    ("a/{}/b", "unbalanced"),
    ("{x}/{x}", "captures 'x' twice"),
])
def test_bad_patterns_are_one_line_configuration_errors(pattern: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        GlobPattern(pattern)


def test_a_datum_is_plain_picklable_data_with_a_stable_unit() -> None:
    artifact = Artifact(7, "images", "plates/P1/A01.tif", "ab" * 32, 3, ArtifactState.OLD, 1.0, cid="bafk")
    datum = Datum((("plate", "P1"), ("well", "A01")), (("images", artifact), ("masks", None)))
    copy = pickle.loads(pickle.dumps(datum))
    assert copy == datum and copy.artifact("images") == artifact and copy.artifact("masks") is None
    assert datum.name == "images=plates/P1/A01.tif"
    unit = datum.unit()
    assert unit.name == datum.name and unit.inputs == (artifact,)
    assert unit.params == {"datum": {"groups": {"plate": "P1", "well": "A01"}, "inputs": ["images"]}}
    with pytest.raises(KeyError, match="no input 'labels'"):
        datum.artifact("labels")
