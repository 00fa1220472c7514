"""pytest fixtures for code that talks to a chain (registered as a pytest11 plugin).

- ``devnet``: one anvil per test session (per xdist worker).
- ``fresh_chain``: the session devnet, reverted to a snapshot after the test, so each test sees a clean chain.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .devnet import Devnet


@pytest.fixture(scope="session")
def devnet() -> Iterator[Devnet]:
    with Devnet() as chain:
        yield chain


@pytest.fixture
def fresh_chain(devnet: Devnet) -> Iterator[Devnet]:
    snapshot = devnet.snapshot()
    try:
        yield devnet
    finally:
        devnet.revert(snapshot)
