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
MOVED_CHAIN: dict[str, str] = {
    "anacostia_blockchain.chain.abi_types": "anacostia_blockchain.chain.abi.types",
    "anacostia_blockchain.chain.client": "anacostia_blockchain.chain.rpc.client",
    "anacostia_blockchain.chain.compiler": "anacostia_blockchain.chain.dev.compiler",
    "anacostia_blockchain.chain.contract": "anacostia_blockchain.chain.abi.contract",
    "anacostia_blockchain.chain.deploy": "anacostia_blockchain.chain.dev.deploy",
    "anacostia_blockchain.chain.deploy_plan": "anacostia_blockchain.chain.dev.deploy_plan",
    "anacostia_blockchain.chain.devnet": "anacostia_blockchain.chain.dev.devnet",
    "anacostia_blockchain.chain.event_reader": "anacostia_blockchain.chain.abi",
    "anacostia_blockchain.chain.failed_tx": "anacostia_blockchain.chain.tx.failed_tx",
    "anacostia_blockchain.chain.fees": "anacostia_blockchain.chain.tx.fees",
    "anacostia_blockchain.chain.gas_limits": "anacostia_blockchain.chain.tx.gas_limits",
    "anacostia_blockchain.chain.http_transport": "anacostia_blockchain.chain.rpc.http_poster",
    "anacostia_blockchain.chain.marketplace": "anacostia_blockchain.chain.contracts.marketplace",
    "anacostia_blockchain.chain.merkle": "anacostia_blockchain.chain.contracts.merkle",
    "anacostia_blockchain.chain.model_nft": "anacostia_blockchain.chain.contracts.model_nft",
    "anacostia_blockchain.chain.model_versions": "anacostia_blockchain.chain.contracts.model_versions",
    "anacostia_blockchain.chain.nonce": "anacostia_blockchain.chain.tx.nonce",
    "anacostia_blockchain.chain.pending": "anacostia_blockchain.chain.tx.pending",
    "anacostia_blockchain.chain.personal_sign": "anacostia_blockchain.chain.tx.personal_sign",
    "anacostia_blockchain.chain.price_feed": "anacostia_blockchain.chain.contracts.price_feed",
    "anacostia_blockchain.chain.pytest_plugin": "anacostia_blockchain.chain.dev.pytest_plugin",
    "anacostia_blockchain.chain.receipt": "anacostia_blockchain.chain.rpc.receipt",
    "anacostia_blockchain.chain.receipt_logs": "anacostia_blockchain.chain.abi.events",
    "anacostia_blockchain.chain.revert": "anacostia_blockchain.chain.abi.revert",
    "anacostia_blockchain.chain.rlp_encoding": "anacostia_blockchain.chain.tx.rlp_encoding",
    "anacostia_blockchain.chain.run_registry": "anacostia_blockchain.chain.contracts.run_registry",
    "anacostia_blockchain.chain.signer": "anacostia_blockchain.chain.tx.signer",
    "anacostia_blockchain.chain.story_devnet": "anacostia_blockchain.chain.dev.story_devnet",
    "anacostia_blockchain.chain.story_terms": "anacostia_blockchain.chain.story.terms",
}

#: Moved modules below ``anacostia_blockchain.service`` (and what moved out of it).
MOVED_SERVICE: dict[str, str] = {
    "anacostia_blockchain.service.api_auth": "anacostia_blockchain.service.api.auth",
    "anacostia_blockchain.service.api_market": "anacostia_blockchain.service.api.market",
    "anacostia_blockchain.service.api_models": "anacostia_blockchain.service.api.bodies",
    "anacostia_blockchain.service.api_runs": "anacostia_blockchain.service.api.runs",
    "anacostia_blockchain.service.app": "anacostia_blockchain.service.api.app",
    "anacostia_blockchain.service.index_migration": "anacostia_blockchain.service.index.migrations",
    "anacostia_blockchain.service.index_schema": "anacostia_blockchain.service.index.schema",
    "anacostia_blockchain.service.indexer": "anacostia_blockchain.service.index.indexer",
    "anacostia_blockchain.service.keystore": "anacostia_blockchain.service.auth.keystore",
    "anacostia_blockchain.service.listing_json": "anacostia_blockchain.service.index.listing_json",
    "anacostia_blockchain.service.live": "anacostia_blockchain.service.dashboard.live",
    "anacostia_blockchain.service.metadata_fetcher": "anacostia_blockchain.service.index.metadata_fetcher",
    "anacostia_blockchain.service.model_listing": "anacostia_blockchain.service.index.listing",
    "anacostia_blockchain.service.pipeline_monitor": "anacostia_blockchain.service.dashboard.monitor",
    "anacostia_blockchain.service.projection": "anacostia_blockchain.service.index.projection",
    "anacostia_blockchain.service.queries": "anacostia_blockchain.service.index.queries",
    "anacostia_blockchain.service.ratelimit": "anacostia_blockchain.service.middleware.ratelimit",
    "anacostia_blockchain.service.ratelimit_redis": "anacostia_blockchain.service.middleware.ratelimit_redis",
    "anacostia_blockchain.service.request_limit": "anacostia_blockchain.service.middleware.request_limit",
    "anacostia_blockchain.service.response_cache": "anacostia_blockchain.service.middleware.response_cache",
    "anacostia_blockchain.service.siwe": "anacostia_blockchain.siwe",
}

#: Moved modules below ``anacostia_blockchain.metadata`` and ``anacostia_blockchain.resources``.
MOVED_METADATA: dict[str, str] = {
    "anacostia_blockchain.metadata.sql_connection": "anacostia_blockchain.sql",
    "anacostia_blockchain.metadata.sql_store": "anacostia_blockchain.metadata",
    "anacostia_blockchain.metadata.outbox": "anacostia_blockchain.outbox",
    "anacostia_blockchain.metadata.outbox_worker": "anacostia_blockchain.outbox",
    "anacostia_blockchain.metadata.manifest": "anacostia_blockchain.anchoring.manifest",
    "anacostia_blockchain.metadata.manifest_archive": "anacostia_blockchain.anchoring.archive",
    "anacostia_blockchain.metadata.anchor_sender": "anacostia_blockchain.anchoring.sender",
    "anacostia_blockchain.metadata.anchor_finality": "anacostia_blockchain.anchoring.finality",
    "anacostia_blockchain.metadata.run_verifier": "anacostia_blockchain.anchoring.verifier",
}

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
