"""The service's own third-party libraries are owned by ``service/`` in ``.importlinter``: a forbidden contract over
the whole package, with only ``service`` modules allowed to import them (``lint-imports`` in ``make test`` enforces
it; this test fails when such a contract is missing or lets another package through)."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "anacostia_blockchain"


def _contracts() -> list[configparser.SectionProxy]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter")
    return [parser[name] for name in parser.sections() if name.startswith("importlinter:contract:")]


def _lines(section: configparser.SectionProxy, key: str) -> list[str]:
    return [line.strip() for line in section.get(key, "").splitlines() if line.strip()]


@pytest.mark.parametrize("library", ["redis", "fastapi_offline"])
def test_only_service_may_import(library: str) -> None:
    owning = [c for c in _contracts() if c.get("type") == "forbidden" and library in _lines(c, "forbidden_modules")]
    assert owning, f".importlinter has no contract forbidding {library}"
    (contract,) = owning
    assert _lines(contract, "source_modules") == [PACKAGE], "the contract must cover every package, new ones too"
    allowed = [line for line in _lines(contract, "ignore_imports") if line.split(" -> ")[1].split(".")[0] == library]
    assert allowed and all(line.startswith(f"{PACKAGE}.service.") for line in allowed), allowed
