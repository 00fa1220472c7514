"""Progress of long commands (rich): a bar or a spinner on stderr, drawn only when stderr is a terminal.

When stderr is not a terminal (a pipe, a file, CI logs) nothing is drawn and nothing changes in what a command prints;
``TERM=dumb`` turns it off in a terminal too. A command opens one :class:`Progress` around its long work and calls
:meth:`Progress.advance` (bytes or items), :meth:`Progress.update` (the description) and :meth:`Progress.say` (a line
of the command's own output, printed above the bar when that output goes to the same terminal, else printed as is).
:class:`CountingReader` / :class:`CountingWriter` advance a progress from the bytes flowing through a file.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as RichProgress

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

Advance = Callable[[int], None]


def enabled(stream: TextIO | None = None) -> bool:
    """Whether progress is drawn on ``stream`` (default stderr): a terminal, and not ``TERM=dumb``."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty()) and os.environ.get("TERM") != "dumb"


def _columns(unit: str) -> list[ProgressColumn]:
    columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
    if unit == "bytes":
        return [*columns, DownloadColumn(), TransferSpeedColumn(), TimeElapsedColumn()]
    if unit == "items":
        return [*columns, MofNCompleteColumn(), TimeElapsedColumn()]
    return [SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()]


class Progress:
    """One progress display: ``unit`` is ``"bytes"``, ``"items"`` or ``"steps"`` (a spinner with elapsed time).
    ``total`` may be unknown (``None``: the bar pulses). Every method is a no-op when progress is not drawn."""

    def __init__(self, description: str, *, total: float | None = None, unit: str = "bytes") -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.completed = 0.0
        self._rich: RichProgress | None = None
        if enabled():
            # What others write to stderr (log lines) is shown above the bar; stdout is taken over only when it is
            # the terminal too (data piped to a file or another program is never touched).
            self._rich = RichProgress(*_columns(unit), console=Console(file=sys.stderr), transient=True,
                                      redirect_stdout=enabled(sys.stdout), redirect_stderr=True)
        self._task = None if self._rich is None else self._rich.add_task(description, total=total)

    @property
    def active(self) -> bool:
        return self._rich is not None

    def __enter__(self) -> Progress:
        if self._rich is not None:
            self._rich.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._rich is not None:
            self._rich.stop()

    def advance(self, amount: float = 1) -> None:
        self.completed += amount
        if self._rich is not None and self._task is not None:
            self._rich.update(self._task, completed=self.completed)

    def update(self, description: str, total: float | None = None) -> None:
        self.description = description
        if total is not None:
            self.total = total
        if self._rich is not None and self._task is not None:
            self._rich.update(self._task, description=description, total=self.total, refresh=True)

    def say(self, line: str, out: TextIO | None = None) -> None:
        """Print one line of the command's output: above the bar when ``out`` is a terminal too, else to ``out``."""
        out = sys.stdout if out is None else out
        if self._rich is not None and enabled(out):
            self._rich.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            print(line, file=out, flush=True)


class _Passthrough(io.RawIOBase):
    """Seeking, telling and flushing go to the wrapped file (a CARv2 is written header last, read by offset)."""

    def __init__(self, raw: BinaryIO, advance: Advance) -> None:
        super().__init__()
        self._raw = raw
        self._advance = advance

    def seekable(self) -> bool:
        return self._raw.seekable()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def flush(self) -> None:
        self._raw.flush()


class CountingReader(_Passthrough):
    """A readable binary file that reports every byte read from ``raw`` to ``advance``."""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._advance(len(data))
        return data

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class CountingWriter(_Passthrough):
    """A writable binary file that reports every byte written to ``raw`` to ``advance``."""

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        written = self._raw.write(data)
        count = memoryview(data).nbytes if written is None else written
        self._advance(count)
        return count
