"""EIP-4361 messages: exact text, strict parsing, RFC 3339 times, field checks and the signer behind a signature."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account

from anacostia_blockchain.chain.tx import recover_personal_signer, sign_personal_message
from anacostia_blockchain.chain.tx.personal_sign import SECP256K1_N
from anacostia_blockchain.errors import SignerError, SiweError
from anacostia_blockchain.siwe import SiweMessage, check_fields, format_rfc3339, parse_rfc3339, recover_signer

# The example message of EIP-4361 ("Example message"), verbatim.
EIP_EXAMPLE = (
    "example.com wants you to sign in with your Ethereum account:\n"
    "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2\n"
    "\n"
    "I accept the ExampleOrg Terms of Service: https://example.com/tos\n"
    "\n"
    "URI: https://example.com/login\n"
    "Version: 1\n"
    "Chain ID: 1\n"
    "Nonce: 32891756\n"
    "Issued At: 2021-09-30T16:25:24Z\n"
    "Resources:\n"
    "- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/\n"
    "- https://example.com/my-web2-claim.json"
)
EXAMPLE_ADDRESS = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
DOMAIN = "127.0.0.1:8000"
URI = "http://127.0.0.1:8000"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def make_message(address: str, nonce: str, **overrides: object) -> SiweMessage:
    fields: dict[str, object] = {
        "domain": DOMAIN,
        "address": address,
        "uri": URI + "/login",
        "chain_id": 31337,
        "nonce": nonce,
        "issued_at": format_rfc3339(NOW),
        "statement": "Sign in to the Anacostia model marketplace.",
        "expiration_time": format_rfc3339(NOW + timedelta(minutes=5)),
    }
    fields.update(overrides)
    return SiweMessage(**fields)  # type: ignore[arg-type]


def test_parses_the_eip_example_and_reproduces_it_byte_for_byte() -> None:
    message = SiweMessage.parse(EIP_EXAMPLE)
    assert message.domain == "example.com"
    assert message.address == "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
    assert message.statement == "I accept the ExampleOrg Terms of Service: https://example.com/tos"
    assert message.chain_id == 1
    assert message.nonce == "32891756"
    assert message.resources == (
        "ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/",
        "https://example.com/my-web2-claim.json",
    )
    assert message.to_text() == EIP_EXAMPLE


def test_message_without_statement_has_two_blank_lines_and_round_trips() -> None:
    message = make_message(Account.create().address, "abcdef1234", statement=None, scheme="https")
    text = message.to_text()
    lines = text.split("\n")
    assert lines[0] == f"https://{DOMAIN} wants you to sign in with your Ethereum account:"
    assert lines[2] == "" and lines[3] == "" and lines[4].startswith("URI: ")
    assert SiweMessage.parse(text) == message


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda t: t.replace(EXAMPLE_ADDRESS, EXAMPLE_ADDRESS.lower()), "EIP-55"),
        (lambda t: t.replace("Nonce: 32891756", "Nonce: 1234"), "nonce"),
        (lambda t: t.replace("Version: 1", "Version: 2"), "version"),
        (lambda t: t.replace("Chain ID: 1", "Chain ID: 1.0"), "chain ID"),
        (lambda t: t.replace("Issued At: 2021-09-30T16:25:24Z", "Issued At: yesterday"), "RFC 3339"),
        (lambda t: t.replace("\n", "\r\n"), "LF"),
        (lambda t: t + "\nExtra: line", "unexpected"),
        (lambda t: t.replace("Version: 1\nChain ID: 1", "Chain ID: 1\nVersion: 1"), "Version"),
        (lambda t: t.replace(" wants you to sign in", " wants you to log in"), "first line"),
        (lambda t: t.replace("URI: https://example.com/login", "URI: https://[::1/login"), "URI"),
        (lambda t: t.replace("I accept", "I\x01 accept"), "statement .* character '\\\\x01' at column 2"),
        (lambda t: t.replace("I accept", "I accept\x7f"), "statement"),
        (lambda t: t.replace("24Z\nResources", "24Z\nRequest ID: abc def\nResources"), "request ID 'abc def'"),
        (lambda t: t.replace("24Z\nResources", "24Z\nRequest ID: a\tb\nResources"), "request ID"),
        (lambda t: t.replace("Chain ID: 1", "Chain ID: \u0661"), "chain ID"),
        (lambda t: t.replace("16:25:24Z", "16:25:60Z"), "leap second"),
        (lambda t: t.replace("16:25:24Z", "16:25:24+00:60"), "offset out of range"),
        (lambda t: t + "\n", "unexpected"),
    ],
)
def test_malformed_messages_are_refused_with_the_reason(mutate: object, reason: str) -> None:
    with pytest.raises(SiweError, match=reason):
        SiweMessage.parse(mutate(EIP_EXAMPLE))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("mutate", "check"),
    [
        (lambda t: t.replace("I accept the ExampleOrg Terms of Service: https://example.com/tos", ""),
         lambda m: m.statement == ""),
        (lambda t: t.replace("Chain ID: 1", "Chain ID: 0001"), lambda m: (m.chain_id, m.chain_id_text) == (1, "0001")),
        (lambda t: t.replace("24Z\nResources", "24Z\nRequest ID: \nResources"), lambda m: m.request_id == ""),
        (lambda t: t.split("\n- ")[0], lambda m: m.resources == ()),
        (lambda t: t.replace("Issued At: 2021-09-30T16:25:24Z", "Issued At: 2021-09-30t16:25:24.123456789z"),
         lambda m: m.issued_at.endswith("z")),
        (lambda t: t.replace("example.com wants", "user:pw@[v1.fe:80]:8080 wants"),
         lambda m: m.domain.startswith("user")),
    ],
)
def test_every_value_the_grammar_allows_is_kept_as_signed(mutate: object, check: object) -> None:
    text = mutate(EIP_EXAMPLE)  # type: ignore[operator]
    message = SiweMessage.parse(text)
    assert check(message)  # type: ignore[operator]
    assert message.to_text() == text


def test_building_a_message_checks_every_field_and_names_it() -> None:
    address = Account.create().address
    for overrides, field in [
        ({"statement": "two\nlines"}, "statement"),
        ({"request_id": "has space"}, "request ID"),
        ({"nonce": "abcdefgh\n"}, "nonce"),
        ({"issued_at": "2021-09-30T16:25:24Z\n"}, "Issued At"),
        ({"domain": ""}, "domain is empty"),
        ({"scheme": "1http"}, "scheme"),
        ({"resources": ("not a uri",)}, "resource"),
        ({"chain_id": -1}, "chain ID"),
        ({"chain_id": True}, "chain ID"),
        ({"chain_id": 7, "chain_id_text": "08"}, "chain ID text"),
        ({"address": address.lower()}, "EIP-55"),
    ]:
        fields = {"address": address, "nonce": "abcdef1234", **overrides}
        with pytest.raises(SiweError, match=field):
            make_message(**fields)  # type: ignore[arg-type]


def test_field_checks_bind_domain_uri_chain_and_time() -> None:
    address = Account.create().address
    good = make_message(address, "abcdef1234")
    check_fields(good, domain=DOMAIN, chain_id=31337, now=NOW, uri_origin=URI)
    cases = [
        (make_message(address, "abcdef1234", domain="evil.example"), "domain"),
        (make_message(address, "abcdef1234", uri="http://evil.example/login"), "URI"),
        (make_message(address, "abcdef1234", chain_id=1), "chain"),
        (make_message(address, "abcdef1234", expiration_time=format_rfc3339(NOW - timedelta(seconds=1))), "expired"),
        (make_message(address, "abcdef1234", not_before=format_rfc3339(NOW + timedelta(minutes=10))), "not valid yet"),
        (make_message(address, "abcdef1234", issued_at=format_rfc3339(NOW + timedelta(minutes=10))), "future"),
        (make_message(address, "abcdef1234", issued_at=format_rfc3339(NOW - timedelta(hours=1)),
                      expiration_time=None), "too old"),
    ]
    for message, reason in cases:
        with pytest.raises(SiweError, match=reason):
            check_fields(message, domain=DOMAIN, chain_id=31337, now=NOW, uri_origin=URI)


def test_personal_sign_recovers_address_and_public_key() -> None:
    account = Account.create()
    signature = sign_personal_message(account.key, "hello")
    signer = recover_personal_signer("hello", signature)
    assert signer.address == account.address
    assert signer.public_key == b"\x04" + account._key_obj.public_key.to_bytes()
    assert recover_personal_signer("hellO", signature).address != account.address
    raw = bytes.fromhex(signature[2:])
    twin_s = SECP256K1_N - int.from_bytes(raw[32:64], "big")  # the malleable twin (s' = N - s, v flipped)
    high_s = raw[:32] + twin_s.to_bytes(32, "big") + bytes([55 - raw[64]])
    with pytest.raises(SignerError, match="canonical"):
        recover_personal_signer("hello", high_s)
    with pytest.raises(SignerError, match="65 bytes"):
        recover_personal_signer("hello", "0x1234")


def test_rfc3339_times_round_trip_in_utc_and_malformed_ones_are_refused() -> None:
    assert format_rfc3339(NOW) == "2026-01-02T03:04:05.000Z"
    assert parse_rfc3339("2026-01-02T05:04:05.250+02:00", "Issued At") == NOW + timedelta(milliseconds=250)
    assert parse_rfc3339(format_rfc3339(NOW), "Issued At") == NOW
    for bad in ("2026-01-02 03:04:05Z", "2026-01-02T03:04:05", "2026-13-02T03:04:05Z"):
        with pytest.raises(SiweError, match="Issued At"):
            parse_rfc3339(bad, "Issued At")


def test_recover_signer_names_the_wallet_and_refuses_another_or_a_malformed_signature() -> None:
    account = Account.create()
    message = make_message(account.address, "abcdef1234")
    text = message.to_text()
    signer = recover_signer(message, text, sign_personal_message(account.key, text))
    assert signer.address == account.address
    assert signer.public_key == b"\x04" + account._key_obj.public_key.to_bytes()
    with pytest.raises(SiweError, match="not made by"):
        recover_signer(message, text, sign_personal_message(Account.create().key, text))
    with pytest.raises(SiweError, match="bad signature"):
        recover_signer(message, text, "0x1234")
