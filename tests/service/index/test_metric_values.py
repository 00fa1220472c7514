"""Metric values in the index: read from the documents the project's writer produces (decimal strings) and from other
writers' JSON numbers, kept exact, and ordered by a byte key whose order is the numbers' order."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from writer_metadata import writer_document

from anacostia_blockchain.service.index import document_metrics, metric_decimal, metrics_json, sort_key

decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None, min_value=Decimal("-1e40"),
                       max_value=Decimal("1e40"))


def test_the_writers_decimal_strings_are_metrics_exactly() -> None:
    document = json.loads(writer_document("m", {"accuracy": Decimal("0.970000000000000001"), "loss": Decimal("1E-7"),
                                                "epochs": 10, "delta": Decimal("-2.5")}))
    assert document["properties"]["metrics"]["accuracy"] == "0.970000000000000001"  # what the writer states
    found = document_metrics(document)
    assert found == {"accuracy": Decimal("0.970000000000000001"), "loss": Decimal("1E-7"), "epochs": 10,
                     "delta": Decimal("-2.5")}
    assert str(found["accuracy"]) == "0.970000000000000001"


def test_other_writers_json_numbers_and_attributes() -> None:
    document = {
        "metrics": {"accuracy": 0.93, "epochs": 3, "flag": True, "note": "high", "bad": "NaN"},
        "attributes": [{"trait_type": "f1", "value": 0.5}, {"trait_type": "accuracy", "value": 0.1},
                       {"trait_type": "color", "value": "0.7"}, {"trait_type": 3, "value": 1}],
    }
    # numbers are their shortest round-tripping decimal; the first source naming a metric wins; string traits
    # in attributes are traits, not metrics
    assert document_metrics(document) == {"accuracy": Decimal("0.93"), "epochs": 3, "f1": Decimal("0.5")}


def test_only_plain_decimal_text_is_a_metric() -> None:
    for text in ("0.5", "-3", "1E-7", "1.50", "12e+3", "0"):
        assert metric_decimal(text) == Decimal(text), text
    for text in ("NaN", "Infinity", "-Infinity", " 1", "1 ", "0x10", "1_000", "+1", ".5", "5.", "01", "", "1e99999",
                 "1" * 101):
        assert metric_decimal(text) is None, text
    assert metric_decimal(True) is None and metric_decimal(None) is None and metric_decimal([1]) is None


@given(decimals, decimals)
def test_sort_keys_order_like_the_numbers(a: Decimal, b: Decimal) -> None:
    key_a, key_b = sort_key(a), sort_key(b)
    assert (key_a < key_b) == (a < b)
    assert (key_a == key_b) == (a == b)


def test_sort_keys_at_the_edges() -> None:
    values = [Decimal(v) for v in ("-1E+40", "-12.5", "-0.51", "-0.5", "-0.0031", "-0.003", "0", "1E-7", "0.5",
                                   "0.50", "0.51", "0.97", "0.970000000000000001", "1", "10", "1E+40")]
    keys = [sort_key(v) for v in values]
    assert keys == sorted(keys)
    assert sort_key(Decimal("0.5")) == sort_key(Decimal("0.50")) and sort_key(Decimal("-0")) == sort_key(Decimal(0))
    # more significant digits than the default decimal context keeps (28) still order exactly
    big, bigger = Decimal("9999999999999999999999999999500000000000"), Decimal("1.8E+39")
    assert big > bigger and sort_key(big) > sort_key(bigger)


def test_metrics_json_writes_the_exact_digits_as_json_numbers() -> None:
    rendered = metrics_json({"b": "0.970000000000000001", "a\"q": "1E-7", "c": "-2.50"})
    assert rendered == '{"a\\"q":1E-7,"b":0.970000000000000001,"c":-2.50}'
    assert json.loads(rendered, parse_float=Decimal) == {"a\"q": Decimal("1E-7"), "b": Decimal("0.970000000000000001"),
                                                         "c": Decimal("-2.50")}
    assert metrics_json({}) == "{}" and metrics_json(None) == "{}"
