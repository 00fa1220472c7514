"""The RPC node SIGKILLed in the middle of a pipeline that anchors its runs: every run lands exactly once.

The scenario itself (kill after ``anvil_dumpState``, restart on the same port from that state, a producer dropping
files all along) is :func:`fault_scenarios.run_chain_outage`; ``benchmarks/soak.py`` runs it with a 30 s outage.
Here the outage lasts a few seconds, long enough for the sender's ``submit_timeout`` (1 s) and several backoff
rounds to fail against a dead port.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_scenarios import run_chain_outage

pytestmark = pytest.mark.slow


def test_rpc_node_killed_mid_pipeline_every_run_anchored_exactly_once(tmp_path: Path) -> None:
    report = run_chain_outage(tmp_path / "outage", outage_seconds=4.0)

    assert report.runs_during_outage >= 1, "the pipeline must keep producing runs while the chain is down"
    assert report.runs == list(range(1, len(report.runs) + 1)), "run ids are contiguous: no run was lost"
    assert report.run_statuses == {"success": len(report.runs)}
    assert report.files_dropped >= len(report.runs)  # several files may land in one run, never one file in two
    assert report.inputs_recorded == report.inputs_consumed_once == report.files_dropped
    assert report.duplicated == []
    assert report.missing == []
    assert set(report.anchored_events) == set(report.runs), "no anchor for a run id the database does not have"
    assert report.outbox_statuses == {"confirmed": len(report.runs)}
    assert max(report.anchor_attempts.values()) >= 2, "some anchor must have failed during the outage and retried"
