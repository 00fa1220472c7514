"""The contract "a place that stores UnixFS content", so resource nodes can switch backend by configuration.

:class:`EmbeddedBlockstore` (default, no daemon) and :class:`KuboClient` both satisfy :class:`ContentStore`; code that
only puts or fetches bytes by CID asks for the narrower :class:`BytesByCid`.
:func:`open_content_store` builds one from a configuration string:

- ``"embedded"`` → ``$ANACOSTIA_IPFS_PATH`` or ``~/.anacostia/ipfs``; ``"embedded:/some/dir"`` or a plain path
- ``"http://host:5001"`` / ``"https://…"`` / ``"kubo:http://…"`` → a Kubo daemon's RPC API
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import ConfigurationError
from .cid import CID
from .importer import ImportResult

DEFAULT_REPO = "~/.anacostia/ipfs"


@runtime_checkable
class BytesByCid(Protocol):
    """Bytes put and fetched by CID: what manifests, metadata documents and their readers need of a store."""

    def add_bytes(self, data: bytes | bytearray | memoryview, *, pin: bool = True, **options: Any) -> ImportResult: ...

    def cat(self, cid_or_path: CID | str) -> bytes: ...


@runtime_checkable
class ContentStore(BytesByCid, Protocol):
    """A whole UnixFS store: :class:`BytesByCid` plus files, streams, pins and CAR export."""

    def add_path(self, path: str | os.PathLike[str], *, pin: bool = True, **options: Any) -> ImportResult: ...

    def cat_stream(self, cid_or_path: CID | str) -> Iterator[bytes]: ...

    def has(self, cid: CID | str) -> bool: ...

    def pin(self, cid: CID | str) -> CID: ...

    def unpin(self, cid: CID | str) -> None: ...

    def pins(self) -> set[CID]: ...

    def export_car(self, cid: CID | str, destination: str | os.PathLike[str]) -> int: ...


def default_repo_path() -> Path:
    return Path(os.environ.get("ANACOSTIA_IPFS_PATH") or DEFAULT_REPO).expanduser()


def open_content_store(spec: str | None = None, **kwargs: object) -> ContentStore:
    """A store from a configuration string (see the module docstring); ``kwargs`` go to the constructor."""
    from .blockstore import EmbeddedBlockstore
    from .kubo import KuboClient

    spec = (spec or "embedded").strip()
    if spec.startswith("kubo:"):
        spec = spec[len("kubo:") :]
        if not spec.startswith(("http://", "https://")):
            raise ConfigurationError(f"kubo backend needs an http(s) URL, got {spec!r}")
    if spec.startswith(("http://", "https://")):
        return KuboClient(spec, **kwargs)  # type: ignore[arg-type]
    if spec == "embedded":
        return EmbeddedBlockstore(default_repo_path(), **kwargs)  # type: ignore[arg-type]
    if spec.startswith("embedded:"):
        spec = spec[len("embedded:") :]
    if not spec:
        raise ConfigurationError("empty content store path")
    return EmbeddedBlockstore(spec, **kwargs)  # type: ignore[arg-type]
