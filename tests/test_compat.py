"""Every old import path listed in the compatibility tables still imports, warns, and is the new module."""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest

from anacostia_blockchain import _compat


@pytest.mark.parametrize("old", sorted(_compat.MOVED))
def test_old_path_imports_the_new_module_with_a_warning(old: str) -> None:
    new = _compat.MOVED[old]
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in caught)


def test_the_finder_never_shadows_an_existing_module() -> None:
    finder = _compat.MovedModuleFinder()
    assert finder.find_spec("anacostia_blockchain.engine") is None
    assert finder.find_spec("json") is None


def test_old_paths_no_longer_exist_on_disk() -> None:
    for old in _compat.MOVED:
        sys.modules.pop(old, None)
        assert importlib.util.find_spec(old.rsplit(".", 1)[0]) is not None
        spec = importlib.machinery.PathFinder.find_spec(
            old, importlib.import_module(old.rsplit(".", 1)[0]).__path__
        )
        assert spec is None, f"{old} still exists on disk: remove it from the compatibility table"
