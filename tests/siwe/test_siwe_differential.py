"""The SIWE parser and formatter against the ecosystem's own libraries: npm ``siwe@3`` (ethers 6) and PyPI ``siwe``.

A seeded corpus of valid messages (every field's edge cases) and mutations of them goes to both references in one
batch each. Every message is accepted here iff both references accept it; where they disagree, the disagreement
must be one of the documented kinds (siwe_disagreements.py), it must vanish when that feature is removed, and this
package takes the documented side. Whatever a reference parses, this package reads the same fields and writes the
identical text back; what this package writes, both references read back to the same fields.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from siwe_corpus import Sample, corpus
from siwe_disagreements import BASE, DISAGREEMENTS, Disagreement, explain, neutralise, our_choice
from siwe_peers import Peer, ask_both

from anacostia_blockchain.errors import SiweError
from anacostia_blockchain.siwe import SiweMessage

Verdicts = list[tuple[Sample, dict[str, Any], dict[str, Any]]]
#: Another seed explores further: ANACOSTIA_SIWE_SEED=N pytest tests/siwe/test_siwe_differential.py
SEED = int(os.environ.get("ANACOSTIA_SIWE_SEED", "4361"))
VALID, MUTATED = 400, 800
#: Field names as the peers report them.
FIELDS = ("scheme", "domain", "address", "statement", "uri", "version", "chain_id", "nonce", "issued_at",
          "expiration_time", "not_before", "request_id", "resources")  # fmt: skip


def ours(text: str) -> SiweMessage | SiweError:
    try:
        return SiweMessage.parse(text)
    except SiweError as exc:
        return exc


def our_fields(message: SiweMessage) -> dict[str, Any]:
    fields = {name: getattr(message, name) for name in FIELDS}
    fields["resources"] = None if message.resources is None else list(message.resources)
    return fields


def comparable(reference: dict[str, Any], message: SiweMessage) -> dict[str, Any]:
    """A reference's fields, with its chain ID taken as read when it could not hold the number (npm: a double)."""
    fields = dict(reference)
    if not isinstance(fields["chain_id"], int) or fields["chain_id"] > 2**53:
        fields["chain_id"] = message.chain_id
    return fields


@pytest.fixture(scope="module")
def verdicts(npm_siwe: Peer, pypi_siwe: Peer) -> Verdicts:
    samples = corpus(SEED, VALID, MUTATED)
    npm, pypi = ask_both(npm_siwe, pypi_siwe, {"op": "parse", "messages": [s.text for s in samples]})
    return list(zip(samples, npm, pypi, strict=True))


def test_the_corpus_covers_acceptance_and_refusal(verdicts: Verdicts) -> None:
    accepted = sum(npm["ok"] and pypi["ok"] for _, npm, pypi in verdicts)
    refused = sum(not npm["ok"] and not pypi["ok"] for _, npm, pypi in verdicts)
    assert accepted > VALID // 2 and refused > MUTATED // 2, (accepted, refused)


def test_accepted_here_iff_accepted_by_both_references(
    verdicts: Verdicts, npm_siwe: Peer, pypi_siwe: Peer
) -> None:
    wrong: list[str] = []
    disagreements: list[tuple[Sample, list[Disagreement]]] = []
    for sample, npm, pypi in verdicts:
        mine = ours(sample.text)
        if npm["ok"] != pypi["ok"]:
            kinds = explain(sample.text)
            if not kinds:
                verdict = f"npm {npm['ok']}, PyPI {pypi['ok']}"
                wrong.append(f"unexplained disagreement ({verdict}) {sample.how}: {sample.text!r}")
            disagreements.append((sample, kinds))
            expected = our_choice(kinds)
        else:
            expected = npm["ok"]
        if isinstance(mine, SiweMessage) != expected:
            wrong.append(f"{sample.how}: expected accepted={expected}, got {mine!r}; npm {npm}, PyPI {pypi}")
    cleaned = [neutralise(sample.text, kinds) for sample, kinds in disagreements]
    npm_clean, pypi_clean = ask_both(npm_siwe, pypi_siwe, {"op": "parse", "messages": cleaned})
    for (sample, _kinds), text, npm, pypi in zip(disagreements, cleaned, npm_clean, pypi_clean, strict=True):
        if npm["ok"] != pypi["ok"]:
            wrong.append(f"disagreement not explained by its kinds ({sample.how}): {text!r}")
    assert not wrong, f"{len(wrong)} of {len(verdicts)}:\n" + "\n".join(wrong[:15])


def test_every_error_is_one_line_and_typed(verdicts: Verdicts) -> None:
    errors = [ours(sample.text) for sample, _, _ in verdicts]
    refused = [str(error) for error in errors if isinstance(error, SiweError)]
    assert refused and all(message and "\n" not in message and "\r" not in message for message in refused)


def test_what_the_references_parse_reads_the_same_and_writes_back_identically(
    verdicts: Verdicts,
) -> None:
    wrong: list[str] = []
    for sample, *replies in verdicts:
        mine = ours(sample.text)
        if not isinstance(mine, SiweMessage):
            continue
        if mine.to_text() != sample.text:
            wrong.append(f"re-serialised differently: {sample.text!r}")
        for reply in replies:
            if not reply["ok"]:
                continue
            theirs = comparable(reply["fields"], mine)
            if theirs != our_fields(mine):
                wrong.append(f"fields differ for {sample.text!r}: {theirs} != {our_fields(mine)}")
            rebuilt = SiweMessage(**theirs, chain_id_text=mine.chain_id_text)
            if rebuilt.to_text() != sample.text:
                wrong.append(f"their fields written here differ: {rebuilt.to_text()!r} != {sample.text!r}")
    assert not wrong, "\n".join(wrong[:15])


def test_the_formatter_writes_the_eip_template_for_every_valid_sample(
    verdicts: Verdicts,
) -> None:
    written = 0
    for sample, npm, pypi in verdicts:
        if sample.fields is None or not (npm["ok"] and pypi["ok"]):
            continue
        assert SiweMessage(**sample.fields).to_text() == sample.text
        written += 1
    assert written > VALID // 2


@pytest.mark.parametrize("kind", DISAGREEMENTS, ids=[kind.name for kind in DISAGREEMENTS])
def test_each_documented_disagreement_and_the_side_taken(kind: Disagreement, npm_siwe: Peer, pypi_siwe: Peer) -> None:
    messages = [kind.example, kind.neutralise(kind.example)]
    npm, pypi = ask_both(npm_siwe, pypi_siwe, {"op": "parse", "messages": messages})
    assert (npm[0]["ok"], pypi[0]["ok"]) == (kind.npm, kind.pypi)
    assert npm[1]["ok"] and pypi[1]["ok"]  # the example differs from an agreed message by this feature alone
    assert explain(kind.example) == [kind]
    assert isinstance(ours(kind.example), SiweMessage) == kind.ours


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (BASE.replace("I accept", "I\x01 accept"), "statement"),
        (BASE.replace("I accept", "I accept\ttab"), "statement"),
        (BASE.replace("I accept", "caf\u00e9"), "statement"),
        (BASE.replace("I accept", "50% off"), "statement"),
        (BASE + "\nRequest ID: abc def", "request ID"),
        (BASE + "\nRequest ID: a\x01b", "request ID"),
        (BASE + "\nRequest ID: a/b", "request ID"),
        (BASE.replace("Chain ID: 1", "Chain ID: \u0661"), "chain ID"),
        (BASE.replace("Nonce: 32891756", "Nonce: \uff13\uff12\uff18\uff19\uff11\uff17\uff15\uff16"), "nonce"),
        (BASE.replace("2021-09-30T", "\uff12021-09-30T"), "Issued At"),
    ],
)
def test_what_both_references_refuse_is_refused_naming_the_field(
    text: str, field: str, npm_siwe: Peer, pypi_siwe: Peer
) -> None:
    npm, pypi = ask_both(npm_siwe, pypi_siwe, {"op": "parse", "messages": [text]})
    assert not npm[0]["ok"] and not pypi[0]["ok"]
    with pytest.raises(SiweError, match=field) as refused:
        SiweMessage.parse(text)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("text", "npm_writes", "pypi_writes"),
    [
        (BASE + "\nRequest ID: ", BASE, BASE),
        (BASE.replace("Chain ID: 1", "Chain ID: 100000000000000000000000"),
         BASE.replace("Chain ID: 1", "Chain ID: 1e+23"), None),
        (BASE.replace("Chain ID: 1", "Chain ID: 0"), None, BASE),
        (BASE + "\nResources:", None, BASE),
        (BASE.replace("Chain ID: 1", "Chain ID: 007"),
         BASE.replace("Chain ID: 1", "Chain ID: 7"), BASE.replace("Chain ID: 1", "Chain ID: 7")),
    ],
)  # fmt: skip
def test_the_references_formatters_lose_values_this_package_keeps(
    text: str, npm_writes: str | None, pypi_writes: str | None, npm_siwe: Peer, pypi_siwe: Peer
) -> None:
    npm, pypi = ask_both(npm_siwe, pypi_siwe, {"op": "parse", "messages": [text]})
    assert npm[0]["ok"] and pypi[0]["ok"]
    assert npm[0]["text"] == (npm_writes or text) and pypi[0]["text"] == (pypi_writes or text)
    assert SiweMessage.parse(text).to_text() == text
