"""Old import paths of moved modules keep working for one release, with a :class:`DeprecationWarning`.

Each table maps a module name that no longer exists on disk to the module that now holds the same names. The finder
below is appended to :data:`sys.meta_path` when the package is imported, so it is asked only after the normal path
finder found nothing: an existing module is never shadowed. Importing an old name returns the new module object itself
(so ``isinstance`` checks and monkeypatching see one module) and warns once per old name.

Code in this package never imports an old name; ``tests/test_compat.py`` imports every one and checks the warning.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections import ChainMap
from types import ModuleType

#: Moved modules below ``anacostia_blockchain.chain``.
MOVED_CHAIN: dict[str, str] = {}

#: Moved modules below ``anacostia_blockchain.service`` (and what moved out of it).
MOVED_SERVICE: dict[str, str] = {}

#: Moved modules below ``anacostia_blockchain.metadata`` and ``anacostia_blockchain.resources``.
MOVED_METADATA: dict[str, str] = {}

#: Every old module name -> its new home.
MOVED = ChainMap(MOVED_CHAIN, MOVED_SERVICE, MOVED_METADATA)

_PREFIX = "anacostia_blockchain."


class _AliasLoader(importlib.abc.Loader):
    """Loads an old module name as the already-importable new module."""

    def __init__(self, old: str, new: str) -> None:
        self.old = old
        self.new = new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(
            f"{self.old} has moved to {self.new}; the old import path will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(self.new)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the new module was executed when it was imported."""


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the old names listed in :data:`MOVED` and nothing else."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(_PREFIX):
            return None
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(fullname, new))


def install() -> None:
    """Append the finder to :data:`sys.meta_path` once per interpreter."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
