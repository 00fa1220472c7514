"""pytest fixtures for code that talks to a chain (registered as a pytest11 plugin).

- ``devnet``: one development node per test session (per xdist worker). anvil by default;
  ``--chain-node hardhat`` / ``--chain-node ganache`` (or ``ANACOSTIA_TEST_NODE``) starts Hardhat Network or
  Ganache instead, and ``ANACOSTIA_TEST_RPC_URL=http://...`` points every test at a node started elsewhere (its
  accounts must be those of :data:`~.dev_node.DEV_MNEMONIC`; run such a session without xdist, since tests snapshot
  and revert the one shared chain).
- ``fresh_chain``: the session node, reverted after the test (``evm_snapshot`` / ``evm_revert``), so each test sees
  a clean chain.
- ``anvil_node`` / ``hardhat_node`` / ``ganache_node``: an anvil / Hardhat Network / Ganache of their own for the
  session, for tests that compare nodes whatever ``devnet`` is.
- marker ``anvil_only``: the test needs anvil itself (``anvil_*`` methods, state files, kill and restart); it is
  skipped when ``devnet`` is another node.
- ``--chain-tests-only``: keep only the tests that use ``devnet`` (directly or through ``fresh_chain`` and other
  fixtures): how ``make test`` runs tests/chain and tests/anchoring a second time on Hardhat Network.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ..rpc.node_kind import NodeKind
from .dev_node import DevNode, ExternalNode
from .devnet import Devnet
from .js_nodes import GanacheNode, HardhatNode

NODE_ENV = "ANACOSTIA_TEST_NODE"
RPC_URL_ENV = "ANACOSTIA_TEST_RPC_URL"
LAUNCHERS: dict[str, type[Devnet] | type[HardhatNode] | type[GanacheNode]] = {
    "anvil": Devnet,
    "hardhat": HardhatNode,
    "ganache": GanacheNode,
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("anacostia chain")
    group.addoption(
        "--chain-node",
        choices=sorted(LAUNCHERS),
        default=None,
        help=f"which development node the devnet fixture starts (default: ${NODE_ENV} or anvil; "
        f"${RPC_URL_ENV} uses a running node instead)",
    )
    group.addoption(
        "--chain-tests-only",
        action="store_true",
        help="deselect tests that do not use the devnet fixture (a second pass on another node runs only these)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "anvil_only: needs anvil itself; skipped when devnet is another node")


def chosen_node(config: pytest.Config) -> str:
    """``"external"`` when ANACOSTIA_TEST_RPC_URL is set, else the node ``--chain-node`` / ANACOSTIA_TEST_NODE names."""
    if os.environ.get(RPC_URL_ENV):
        return "external"
    name = config.getoption("--chain-node") or os.environ.get(NODE_ENV) or "anvil"
    if name not in LAUNCHERS:
        raise pytest.UsageError(f"{NODE_ENV}={name!r}: expected one of {', '.join(sorted(LAUNCHERS))}")
    return str(name)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--chain-tests-only"):
        chain_tests = [item for item in items if "devnet" in getattr(item, "fixturenames", ())]
        config.hook.pytest_deselected(items=[item for item in items if item not in chain_tests])
        items[:] = chain_tests
    node = chosen_node(config)
    if node == "anvil" or not any(item.get_closest_marker("anvil_only") for item in items):
        return
    if node == "external":
        with ExternalNode(os.environ[RPC_URL_ENV]) as external:
            if external.kind is NodeKind.ANVIL:
                return
            node = external.kind.value
    skip = pytest.mark.skip(reason=f"needs anvil; the session's chain is {node}")
    for item in items:
        if item.get_closest_marker("anvil_only"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def devnet(pytestconfig: pytest.Config) -> Iterator[DevNode]:
    node = chosen_node(pytestconfig)
    chain: DevNode = ExternalNode(os.environ[RPC_URL_ENV]) if node == "external" else LAUNCHERS[node]()
    with chain:
        yield chain


@pytest.fixture
def fresh_chain(devnet: DevNode) -> Iterator[DevNode]:
    snapshot = devnet.snapshot()
    try:
        yield devnet
    finally:
        devnet.revert(snapshot)


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[Devnet]:
    with Devnet() as node:
        yield node


@pytest.fixture(scope="session")
def hardhat_node() -> Iterator[HardhatNode]:
    with HardhatNode() as node:
        yield node


@pytest.fixture(scope="session")
def ganache_node() -> Iterator[GanacheNode]:
    with GanacheNode() as node:
        yield node
