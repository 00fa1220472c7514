"""Artefact documents: canonical bytes, round trips, relationships they state, and one-line errors for bad input."""

from __future__ import annotations

import pytest

from anacostia_blockchain.artefacts import (
    ContentRef,
    DataSchema,
    DatasetBatch,
    Formula,
    ModelCard,
    ModelCheckpoint,
    load_document,
)
from anacostia_blockchain.errors import ArtefactNotFoundError, ValidationError
from anacostia_blockchain.ipfs import compute_cid

ITEMS = (ContentRef.of_bytes(b"batch one", resource="data", location="a.jsonl"), ContentRef.of_bytes(b"batch two"))
SCHEMA = DataSchema.of("records", [("text", "str"), ("label", "int")], kind="record")


def batch(**changes) -> DatasetBatch:
    formula = Formula("prep", "sha256:" + "1" * 64, "sha256:" + "2" * 64, {"lower": True}, (ITEMS[1],))
    fields = {"name": "train", "items": ITEMS, "formula": formula, "schema": SCHEMA, **changes}
    return DatasetBatch(**fields)


def test_a_batch_is_canonical_and_round_trips() -> None:
    data = batch().to_bytes()
    assert data == batch().to_bytes() and b" " not in data.replace(b"batch one", b"")
    loaded = load_document(data)
    assert loaded == batch() and loaded.cids == [ITEMS[0].cid, ITEMS[1].cid]
    own = ContentRef.of_bytes(data)
    [relationship] = loaded.relationships(own)
    assert (relationship.type, relationship.source, relationship.target) == ("derived_from", own, ITEMS[1])
    assert batch(items=ITEMS[:1]).to_bytes() != data  # different content, different document


def test_a_batch_fetches_and_checks_every_item() -> None:
    store = {ref.cid: content for ref, content in zip(ITEMS, (b"batch one", b"batch two"), strict=True)}
    assert batch().fetch_items(store.__getitem__) == [b"batch one", b"batch two"]
    store[ITEMS[1].cid] = b"batch 2!!"
    with pytest.raises(ValidationError, match="does not match its reference"):
        batch().fetch_items(store.__getitem__)
    with pytest.raises(ArtefactNotFoundError, match="has no CID"):
        ContentRef(ITEMS[0].sha256, 9).fetch(store.__getitem__)


def test_checkpoint_and_card_state_their_relationships() -> None:
    weights = ContentRef.of_bytes(b"weights")
    batch_ref = ContentRef.of_bytes(batch().to_bytes())
    evaluation = ContentRef.of_bytes(b"held out")
    checkpoint = ModelCheckpoint("clf", "skops", "scikit-learn", "1.5", weights, SCHEMA, None, batch_ref,
                                 (evaluation,))
    loaded = load_document(checkpoint.to_bytes())
    assert loaded == checkpoint
    own = ContentRef.of_bytes(checkpoint.to_bytes())
    assert [(r.type, r.target) for r in loaded.relationships(own)] == [("trained_on", batch_ref),
                                                                       ("evaluated_on", evaluation)]
    card = ModelCard("clf card", own, "# A classifier")
    assert [(r.type, r.target) for r in load_document(card.to_bytes()).relationships(ContentRef.of_bytes(b"c"))] == [
        ("card_of", own)]
    assert ContentRef.of_bytes(b"x").cid == compute_cid(b"x")


@pytest.mark.parametrize("data, message", [
    (b"not json", "not an artefact document: JSONDecodeError"),
    (b"[1, 2]", "a JSON list, not an object"),
    (b'{"artefact": "tensor_board"}', "'artefact' is 'tensor_board'"),
    (b'{"artefact": "dataset_batch", "format": 9}', "format 9 is not supported"),
    (b'{"artefact": "dataset_batch", "format": 1, "name": "x"}', "field 'items' is missing"),
    (b'{"artefact": "dataset_batch", "format": 1, "name": "x", "items": [{"sha256": "zz", "size": 1}]}',
     "sha256 of 64 lowercase hex"),
    (b'{"artefact": "model_card", "format": 1, "name": " ", "card_of": {}}', "needs 'sha256'"),
])
def test_bad_documents_are_one_line_validation_errors(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as raised:
        load_document(data)
    assert "\n" not in str(raised.value)


def test_schema_and_relationship_types_are_checked() -> None:
    with pytest.raises(ValidationError, match="type 'varchar' is not one of"):
        DataSchema.of("s", [("a", "varchar")])
    with pytest.raises(ValidationError, match="names a column twice"):
        DataSchema.of("s", [("a", "int"), ("a", "str")])
    SCHEMA.check_record({"text": "hi", "label": 1, "extra": 0})
    with pytest.raises(ValidationError, match="missing label"):
        SCHEMA.check_record({"text": "hi"})
    with pytest.raises(ValidationError, match="lists the same content twice"):
        batch(items=(ITEMS[0], ITEMS[0]))
