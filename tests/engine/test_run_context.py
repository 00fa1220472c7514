"""``attributed_context``: what a record made now belongs to (the node's and the run store's one rule)."""

from __future__ import annotations

import threading

import pytest

from anacostia_blockchain.engine import ExecutionContext, attributed_context, executing
from anacostia_blockchain.errors import NoActiveRunError


def test_the_executing_node_wins_over_the_run_in_progress() -> None:
    with executing(7, "trainer"):
        assert attributed_context(3, "store") == ExecutionContext(7, "trainer")
        assert attributed_context(None, "store") == ExecutionContext(7, "trainer")


def test_a_thread_outside_execute_gets_the_run_in_progress_without_a_node() -> None:
    seen: list[ExecutionContext] = []
    with executing(7, "trainer"):
        thread = threading.Thread(target=lambda: seen.append(attributed_context(3, "store")))
        thread.start()
        thread.join()
    assert seen == [ExecutionContext(3, None)]


def test_no_run_is_an_error_naming_the_owner() -> None:
    with pytest.raises(NoActiveRunError, match=r"^metadata_store: nothing to attribute this to"):
        attributed_context(None, "metadata_store")
