"""Types shared across the service's packages: what workers tell their listeners, and how a run manifest is checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Called by a worker (indexer, metadata fetcher) with a JSON-able event after each change it committed.
Listener = Callable[[dict[str, Any]], None]

#: ``(manifest_cid, anchored_root, pipeline_id, run_id) -> None``: raises an ``AnacostiaError`` when the manifest does
#: not verify, a ``StorageError`` when it cannot be fetched (see ``run_verification.py``).
ManifestVerifier = Callable[[str, str | None, str, int], None]
