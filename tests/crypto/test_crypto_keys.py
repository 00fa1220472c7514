"""The data key never shows its bytes."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

from anacostia_blockchain.crypto import DataKey
from anacostia_blockchain.errors import ConfigurationError


def test_repr_and_str_show_only_a_fingerprint(caplog: pytest.LogCaptureFixture) -> None:
    key = DataKey.generate()
    secret = key.secret_bytes()
    for text in (repr(key), str(key), f"{key}", f"{key!r}"):
        assert secret.hex() not in text
        assert key.key_id in text
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("using %s", key)
    assert secret.hex() not in caplog.text


def test_fingerprints_and_equality() -> None:
    material = bytes(range(32))
    assert DataKey(material) == DataKey(material)
    assert DataKey(material).key_id == DataKey(material).key_id
    assert DataKey(material) != DataKey.generate()
    assert len({DataKey(material), DataKey(material)}) == 1
    assert material.hex()[:16] != DataKey(material).key_id


def test_keys_cannot_be_pickled_or_copied_out_by_accident() -> None:
    key = DataKey.generate()
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.copy(key)


@pytest.mark.parametrize("material", [b"", bytes(31), bytes(33), "x" * 32])
def test_wrong_material_is_a_configuration_error(material: object) -> None:
    with pytest.raises(ConfigurationError) as caught:
        DataKey(material)  # type: ignore[arg-type]
    assert "32 bytes" in str(caught.value) or "from bytes" in str(caught.value)
