"""Text normalisation and de-duplication for the data-preparation action.

:class:`TextCleaner` makes text canonical so that equal content looks equal (and de-duplicates):

1. Unicode normalisation (NFC by default: composed characters, what most tokenizers expect);
2. line endings ``\\r\\n`` / ``\\r`` become ``\\n``;
3. invisible characters are removed: C0/C1 control characters except ``\\n`` and ``\\t``, zero-width spaces and
   joiners' cousins (U+200B, U+2060, U+FEFF byte-order marks);
4. whitespace: runs of spaces/tabs (and Unicode spaces such as U+00A0) become one space, lines are stripped, more
   than one blank line in a row becomes one, and the whole text is stripped.

:class:`Deduplicator` drops records whose key fields (after cleaning) were already seen. It keeps a 16-byte BLAKE2b
digest per distinct record, so memory grows with the number of *distinct* records (~100 bytes each), not their
size. Its scope is whatever the caller gives it: the data-preparation node uses one per run (across all files of
the run).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ConfigurationError

_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2060\ufeff]")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_NORMAL_FORMS = ("NFC", "NFD", "NFKC", "NFKD")


@dataclass(frozen=True)
class TextCleaner:
    """Canonicalise text (see the module docstring). Every step can be switched off."""

    normal_form: Literal["NFC", "NFD", "NFKC", "NFKD"] | None = "NFC"
    strip_invisible: bool = True
    collapse_whitespace: bool = True

    def __post_init__(self) -> None:
        if self.normal_form is not None and self.normal_form not in _NORMAL_FORMS:
            raise ConfigurationError(f"normal_form must be one of {', '.join(_NORMAL_FORMS)} or None")

    def clean(self, text: str) -> str:
        if self.normal_form is not None:
            text = unicodedata.normalize(self.normal_form, text)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if self.strip_invisible:
            text = _INVISIBLE.sub("", text)
        if self.collapse_whitespace:
            text = "\n".join(_HORIZONTAL_SPACE.sub(" ", line).strip() for line in text.split("\n"))
            text = _BLANK_LINES.sub("\n\n", text).strip()
        return text

    def clean_record(self, record: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
        """A copy of ``record`` with the string values of ``fields`` cleaned."""
        out = dict(record)
        for name in fields:
            value = out.get(name)
            if isinstance(value, str):
                out[name] = self.clean(value)
        return out


class Deduplicator:
    """Remembers which records were seen, by a digest of their ``key_fields`` (all fields when ``None``).

    Records offered with :meth:`seen_before` are *pending* until :meth:`commit` (keep them) or :meth:`discard`
    (forget them): a file that turns out to be invalid halfway through must not make the records of later, valid
    files look like duplicates.
    """

    def __init__(self, key_fields: Sequence[str] | None = None) -> None:
        self.key_fields = tuple(key_fields) if key_fields is not None else None
        self._seen: set[bytes] = set()
        self._pending: set[bytes] = set()

    def __len__(self) -> int:
        """Committed distinct records."""
        return len(self._seen)

    def commit(self) -> None:
        self._seen |= self._pending
        self._pending = set()

    def discard(self) -> None:
        self._pending = set()

    def seen_before(self, record: Mapping[str, Any]) -> bool:
        """``True`` if an equal record was offered before (committed or pending); else remember it as pending."""
        if self.key_fields is None:
            key: Any = record
        else:
            key = {name: record.get(name) for name in self.key_fields}
        canonical = json.dumps(key, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest = hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).digest()
        if digest in self._seen or digest in self._pending:
            return True
        self._pending.add(digest)
        return False
