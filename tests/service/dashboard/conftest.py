"""Fixtures of the dashboard tests: launched pipelines (``make_pipeline``) and a headless Chromium (``browser``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cdp import Browser, find_chromium
from dashboard_helpers import BuiltPipeline


@pytest.fixture
def make_pipeline(tmp_path: Path) -> Iterator[Any]:
    """``make_pipeline(name, steps=5)``: a launched pipeline (terminated after the test)."""
    launched: list[BuiltPipeline] = []

    def factory(name: str = "training", steps: int = 5) -> BuiltPipeline:
        built = BuiltPipeline(tmp_path, name, steps)
        built.pipeline.launch()
        launched.append(built)
        return built

    yield factory
    for built in launched:
        built.pipeline.terminate()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    binary = find_chromium()
    if binary is None:
        pytest.skip("chromium is not installed: run `make setup` (apt-get install -y chromium)")
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    opened = Browser(binary, profile)
    try:
        yield opened
    finally:
        opened.close()
