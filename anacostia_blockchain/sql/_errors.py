"""The one boundary where SQLAlchemy errors become :class:`MetadataStoreError`.

``with translate_errors("where"):`` (or ``@translate_errors("where")`` on a function) re-raises any
``SQLAlchemyError`` raised inside as a :class:`MetadataStoreError` ``from`` the original. Callers that must keep the
driver's message out of what they show (a public HTTP service) pass ``detail=False``: the message then names only the
exception class. ``error`` picks the subclass of :class:`MetadataStoreError` to raise (e.g. ``OutboxError``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import SQLAlchemyError

from ..errors import MetadataStoreError

#: The exception class this boundary catches, for the rare caller that must test for it (an exception handler).
DatabaseError = SQLAlchemyError


def store_error(
    where: str,
    exc: SQLAlchemyError,
    *,
    detail: bool = True,
    error: type[MetadataStoreError] = MetadataStoreError,
) -> MetadataStoreError:
    """The ``error`` for ``exc`` raised while doing ``where`` (built, not raised: the caller chains it)."""
    if not detail:
        return error(f"{where}: database error ({type(exc).__name__})")
    cause = getattr(exc, "orig", None) or exc
    return error(f"{where}: database error: {type(cause).__name__}: {cause}")


@contextmanager
def translate_errors(
    where: str, *, detail: bool = True, error: type[MetadataStoreError] = MetadataStoreError
) -> Iterator[None]:
    """Re-raise SQLAlchemy errors raised inside as ``error`` (``from`` the original)."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise store_error(where, exc, detail=detail, error=error) from exc
