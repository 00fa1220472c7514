"""A seeded generator of EIP-4361 messages for the differential tests: valid ones built from every field's edge cases,
and mutations of them (a hostile character in a field, a line dropped, doubled or swapped, a tag's case flipped, a
field value that its rule refuses).

The texts are written here from the EIP's template, not by the package's formatter, so the formatter is checked
against them rather than against itself.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

PREAMBLE = " wants you to sign in with your Ethereum account:"

SCHEMES = ["https", "http", "web+siwe", "a1+-.", "H"]
DOMAINS = [
    "example.com", "example.com:3388", "localhost:8000", "127.0.0.1", "127.0.0.1:8000", "[::1]", "[::1]:443",
    "[2001:db8::7]", "[::ffff:192.0.2.1]:80", "[1:2:3:4:5:6:7:8]", "user@example.com", "user:pw@example.com:1",
    "exa%41mple.com", "sub-domain.example.co.uk", "xn--bcher-kva.example", "example.com:", "a", "_~.-",
    "!$&'()*+,;=", "256.1.1.1x", "[v1.fe:80]", "1.1.1.256",
]
URIS = [
    "https://example.com/login", "http://127.0.0.1:8000/login", "https://[::1]:8443/a?b=c#d",
    "did:pkh:eip155:1:0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "urn:isbn:0451450523", "a:", "a:/", "a:b",
    "mailto:user@example.com", "ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/",
    "https://user:pw@host:1/p%20q?x=%7E#frag/?", "file:///etc/hosts", "x:/a//b", "https://example.com/?",
    "https://example.com/#", "h://[::ffff:1.2.3.4]/", "h://[2001:db8:0:0:1:0:0:1]:0/", "HTTPS://EXAMPLE.COM/A",
    "https://example.com:/x", "a+b.c-d:e@f", "urn:a:!$&'()*+,;=:@", "http://[v1.x]/", "http:///path",
    "http://1.1.1.256/",
]
STATEMENT_CHARS = string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;= "
STATEMENTS = [
    " ", "I accept the ExampleOrg Terms of Service: https://example.com/tos", "Sign in: ?#[]@!$&'()*+,;=/-._~",
    "   leading and trailing   ", "URI: https://example.com/login", "x",
]
PCHARS = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@"
REQUEST_IDS = ["", "%41%62", "a:b@c", "!$&'()*+,;=", "123e4567-e89b-12d3-a456-426614174000", "~", "%ff"]
CHAIN_IDS = ["1", "5", "31337", "0", "11155111", "18446744073709551616", "1000000000000000000000000000000", "007"]

#: Characters a mutation inserts: controls, the ASCII the grammar refuses somewhere, and look-alikes from Unicode.
HOSTILE = ["\x00", "\x01", "\t", "\x0b", "\x0c", "\r", "\x1b", "\x7f", " ", "%", '"', "<", ">", "\\", "^", "`",
           "{", "|", "}", "é", "\u2028", "\u00a0", "\uff11", "\u0661", "\n", "#", "/", "?", ":", "@"]  # fmt: skip
#: Values each field's rule refuses (or that sit on its edge), by the line tag they replace.
BAD_VALUES = {
    "Nonce: ": ["1234567", "abcdefg-", "abcdefgh ", " abcdefgh", "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18"],
    "Version: ": ["2", "1.0", " 1", "01", ""],
    "Chain ID: ": ["-1", "1.0", " 1", "0x1", "", "\u0661", "1 "],
    "Issued At: ": ["2021-02-29T00:00:00Z", "2021-09-30T24:00:00Z", "2021-09-30T16:25:60Z", "2021-09-30T16:25:24+24:00",
                    "2021-09-30 16:25:24Z", "2021-09-30T16:25:24", "0000-01-01T00:00:00Z", "2021-09-30t16:25:24z",
                    "2021-09-30T16:25:24.Z", "2021-9-30T16:25:24Z", "2021-09-30T16:25:24+0100", "2021-04-31T00:00:00Z",
                    "2021-09-30T16:60:24Z", "2021-09-30T16:25:24-00:60", "9999-12-31T23:59:59-23:59"],
    "URI: ": ["https://[::1/login", "a:b c", "//example.com", "https://example.com/é", "1a:b", ":", "https://exa%zz/",
              "http://[1:2:3:4:5:6:7:8:9]/", "http://example.com:abc/", "http://[v1.]/", "https://example.com/%"],
    "Request ID: ": ["abc def", "a/b", "%zz", "a?b", "a#b", "\t", "é"],
}  # fmt: skip


@dataclass(frozen=True)
class Sample:
    """One generated message: its text, how it was made, and (for a valid one) the fields it was written from."""

    text: str
    how: str
    fields: dict[str, Any] | None = None


def _address(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.05:
        return "0x" + "0" * 40
    if pick < 0.1:
        return "0x" + "".join(rng.choice("0123456789") for _ in range(40))
    return str(to_checksum_address(bytes(rng.getrandbits(8) for _ in range(20))))


def _time(rng: random.Random) -> str:
    year = rng.choice([rng.randint(1970, 2100), 1, 999, 1900, 2020, 9999])
    month = rng.randint(1, 12)
    day = rng.randint(1, 28) if rng.random() < 0.8 else {2: 29 if year % 4 == 0 and year % 100 else 28}.get(month, 30)
    text = f"{year:04d}-{month:02d}-{day:02d}{rng.choice('TTTt')}"
    text += f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if rng.random() < 0.5:
        text += "." + "".join(rng.choice(string.digits) for _ in range(rng.randint(1, 9)))
    if rng.random() < 0.6:
        return text + "Z"
    return text + f"{rng.choice('+-')}{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"


def _random_from(rng: random.Random, alphabet: str, low: int, high: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def _maybe(rng: random.Random, value: Any, chance: float = 0.5) -> Any:
    return value if rng.random() < chance else None


def valid_fields(rng: random.Random) -> dict[str, Any]:
    """Fields of a message every rule accepts, drawn from each field's edge cases."""
    chain_text = rng.choice(CHAIN_IDS)
    statement = "" if rng.random() < 0.05 else rng.choice([*STATEMENTS, _random_from(rng, STATEMENT_CHARS, 1, 60)])
    request_id = rng.choice([*REQUEST_IDS, _random_from(rng, PCHARS, 1, 30)])
    resources = rng.sample(URIS, rng.randint(0, 3))
    return {
        "scheme": _maybe(rng, rng.choice(SCHEMES), 0.3),
        "domain": rng.choice(DOMAINS),
        "address": _address(rng),
        "statement": _maybe(rng, statement, 0.7),
        "uri": rng.choice(URIS),
        "version": "1",
        "chain_id": int(chain_text),
        "chain_id_text": chain_text,
        "nonce": _random_from(rng, string.ascii_letters + string.digits, 8, 40),
        "issued_at": _time(rng),
        "expiration_time": _maybe(rng, _time(rng), 0.4),
        "not_before": _maybe(rng, _time(rng), 0.3),
        "request_id": _maybe(rng, request_id, 0.4),
        "resources": _maybe(rng, tuple(resources), 0.4),
    }


def write_text(fields: dict[str, Any]) -> str:
    """The EIP-4361 text of ``fields``, written from the EIP's template."""
    origin = f"{fields['scheme']}://{fields['domain']}" if fields["scheme"] is not None else fields["domain"]
    text = f"{origin}{PREAMBLE}\n{fields['address']}\n\n"
    if fields["statement"] is not None:
        text += f"{fields['statement']}\n"
    text += f"\nURI: {fields['uri']}\nVersion: {fields['version']}\nChain ID: {fields['chain_id_text']}\n"
    text += f"Nonce: {fields['nonce']}\nIssued At: {fields['issued_at']}"
    for tag, name in (("Expiration Time", "expiration_time"), ("Not Before", "not_before"),
                      ("Request ID", "request_id")):  # fmt: skip
        if fields[name] is not None:
            text += f"\n{tag}: {fields[name]}"
    if fields["resources"] is not None:
        text += "\nResources:" + "".join(f"\n- {uri}" for uri in fields["resources"])
    return text


def _insert(rng: random.Random, text: str) -> tuple[str, str]:
    at = rng.randrange(len(text) + 1)
    char = rng.choice(HOSTILE)
    return text[:at] + char + text[at:], f"insert {char!r} at {at}"


def _in_field(rng: random.Random, text: str) -> tuple[str, str]:
    lines = text.split("\n")
    index = rng.randrange(len(lines))
    line = lines[index]
    start = line.find(": ") + 2 if ": " in line else 0
    at = rng.randint(start, len(line))
    char = rng.choice(HOSTILE)
    lines[index] = line[:at] + char + line[at:]
    return "\n".join(lines), f"insert {char!r} in line {index + 1}"


def _in_value(rng: random.Random, text: str) -> tuple[str, str]:
    """A hostile character inside the value of a free-text field: the statement, request ID, domain or a URI."""
    lines = text.split("\n")
    targets = [i for i, line in enumerate(lines) if line.startswith(("URI: ", "Request ID: ", "- "))]
    if lines[3] and not lines[3].startswith("URI: "):
        targets += [3, 3]
    index = rng.choice([0, *targets])
    line = lines[index]
    low, high = (0, len(line) - len(PREAMBLE)) if index == 0 else (line.find(" ") + 1 if index != 3 else 0, len(line))
    at = rng.randint(low, high)
    char = rng.choice(HOSTILE)
    lines[index] = line[:at] + char + line[at:]
    return "\n".join(lines), f"insert {char!r} in the value on line {index + 1}"


def _delete(rng: random.Random, text: str) -> tuple[str, str]:
    at = rng.randrange(len(text))
    return text[:at] + text[at + 1 :], f"delete {text[at]!r} at {at}"


def _lines(rng: random.Random, text: str) -> tuple[str, str]:
    lines = text.split("\n")
    index = rng.randrange(len(lines))
    action = rng.choice(["drop", "double", "swap", "trailing space", "trailing LF", "flip case"])
    if action == "drop":
        del lines[index]
    elif action == "double":
        lines.insert(index, lines[index])
    elif action == "swap" and index + 1 < len(lines):
        lines[index], lines[index + 1] = lines[index + 1], lines[index]
    elif action == "trailing space":
        lines[index] += " "
    elif action == "trailing LF":
        lines.append("")
    elif lines[index]:
        at = rng.randrange(len(lines[index]))
        lines[index] = lines[index][:at] + lines[index][at].swapcase() + lines[index][at + 1 :]
    return "\n".join(lines), f"{action} line {index + 1}"


def _bad_value(rng: random.Random, text: str) -> tuple[str, str]:
    tag = rng.choice(sorted(BAD_VALUES))
    value = rng.choice(BAD_VALUES[tag])
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(tag):
            lines[index] = tag + value
            return "\n".join(lines), f"{tag.strip()} {value!r}"
    return text + f"\n{tag}{value}", f"append {tag.strip()} {value!r}"


MUTATIONS = [_insert, _in_field, _in_value, _in_value, _in_value, _delete, _lines, _lines, _bad_value, _bad_value]


def corpus(seed: int, valid: int, mutated: int) -> list[Sample]:
    """``valid`` messages built from edge-case fields and ``mutated`` variants of them, reproducibly from ``seed``."""
    rng = random.Random(seed)
    samples = []
    for index in range(valid):
        fields = valid_fields(rng)
        samples.append(Sample(write_text(fields), f"valid #{index}", fields))
    bases = [sample.text for sample in samples]
    for _ in range(mutated):
        text, how = rng.choice(MUTATIONS)(rng, rng.choice(bases))
        samples.append(Sample(text, how))
    return samples
