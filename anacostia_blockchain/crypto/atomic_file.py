"""Write a file so that it appears complete or not at all (temporary sibling, fsync, rename).

Encrypted and decrypted artifacts go through this so a crash, a full disk or a failed authentication never leaves a
half-written file where a reader expects a whole one. The temporary file lives in the destination's directory so the
final :func:`os.replace` is a same-filesystem atomic rename; it is removed on any error.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import ArtifactWriteError


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """Yield a binary file; on normal exit it is flushed, fsynced and renamed to ``path``; on error it is deleted."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise ArtifactWriteError(f"cannot create a file next to {path}: {exc.strerror}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ArtifactWriteError(f"could not produce {path}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
