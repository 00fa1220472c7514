"""Fixed-size chunking of a binary stream into one reused buffer.

The importer never holds more than one chunk of file content: :func:`iter_chunks` fills a single ``bytearray``
with ``readinto`` and yields a ``memoryview`` of it, so the consumer must finish with a chunk (hash it, write it)
before asking for the next one. A short read from a pipe or socket does not end a chunk early: chunks are exactly
``chunk_size`` bytes except the last, which is what makes the CID independent of how the bytes arrived.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO


def iter_chunks(stream: BinaryIO, chunk_size: int) -> Iterator[memoryview]:
    """Yield successive full chunks of ``stream`` (the last may be shorter; an empty stream yields nothing)."""
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    readinto = getattr(stream, "readinto", None)
    while True:
        filled = 0
        while filled < chunk_size:
            if readinto is not None:
                got = readinto(view[filled:])
            else:
                data = stream.read(chunk_size - filled)
                got = len(data) if data else 0
                view[filled : filled + got] = data if got else b""
            if not got:
                break
            filled += got
        if filled == 0:
            return
        yield view[:filled]
        if filled < chunk_size:
            return


def iter_bytes_chunks(data: bytes | bytearray | memoryview, chunk_size: int) -> Iterator[memoryview]:
    """Chunks of an in-memory buffer, without copying."""
    view = memoryview(data).cast("B") if not isinstance(data, memoryview) else data.cast("B")
    for start in range(0, len(view), chunk_size):
        yield view[start : start + chunk_size]
