"""Engine benchmark: prints one JSON document with each figure next to its target and its same-run baseline.

- trigger latency (file closed -> ``execute()`` starts), p50/p99, with 0 / 1,000 / 10,000 files already in the
  folder; baseline: raw watchdog (close -> handler) on the same folder in the same run;
- idle CPU of a running pipeline (% of one core, whole process);
- back-to-back runs per minute with a trivial action;
- ``log_metrics`` single calls/s vs raw ``sqlite3`` single-row insert+commit, and ``log_batch`` rows/s vs raw
  ``sqlite3`` ``executemany`` (same rows, same pragmas, same run).

Usage: ``python benchmarks/engine.py [--quick]`` (``--quick``: fewer samples, for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.inotify import InotifyObserver

from anacostia_blockchain import BaseActionNode, BaseNode, FilesystemStoreNode, Pipeline, SqliteMetadataStore
from anacostia_blockchain.engine import executing


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def populate(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (folder / f"existing-{index:05d}.csv").write_text(f"{index}\n")


class StartStamp(BaseActionNode):
    """Trivial action: stamps when execute() starts."""

    def __init__(self, name: str, predecessors: list[BaseNode]) -> None:
        super().__init__(name, predecessors)
        self.stamps: queue.SimpleQueue[float] = queue.SimpleQueue()

    def execute(self, *args: object, **kwargs: object) -> bool:
        self.stamps.put(time.perf_counter())
        return True


def write_closed(path: Path, data: bytes) -> float:
    with open(path, "wb") as fh:
        fh.write(data)
    return time.perf_counter()


def trigger_latency(workdir: Path, existing: int, samples: int) -> dict[str, float]:
    folder = workdir / f"data-{existing}"
    populate(folder, existing)
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{workdir}/trigger-{existing}.db")
    data = FilesystemStoreNode("data", folder, store, init_state="old", create=True)
    action = StartStamp("action", [data])
    latencies = []
    with Pipeline([store, data, action]) as pipeline:
        for index in range(samples):
            closed = write_closed(folder / f"new-{index}.csv", f"sample {index}\n".encode())
            started = action.stamps.get(timeout=10)
            latencies.append((started - closed) * 1000)
            pipeline.wait_for_runs(index + 1, timeout=10)
    return {"p50_ms": round(percentile(latencies, 50), 3), "p99_ms": round(percentile(latencies, 99), 3),
            "samples": samples}


def watchdog_baseline(workdir: Path, existing: int, samples: int) -> dict[str, float]:
    folder = workdir / f"data-{existing}"
    stamps: queue.SimpleQueue[float] = queue.SimpleQueue()

    class Handler(FileSystemEventHandler):
        def on_closed(self, event: FileSystemEvent) -> None:
            stamps.put(time.perf_counter())

    observer = InotifyObserver()
    observer.schedule(Handler(), str(folder), recursive=True)
    observer.start()
    latencies = []
    try:
        for index in range(samples):
            closed = write_closed(folder / f"raw-{index}.csv", b"raw\n")
            latencies.append((stamps.get(timeout=10) - closed) * 1000)
    finally:
        observer.stop()
        observer.join()
    return {"p50_ms": round(percentile(latencies, 50), 3), "p99_ms": round(percentile(latencies, 99), 3)}


def idle_cpu(workdir: Path, seconds: float) -> float:
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{workdir}/idle.db")
    data = FilesystemStoreNode("data", workdir / "idle", store, create=True)
    action = StartStamp("action", [data])
    with Pipeline([store, data, action]):
        time.sleep(0.5)
        cpu, wall = time.process_time(), time.monotonic()
        time.sleep(seconds)
        return round((time.process_time() - cpu) / (time.monotonic() - wall) * 100, 3)


class AlwaysReady(FilesystemStoreNode):
    """A resource that always wants a run: measures the engine's own per-run cost."""

    def trigger_condition(self) -> bool:
        return True


def runs_per_minute(workdir: Path, seconds: float) -> dict[str, float]:
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{workdir}/runs.db")
    data = AlwaysReady("data", workdir / "runs", store, create=True)
    action = StartStamp("action", [data])
    with Pipeline([store, data, action]) as pipeline:
        start_runs, start = pipeline.runs_finished, time.monotonic()
        time.sleep(seconds)
        done, elapsed = pipeline.runs_finished - start_runs, time.monotonic() - start
    statuses = Counter(run["status"] for run in store.runs.get_runs())
    # terminate() lands mid-run: that last run is `aborted` by design; every other run must have succeeded.
    return {"runs_per_min": round(done / elapsed * 60), "runs": done, "statuses": dict(statuses)}


def raw_sqlite(path: Path) -> sqlite3.Connection:
    """Raw sqlite3 on the same schema (indexes, foreign keys) and pragmas as the store: the same inserts."""
    schema_owner = SqliteMetadataStore("schema", f"sqlite:///{path}")
    schema_owner.open_store()
    schema_owner.runs.begin_run("raw", [])
    schema_owner.close_store()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


RAW_INSERT = "INSERT INTO metrics (run_id, node_name, key, value, step, timestamp) VALUES (?,?,?,?,?,?)"
RAW_TRIPLE_INSERT = ("INSERT INTO metrics (run_id, node_name, key, value, step, timestamp) "
                     "VALUES (1, 'bench', ?, ?, ?, {ts})")


def store_logging(path: Path, calls: int, rows: int) -> tuple[float, float]:
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{path}")
    store.open_store()
    run_id = store.runs.begin_run("bench", [])
    with executing(run_id, "bench"):
        start = time.perf_counter()
        for step in range(calls):
            store.log_metrics(step=step, loss=1.0 / (step + 1))
        single = calls / (time.perf_counter() - start)
        batch = [("loss", 1.0 / (i + 1), i) for i in range(rows)]
        start = time.perf_counter()
        store.log_batch(metrics=batch)
        batched = rows / (time.perf_counter() - start)
    store.runs.end_run(run_id, "success")
    store.close_store()
    return single, batched


def raw_logging(path: Path, calls: int, rows: int) -> tuple[float, float]:
    conn = raw_sqlite(path)
    start = time.perf_counter()
    for step in range(calls):
        conn.execute("BEGIN")
        conn.execute(RAW_INSERT, (1, "bench", "loss", 1.0 / (step + 1), step, time.time()))
        conn.execute("COMMIT")
    single = calls / (time.perf_counter() - start)
    now = time.time()
    raw_rows = [(1, "bench", "loss", 1.0 / (i + 1), i, now) for i in range(rows)]
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(RAW_INSERT, raw_rows)
    conn.execute("COMMIT")
    batched = rows / (time.perf_counter() - start)
    # The strictest baseline: the per-batch constants as SQL literals, only (key, value, step) bound per row.
    triples = [("loss", 1.0 / (i + 1), i) for i in range(rows)]
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(RAW_TRIPLE_INSERT.format(ts=repr(time.time())), triples)
    conn.execute("COMMIT")
    batched_literal = rows / (time.perf_counter() - start)
    conn.close()
    return single, max(batched, batched_literal)


def logging_throughput(workdir: Path, calls: int, rows: int, rounds: int = 3) -> dict[str, float]:
    """Store and raw sqlite3 alternate for ``rounds`` rounds on fresh files; the best round of each counts
    (the machine is shared, so the best round is the least disturbed one)."""
    store_results, raw_results = [], []
    for index in range(rounds):
        store_results.append(store_logging(workdir / f"log-{index}.db", calls, rows))
        raw_results.append(raw_logging(workdir / f"raw-{index}.db", calls, rows))
    single = max(r[0] for r in store_results)
    batched = max(r[1] for r in store_results)
    raw_single = max(r[0] for r in raw_results)
    raw_batched = max(r[1] for r in raw_results)
    return {
        "log_metrics_calls_per_s": round(single), "raw_sqlite3_single_inserts_per_s": round(raw_single),
        "log_batch_rows_per_s": round(batched),
        # best of: all six columns bound per row, or only (key, value, step) bound with literal constants
        "raw_sqlite3_executemany_rows_per_s": round(raw_batched),
        "batched_vs_raw": round(batched / raw_batched, 3), "rounds": rounds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    args = parser.parse_args()
    samples = 30 if args.quick else 100
    with tempfile.TemporaryDirectory(prefix="anacostia-bench-") as tmp:
        workdir = Path(tmp)
        trigger = {}
        for existing in (0, 1_000, 10_000):
            engine = trigger_latency(workdir, existing, samples)
            baseline = watchdog_baseline(workdir, existing, samples)
            trigger[f"{existing}_files"] = {**engine, "raw_watchdog_baseline": baseline}
        result = {
            "trigger_latency": trigger,
            "idle_cpu_percent_of_core": idle_cpu(workdir, 3.0 if args.quick else 10.0),
            "back_to_back": runs_per_minute(workdir, 2.0 if args.quick else 5.0),
            "logging": logging_throughput(workdir, 2_000 if args.quick else 10_000, 50_000 if args.quick else 200_000),
            "targets": {"trigger_p50_ms_at_10k": 10, "trigger_p99_ms_at_10k": 50, "idle_cpu_percent": 0.5,
                        "runs_per_min": 6000, "log_metrics_calls_per_s": 2000, "batched_vs_raw": 0.7},
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        }
    t10k = result["trigger_latency"]["10000_files"]
    result["meets_targets"] = {
        "trigger_p50": t10k["p50_ms"] <= 10,
        "trigger_p99": t10k["p99_ms"] <= 50,
        "idle_cpu": result["idle_cpu_percent_of_core"] <= 0.5,
        "runs_per_min": result["back_to_back"]["runs_per_min"] >= 6000,
        "log_metrics": result["logging"]["log_metrics_calls_per_s"] >= 2000,
        "batched": result["logging"]["batched_vs_raw"] >= 0.7,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
