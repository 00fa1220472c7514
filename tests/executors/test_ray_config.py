"""RayExecutor's arguments: bad values are typed one-line errors before anything connects."""

from __future__ import annotations

import pytest

from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.executors import RayExecutor


@pytest.mark.parametrize("options", [{"max_retries": -1}, {"max_retries": 1.5}, {"resources": {"CPU": -1}},
                                     {"max_in_flight": 0}])
def test_bad_options_are_refused_when_the_executor_is_made(options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        RayExecutor(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize("address", ["no-port-here", "ray://", "127.0.0.1:notaport"])
def test_an_address_that_is_not_one_is_refused_at_start_naming_it(address: str) -> None:
    executor = RayExecutor(address)
    with pytest.raises(ConfigurationError, match="not a Ray address"):
        executor.start()
    assert not executor.started


def test_where_the_work_runs_is_described_without_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert RayExecutor().describe() == "the embedded Ray"
    assert RayExecutor("ray://head:10001").describe() == "the Ray cluster at ray://head:10001"
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    assert RayExecutor().target == "10.0.0.5:6379"
    assert "GPU" in repr(RayExecutor(resources={"GPU": 1}))
