"""``docs/operations.md`` documents every setting by its environment name and TOML key."""

from __future__ import annotations

from pathlib import Path

from anacostia_blockchain.settings import env_name, known_names

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text()
    missing = [name for name in sorted(known_names()) if env_name(name) not in text or f"`{name}`" not in text]
    assert missing == []
