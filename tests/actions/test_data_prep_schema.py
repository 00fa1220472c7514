"""Record validation (JSONL / CSV / TSV) and text cleaning used by the data-preparation node."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from anacostia_blockchain.actions.data_prep_cleaning import Deduplicator, TextCleaner
from anacostia_blockchain.actions.data_prep_schema import FieldSpec, RecordSchema, detect_format, iter_records
from anacostia_blockchain.errors import ConfigurationError, ValidationError

SCHEMA = RecordSchema.of(text="str", label="int?", score="float?", keep="bool?")


def _records(raw: bytes, fmt: str, schema: RecordSchema = SCHEMA) -> list[tuple[int, dict]]:
    return list(iter_records(io.BytesIO(raw), fmt, schema))


def test_jsonl_records_are_typed_and_ordered() -> None:
    raw = b'{"label": 1, "text": "a"}\n\n{"text": "b", "score": 2, "keep": false}\n'
    assert _records(raw, "jsonl") == [(1, {"text": "a", "label": 1}), (3, {"text": "b", "score": 2.0, "keep": False})]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"text": "ok"', "line 2: not valid JSON"),
        (b'["text"]', "line 2: a record must be a JSON object"),
        (b'{"label": 3}', "line 2: field 'text' is missing"),
        (b'{"text": 5}', "line 2: field 'text' must be str, got int"),
        (b'{"text": "x", "label": true}', "line 2: field 'label' must be int, got bool"),
        (b'{"text": "x", "score": NaN}', "line 2: not valid JSON"),
        (b'{"text": "x", "extra": 1}', "line 2: unexpected field(s) 'extra'"),
    ],
)
def test_jsonl_problems_name_the_line_and_the_reason(line: bytes, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _records(b'{"text": "fine"}\n' + line + b"\n", "jsonl")
    assert str(caught.value).startswith(reason)


def test_extra_fields_pass_through_when_allowed() -> None:
    schema = RecordSchema.of(text="str", allow_extra_fields=True)
    assert _records(b'{"text": "x", "source": "web"}\n', "jsonl", schema) == [(1, {"text": "x", "source": "web"})]


def test_csv_cells_are_converted_and_checked() -> None:
    raw = b'text,label,score,keep\r\nhello,1,0.5,yes\r\n"multi\nline",,,\r\n'
    assert _records(raw, "csv") == [
        (2, {"text": "hello", "label": 1, "score": 0.5, "keep": True}),
        (4, {"text": "multi\nline"}),
    ]
    assert _records(b"text\tlabel\nx\t2\n", "tsv") == [(2, {"text": "x", "label": 2})]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty file"),
        (b"label\n1\n", "header lacks required column(s) 'text'"),
        (b"text,text\na,b\n", "header has duplicate column names"),
        (b"text,label\nx,one\n", "row 2: field 'label': 'one' is not a valid int"),
        (b"text,score\nx,inf\n", "row 2: field 'score' must be a finite number"),
        (b"text,keep\nx,maybe\n", "row 2: field 'keep': 'maybe' is not a boolean"),
        (b"text,label\nx,1,2\n", "row 2: 3 values for 2 columns"),
        (b'text\n"unterminated\n', "row 2: malformed CSV"),
    ],
)
def test_csv_problems_name_the_row_and_the_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _records(raw, "csv")
    assert str(caught.value).startswith(reason)


def test_non_utf8_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="not valid UTF-8"):
        _records(b'{"text": "caf\xe9"}\n', "jsonl")


def test_formats_come_from_the_suffix() -> None:
    assert detect_format(Path("a/b.JSONL")) == "jsonl"
    assert detect_format(Path("b.ndjson")) == "jsonl"
    assert detect_format(Path("b.csv")) == "csv"
    with pytest.raises(ValidationError, match=r"unsupported file type '\.txt'"):
        detect_format(Path("notes.txt"))
    assert detect_format(Path("bafkreigh2akiscaild"), default="csv") == "csv"
    assert detect_format(Path("x.jsonl"), default="csv") == "jsonl"
    with pytest.raises(ConfigurationError, match="unknown data format 'xml'"):
        detect_format(Path("x"), default="xml")


def test_length_bounds_apply_after_cleaning() -> None:
    schema = RecordSchema((FieldSpec("text", min_length=3, max_length=5),))
    schema.check_lengths({"text": "abc"})
    with pytest.raises(ValidationError, match="shorter than 3"):
        schema.check_lengths({"text": "ab"})
    with pytest.raises(ValidationError, match="longer than 5"):
        schema.check_lengths({"text": "abcdef"})


def test_schema_definitions_are_checked() -> None:
    with pytest.raises(ConfigurationError):
        FieldSpec("x", type="list")
    with pytest.raises(ConfigurationError):
        FieldSpec("x", type="int", min_length=1)
    with pytest.raises(ConfigurationError):
        RecordSchema((FieldSpec("x"), FieldSpec("x")))
    with pytest.raises(ConfigurationError):
        RecordSchema(())


def test_text_cleaner_normalises_unicode_whitespace_and_invisibles() -> None:
    cleaner = TextCleaner()
    decomposed = "Cafe\u0301"
    assert cleaner.clean(decomposed) == "Café" and len(cleaner.clean(decomposed)) == 4
    assert cleaner.clean("  a \t\u00a0 b  \r\n\r\n\r\n\r\nc\u200b\x07 ") == "a b\n\nc"
    assert cleaner.clean("\ufeffline one  \nline two") == "line one\nline two"
    assert TextCleaner(collapse_whitespace=False).clean("a  b") == "a  b"
    assert TextCleaner(normal_form="NFKC").clean("ﬁ") == "fi"
    with pytest.raises(ConfigurationError):
        TextCleaner(normal_form="NFX")


def test_deduplicator_commits_or_discards_a_file() -> None:
    dedupe = Deduplicator(["text"])
    assert not dedupe.seen_before({"text": "a", "label": 1})
    assert dedupe.seen_before({"text": "a", "label": 2})  # same key field, different other field
    dedupe.discard()
    assert len(dedupe) == 0
    assert not dedupe.seen_before({"text": "a"})
    dedupe.commit()
    assert dedupe.seen_before({"text": "a"})
    assert len(dedupe) == 1
    whole = Deduplicator()
    assert not whole.seen_before({"text": "a", "label": 1})
    assert not whole.seen_before({"text": "a", "label": 2})
    assert whole.seen_before({"label": 1, "text": "a"})  # key order does not matter
