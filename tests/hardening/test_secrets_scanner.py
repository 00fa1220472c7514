"""The tools the secrets test uses to look for leaks, and the tests that prove those tools can see one.

- :class:`SecretScanner` holds named secrets (raw bytes) and finds them in text in every form a careless line of
  code would print them: hex in any case with or without ``0x``, standard and URL-safe base64 (with or without
  padding), Python's ``bytes`` repr and the big-endian integer. A scan reports *which* secret leaked and *where*,
  never the secret itself, so a failing test does not print the key either.
- :class:`LogRecorder` captures every log record of every logger, whatever level or handlers the code under test
  configures (uvicorn, for instance, resets its own loggers when the server starts and stops them propagating):
  it forces ``Logger.isEnabledFor`` to true — every logger at DEBUG, including SQLAlchemy's statement and row echo —
  and records in ``Logger.handle``, which every record passes on the logger that created it.
- :func:`reachable_reprs` walks an object graph (instance attributes, slots, containers) and returns ``repr`` and
  ``str`` of every object of this library and every exception it reaches: "everything the scenario holds".
"""

from __future__ import annotations

import base64
import logging
import traceback
import types
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import pytest

from anacostia_blockchain.crypto import DataKey

LIBRARY = "anacostia_blockchain"
_STANDARD_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_LEAF_TYPES = (str, bytes, bytearray, memoryview, int, float, complex, bool, type(None), Decimal, PurePath)
_OPAQUE_TYPES = (
    type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.CodeType,
    types.FrameType, types.TracebackType, property, staticmethod, classmethod,
)


def secret_forms(raw: bytes) -> list[tuple[str, bool]]:
    """Every spelling of ``raw`` the scanner looks for, as (needle, case_sensitive)."""
    forms = [(raw.hex(), False)]
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms.append((encoded.decode().rstrip("="), True))
    forms.append((repr(raw)[2:-1], True))  # b'\x12A...' as Python prints bytes
    forms.append((str(int.from_bytes(raw, "big")), True))
    return forms


def private_key_bytes(key: str | bytes) -> bytes:
    return key if isinstance(key, bytes) else bytes.fromhex(key.removeprefix("0x"))


@dataclass
class SecretScanner:
    """Named secrets, looked for in every text fed to :meth:`scan` (see the module docstring)."""

    secrets: dict[str, bytes] = field(default_factory=dict)

    def add(self, label: str, raw: bytes) -> None:
        if len(raw) < 8:
            raise ValueError(f"secret {label!r} is too short to scan for without false positives")
        self.secrets[label] = bytes(raw)

    def find(self, text: str) -> list[str]:
        """Labels of the secrets that occur in ``text`` in any form."""
        lowered = text.lower()
        hits = []
        for label, raw in self.secrets.items():
            for needle, case_sensitive in secret_forms(raw):
                if (needle in text) if case_sensitive else (needle in lowered):
                    hits.append(label)
                    break
        return hits

    def scan(self, sources: Iterable[tuple[str, str]]) -> list[str]:
        """``"<secret label> in <source name>"`` for every leak found in (source name, text) pairs."""
        return [f"{label} in {name}" for name, text in sources for label in self.find(text)]


class LogRecorder:
    """Every record every logger creates while :meth:`active` (see the module docstring)."""

    def __init__(self) -> None:
        self.records: list[logging.LogRecord] = []
        self.loggers: set[str] = set()
        self._formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")

    @contextmanager
    def active(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[LogRecorder]:
        original_handle = logging.Logger.handle
        recorder = self

        def handle(logger: logging.Logger, record: logging.LogRecord) -> None:
            recorder.records.append(record)
            recorder.loggers.add(logger.name)
            original_handle(logger, record)

        monkeypatch.setattr(logging.Logger, "isEnabledFor", lambda logger, level: True)
        monkeypatch.setattr(logging.Logger, "handle", handle)
        root = logging.getLogger()
        monkeypatch.setattr(root, "level", logging.DEBUG)
        for logger in list(logging.Logger.manager.loggerDict.values()):
            if isinstance(logger, logging.Logger):
                monkeypatch.setattr(logger, "level", logging.DEBUG)
        logging.captureWarnings(True)
        try:
            yield self
        finally:
            logging.captureWarnings(False)

    def texts(self) -> Iterator[tuple[str, str]]:
        for index, record in enumerate(self.records):
            text = self._formatter.format(record)  # message, args, exception traceback and stack
            extras = {k: v for k, v in vars(record).items() if k not in _STANDARD_RECORD_FIELDS}
            if extras:
                text += f" extras={extras!r}"
            yield f"log record #{index} ({record.name})", text


def exception_text(exc: BaseException) -> str:
    """Message, repr, attributes and the whole chained traceback of an exception."""
    attributes = {k: v for k, v in vars(exc).items() if not k.startswith("__")}
    return "\n".join([str(exc), repr(exc), repr(attributes), *traceback.format_exception(exc)])


def _safe(describe: Any, obj: Any) -> str:
    try:
        return str(describe(obj))
    except Exception as exc:  # a repr that raises is not a leak; name it and move on
        return f"<{type(obj).__name__}: {describe.__name__} raised {type(exc).__name__}>"


def _slot_values(obj: Any) -> Iterator[Any]:
    """Values of filled ``__slots__``, read through the slot descriptors (``getattr`` could run ``__getattr__``)."""
    for klass in type(obj).__mro__:
        slots = vars(klass).get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            name = f"_{klass.__name__.lstrip('_')}{slot}" if slot.startswith("__") and not slot.endswith("__") else slot
            descriptor = vars(klass).get(name)
            if descriptor is None or not hasattr(descriptor, "__get__"):
                continue
            try:
                yield descriptor.__get__(obj, klass)
            except AttributeError:  # an empty slot
                continue


def _children(obj: Any) -> Iterator[Any]:
    if isinstance(obj, dict):
        yield from obj.keys()
        yield from obj.values()
        return
    if isinstance(obj, (list, tuple, set, frozenset, deque)):
        yield from obj
        return
    try:
        attributes = object.__getattribute__(obj, "__dict__")
    except (AttributeError, TypeError):
        attributes = None
    if isinstance(attributes, dict):
        yield from attributes.values()
    yield from _slot_values(obj)
    if isinstance(obj, BaseException):
        yield from (obj.__cause__, obj.__context__)


def reachable_reprs(root: Any, *, limit: int = 300_000) -> list[tuple[str, str]]:
    """(object description, repr + str) of every library object and exception reachable from ``root``."""
    seen: set[int] = set()
    found: list[tuple[str, str]] = []
    stack = [root]
    while stack and len(seen) < limit:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (_LEAF_TYPES, _OPAQUE_TYPES)):
            continue
        seen.add(id(obj))
        kind = type(obj)
        if kind.__module__.startswith(LIBRARY) or isinstance(obj, BaseException):
            found.append((f"repr of {kind.__name__}", f"{_safe(repr, obj)}\n{_safe(str, obj)}"))
        stack.extend(_children(obj))
    return found


# --- the tools must be able to see a leak, or the secrets test proves nothing ---------------------------------------
KEY = bytes.fromhex("4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d")


@pytest.mark.parametrize(
    "leak",
    [
        KEY.hex(), "0x" + KEY.hex().upper(), "key=0X" + KEY.hex()[:10].upper() + KEY.hex()[10:],
        base64.b64encode(KEY).decode(), base64.urlsafe_b64encode(KEY).decode().rstrip("="), repr(KEY),
        f"int {int.from_bytes(KEY, 'big')}",
    ],
)
def test_scanner_finds_a_key_in_every_spelling(leak: str) -> None:
    scanner = SecretScanner()
    scanner.add("operator key", KEY)
    assert scanner.scan([("log", f"before {leak} after")]) == ["operator key in log"]


def test_scanner_reports_labels_not_secrets() -> None:
    scanner = SecretScanner()
    scanner.add("k", KEY)
    assert scanner.scan([("clean", "0x" + KEY.hex()[:-2])]) == []
    report = scanner.scan([("dirty", KEY.hex())])
    assert report == ["k in dirty"] and KEY.hex() not in "".join(report)


def test_recorder_sees_debug_records_of_loggers_that_do_not_propagate(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet = logging.getLogger("hardening.quiet")
    monkeypatch.setattr(quiet, "propagate", False)
    monkeypatch.setattr(quiet, "level", logging.CRITICAL)
    recorder = LogRecorder()
    with recorder.active(monkeypatch):
        quiet.debug("secret %s", KEY.hex())
    scanner = SecretScanner({"k": KEY})
    assert "hardening.quiet" in recorder.loggers
    assert [hit.split(" in ")[0] for hit in scanner.scan(recorder.texts())] == ["k"]


def test_walk_reaches_library_objects_inside_third_party_containers() -> None:
    class Holder:  # a third-party-like object that holds a library object deep inside
        def __init__(self) -> None:
            self.inner = {"keys": [DataKey(KEY)]}

    texts = dict(reachable_reprs(Holder()))
    assert "repr of DataKey" in texts
    assert SecretScanner({"k": KEY}).find(texts["repr of DataKey"]) == []


def test_walk_would_report_a_repr_that_leaks() -> None:
    from anacostia_blockchain.chain.dev.devnet import DevAccount

    class LeakyReprError(Exception):
        """An exception whose repr carries a key, as a careless library's might."""

    texts = reachable_reprs([DevAccount("0x" + "11" * 20, KEY.hex()), LeakyReprError(f"bad key {KEY.hex()}")])
    scanner = SecretScanner({"k": KEY})
    assert scanner.scan(texts) == ["k in repr of LeakyReprError"]
