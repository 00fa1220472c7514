"""Reading what Kubo's ``dag/export`` streams: a CAR parsed as it arrives, checked root, every block re-hashed.

:func:`open_exported_car` is the one place that turns the daemon's byte stream into a verified :class:`CarReader`
and rejects a CAR exported for another root; :meth:`KuboClient.export_car <.kubo.KuboClient.export_car>` copies it,
and :class:`ExportedBlocks` feeds its blocks to the UnixFS reader for ``cat``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO, cast

from ..errors import CorruptBlockError, RemoteUnavailableError
from .car import CarReader
from .cid import CID

if TYPE_CHECKING:
    from .kubo import KuboClient


class ChunkStreamReader:
    """A read(n) file view over an iterator of byte chunks (to parse a streamed CAR without buffering it)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out


def open_exported_car(chunks: Iterator[bytes], root: CID) -> CarReader:
    """A verifying :class:`CarReader` over a streamed ``dag/export`` of ``root``; another root is corruption."""
    reader = CarReader(cast(BinaryIO, ChunkStreamReader(chunks)))
    if reader.roots != [root]:
        raise CorruptBlockError(f"Kubo exported a CAR with roots {reader.roots}, expected [{root}]")
    return reader


class ExportedBlocks:
    """Blocks of one ``dag/export`` stream, handed out in the depth-first order the UnixFS reader asks for them.

    Kubo exports each block once, so a block that repeats in the DAG (identical chunks) is not in the stream the
    second time: it comes from a small cache of recent blocks or, failing that, from a verified ``block/get``.
    Every block from the CAR is re-hashed by the CAR reader before it is used.

    If the export stream breaks (connection cut, read timeout: :class:`RemoteUnavailableError`) the blocks still
    due come one by one from ``block/get``, which is retried like every idempotent call — a flaky connection slows
    a read down instead of failing it. A daemon that reports an error (``X-Stream-Error``) still fails the read.
    """

    CACHE = 32

    def __init__(self, client: KuboClient, root: CID) -> None:
        self._client = client
        self._blocks: Iterator[tuple[CID, bytes]] | None = None
        try:
            reader = open_exported_car(client.dag_export(root), root)
        except RemoteUnavailableError:
            pass  # the stream broke before its header: every block comes from block/get
        else:
            self._blocks = iter(reader)
        self._next: tuple[CID, bytes] | None = None
        self._seen: set[bytes] = set()
        self._cache: dict[bytes, bytes] = {}

    def _peek(self) -> tuple[CID, bytes] | None:
        if self._next is None and self._blocks is not None:
            try:
                self._next = next(self._blocks, None)
            except RemoteUnavailableError:
                self._blocks = None  # the stream broke: the remaining blocks come from block/get
        return self._next

    def get(self, cid: CID) -> bytes:
        key = cid.multihash
        upcoming = self._peek()
        if upcoming is not None and upcoming[0].multihash == key:
            self._next = None
            data = upcoming[1]
        elif key in self._cache:
            return self._cache[key]
        elif key in self._seen or self._blocks is None:
            data = self._client.get_block(cid)
        else:
            found = "the end of the stream" if upcoming is None else str(upcoming[0])
            raise CorruptBlockError(f"Kubo's dag/export sent {found} where {cid} was due")
        self._seen.add(key)
        self._cache[key] = data
        if len(self._cache) > self.CACHE:
            del self._cache[next(iter(self._cache))]
        return data
