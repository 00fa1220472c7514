"""The strict EIP-4361 parser: one text, one reading, or a :class:`SiweError` naming the line and the field.

The message is read line by line (LF only; no field may hold a CR). Tags are case-sensitive, the optional lines
come in the EIP's order, and nothing may follow the last one, not even a line break. Structural errors name the
line; field values are checked by the rules of :mod:`._grammar` when the :class:`SiweMessage` is built, and their
errors name the field.

Where the grammar leaves a choice open, the reading is the one the EIP's ABNF gives: an empty line where the
statement goes (three blank lines in all) is an empty statement, and ``Resources:`` may list no resource.
"""

from __future__ import annotations

from ..errors import SiweError
from ._grammar import check_chain_id_text
from ._message import PREAMBLE_SUFFIX, SiweMessage

_OPTIONAL_TAGS = (("expiration_time", "Expiration Time: "), ("not_before", "Not Before: "),
                  ("request_id", "Request ID: "))  # fmt: skip


class _Lines:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.pos = 0

    @property
    def lineno(self) -> int:
        return self.pos + 1

    def peek(self) -> str | None:
        return self.lines[self.pos] if self.pos < len(self.lines) else None

    def take(self, what: str) -> str:
        line = self.peek()
        if line is None:
            raise SiweError(f"line {self.lineno}: the message ends before {what}")
        self.pos += 1
        return line

    def blank(self, after: str) -> None:
        if self.take(f"the blank line after {after}") != "":
            raise SiweError(f"line {self.pos}: expected a blank line after {after}")

    def tagged(self, tag: str) -> str:
        line = self.take(f"the {tag.strip()!r} line")
        if not line.startswith(tag):
            raise SiweError(f"line {self.pos}: expected the {tag.strip()!r} line, found {_start(line)}")
        return line[len(tag) :]


def _start(line: str) -> str:
    return repr(line[:30]) + ("..." if len(line) > 30 else "")


def _origin(lines: _Lines) -> tuple[str | None, str]:
    first = lines.take("the first line")
    if not first.endswith(PREAMBLE_SUFFIX):
        raise SiweError(f"the first line must end with {PREAMBLE_SUFFIX.strip()!r}")
    origin = first[: -len(PREAMBLE_SUFFIX)]
    if "://" in origin:
        scheme, domain = origin.split("://", 1)
        return scheme, domain
    return None, origin


def _statement(lines: _Lines) -> str | None:
    """``None`` (two blank lines), ``""`` (three) or the statement line followed by a blank line."""
    line = lines.take("the statement or the URI")
    if line == "":
        if lines.peek() == "":
            lines.pos += 1
            return ""
        return None
    lines.blank("the statement")
    return line


def _resources(lines: _Lines) -> tuple[str, ...] | None:
    if lines.peek() != "Resources:":
        return None
    lines.pos += 1
    resources = []
    while (line := lines.peek()) is not None and line.startswith("- "):
        resources.append(line[2:])
        lines.pos += 1
    return tuple(resources)


def _fields(lines: _Lines) -> dict[str, object]:
    scheme, domain = _origin(lines)
    address = lines.take("the address")
    lines.blank("the address")
    fields: dict[str, object] = {"scheme": scheme, "domain": domain, "address": address,
                                 "statement": _statement(lines), "uri": lines.tagged("URI: "),
                                 "version": lines.tagged("Version: ")}  # fmt: skip
    chain_text = lines.tagged("Chain ID: ")
    check_chain_id_text(chain_text)
    fields.update(chain_id=int(chain_text), chain_id_text=chain_text, nonce=lines.tagged("Nonce: "))
    fields["issued_at"] = lines.tagged("Issued At: ")
    for name, tag in _OPTIONAL_TAGS:
        line = lines.peek()
        if line is not None and line.startswith(tag):
            fields[name] = lines.take(tag)[len(tag) :]
    fields["resources"] = _resources(lines)
    if lines.peek() is not None:
        raise SiweError(f"line {lines.lineno}: unexpected {_start(lines.lines[lines.pos])} after the last field")
    return fields


def parse_message(text: str) -> SiweMessage:
    """Parse the exact EIP-4361 text (see the module docstring)."""
    if not isinstance(text, str):
        raise SiweError(f"a SIWE message is text, got {type(text).__name__}")
    if "\r" in text:
        line = text[: text.index("\r")].count("\n") + 1
        raise SiweError(f"line {line} holds a CR: the message must use LF line endings and no field allows CR")
    return SiweMessage(**_fields(_Lines(text)))  # type: ignore[arg-type]
