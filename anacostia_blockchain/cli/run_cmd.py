"""``anacostia-chain run MODULE_OR_FILE[:ATTR] [--for SECONDS] [--json]``: run a user's pipeline until it is stopped.

What it loads: ``MODULE_OR_FILE`` is a Python file (``pipelines/train.py``; its folder goes first on ``sys.path``
so sibling imports work, as with ``python pipelines/train.py``) or a dotted module importable from the current
directory (``mypkg.pipelines``, as with ``python -m``). The module is imported under its own name, never as
``__main__``, so code under ``if __name__ == "__main__":`` does not run. In it, the pipeline is, in this order:
``ATTR`` when given (a dotted attribute path), else the attribute ``pipeline``, else the function
``build_pipeline``. A callable is called with no arguments and must return a :class:`~anacostia_blockchain.engine.
Pipeline`; a factory is the better choice, because a module that builds its pipeline at import time opens nothing
but is harder to reuse in tests.

How it stops: SIGINT (Ctrl-C) or SIGTERM stop it gracefully, exactly as ``Pipeline.execute()`` does (attempts in
flight finish, an unfinished run ends ``aborted`` with its inputs back to ``new``, outboxes are stopped, the database
is closed). ``--for SECONDS`` asks the metadata store to stop after that long through the same path, so a timed run
leaves the same state as an interrupted one. A signal that arrives while the pipeline is still launching aborts the
launch (everything prepared is torn down) and exits 130.

What it prints: while it runs, the pipeline's own log lines (a node's ``self.log(...)``) from INFO up on stderr
(``-v`` adds the engine's, ``--log-level`` sets everything); after the pipeline stopped, a summary of the runs that
*started during this invocation* — status, duration, trigger, error, the last value of every metric, each node's
result, the run hash (the Merkle root when the store anchors runs) and, for a store that anchors runs, the anchor's
status: ``anchored`` (tx, block), ``pending`` (delivered the next time the pipeline runs) or ``failed`` (the last
error, role hashes by name: a signer without ``ANCHOR_ROLE``) — as text, or as one JSON object with ``--json``
(:mod:`._run_summary`). The summary is read back from the metadata database after it was closed, which works for
every on-disk or server database; an in-memory ``sqlite://`` store forgets everything when it closes, so for it only
the number of finished runs is reported.

Exit codes: 0 the pipeline ran, stopped gracefully and every run of this invocation succeeded with its anchor
landed or pending; 1 a run failed, an anchor failed, or a library error, including a node thread that crashed (the
summary is printed first, the one-line error follows on stderr); 2 usage; 130 interrupted while launching.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from ..engine import BaseNode, Pipeline
from ..errors import AnacostiaError, ConfigurationError, PipelineError
from ._run_summary import RunOutcome, collect_runs, failures, summary_json, summary_text

#: Attributes looked up, in order, when the target names none.
DEFAULT_ATTRIBUTES = ("pipeline", "build_pipeline")


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"--for needs a positive, finite number of seconds, got {text!r}")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run a pipeline module until SIGINT/SIGTERM or --for SECONDS, then print a run summary",
        description="Load a Pipeline from a Python file or dotted module (attribute `pipeline`, function "
        "`build_pipeline()`, or :ATTR) and run it until SIGINT/SIGTERM or --for SECONDS; then print the runs it "
        "made. Exit 0 when it stopped gracefully and every run succeeded, 1 when a run or its anchor failed or on an "
        "error (a crashed node included).",
    )
    parser.add_argument(
        "target",
        metavar="MODULE_OR_FILE[:ATTR]",
        help="a .py file or a dotted module; :ATTR names the Pipeline or the function that builds it",
    )
    parser.add_argument(
        "--for",
        dest="duration",
        type=_positive_seconds,
        default=None,
        metavar="SECONDS",
        help="stop gracefully after this many seconds (default: run until SIGINT/SIGTERM)",
    )
    parser.add_argument("--json", action="store_true", help="print the run summary as one JSON object")
    parser.add_argument(
        "--no-cache", action="store_true",
        help="execute every action in every run: reuse no earlier result, skip none as unchanged",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true",
        help="also show the engine's INFO log lines on stderr (the nodes' own lines are shown anyway)",
    )
    parser.add_argument(
        "--metrics-port", type=int, default=None, metavar="PORT",
        help="serve Prometheus metrics (runs, anchors, outbox, transactions) on 127.0.0.1:PORT/metrics while it "
        "runs ($ANACOSTIA_METRICS_PORT)",
    )
    parser.set_defaults(func=run, node_log_level="INFO")


# --- loading ---------------------------------------------------------------------------------------------------------
def split_target(target: str) -> tuple[str, str | None]:
    """``"path/to/file.py:attr"`` -> ``("path/to/file.py", "attr")``; no colon -> ``(target, None)``."""
    source, colon, attribute = target.rpartition(":")
    if not colon:
        return target, None
    if not source or not attribute or not all(part.isidentifier() for part in attribute.split(".")):
        raise ConfigurationError(
            f"bad target {target!r}: expected MODULE_OR_FILE[:ATTR] with ATTR a (dotted) Python name"
        )
    return source, attribute


def _is_file_target(source: str) -> bool:
    return source.endswith(".py") or "/" in source or Path(source).is_file()


def load_module(source: str) -> ModuleType:
    """Import a pipeline file or dotted module (see the module docstring); failures become ``ConfigurationError``."""
    if _is_file_target(source):
        path = Path(source).expanduser().resolve()
        if not path.is_file():
            raise ConfigurationError(f"no such pipeline file: {source}")
        name = f"anacostia_run_{path.stem}" if path.stem.isidentifier() else "anacostia_run_pipeline"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ConfigurationError(f"cannot import {source}: not a Python source file")
        module = importlib.util.module_from_spec(spec)
        _put_first_on_path(path.parent)
        sys.modules[name] = module  # dataclasses, pickling and typing need the module registered while it runs
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:
            sys.modules.pop(name, None)
            raise _load_error(source, exc) from exc
        return module
    _put_first_on_path(Path.cwd())
    try:
        return importlib.import_module(source)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (source == exc.name or source.startswith(exc.name + ".")):
            raise ConfigurationError(
                f"no module named {source!r}: give a .py file or a dotted module importable from {Path.cwd()}"
            ) from exc
        raise _load_error(source, exc) from exc
    except BaseException as exc:
        raise _load_error(source, exc) from exc


def _put_first_on_path(folder: Path) -> None:
    entry = str(folder)
    if entry not in sys.path:
        sys.path.insert(0, entry)


def _load_error(source: str, exc: BaseException) -> BaseException:
    """Library errors and interrupts pass through as they are; anything the user's code raised is named."""
    if isinstance(exc, AnacostiaError | KeyboardInterrupt | SystemExit):
        return exc
    return ConfigurationError(f"importing {source} failed: {type(exc).__name__}: {exc}")


def find_pipeline(module: ModuleType, attribute: str | None) -> Pipeline:
    """The pipeline named by ``attribute`` or found under :data:`DEFAULT_ATTRIBUTES` (called if callable)."""
    where = module.__name__
    if attribute is not None:
        value: Any = module
        for part in attribute.split("."):
            if not hasattr(value, part):
                raise ConfigurationError(f"{where} has no attribute {attribute!r}")
            value = getattr(value, part)
        name = attribute
    else:
        found = [name for name in DEFAULT_ATTRIBUTES if hasattr(module, name)]
        if not found:
            raise ConfigurationError(f"{where} defines neither `pipeline` nor `build_pipeline()`{_import_hint(module)}")
        name = found[0]
        value = getattr(module, name)
    if not isinstance(value, Pipeline) and callable(value) and not isinstance(value, type):
        try:
            value = value()
        except (AnacostiaError, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            raise ConfigurationError(f"{name}() failed: {type(exc).__name__}: {exc}") from exc
        name = f"{name}()"
    if not isinstance(value, Pipeline):
        raise ConfigurationError(f"{name} in {where} is a {type(value).__name__}, not an anacostia Pipeline")
    if any(node.ident is not None for node in value.nodes):
        raise ConfigurationError(f"{name} in {where} has already run{_import_hint(module)}")
    return value


def _import_hint(module: ModuleType) -> str:
    """What to do instead: name the pipeline, or (when importing the module ran one) move ``execute()`` aside."""
    ran = _nodes_run_at_import(module)
    if not ran:
        return ": name the pipeline as MODULE:ATTR"
    return (
        f"; importing it ran a pipeline (nodes {', '.join(ran)}): build it in `def build_pipeline(): return "
        'Pipeline(...)` (or `pipeline = Pipeline(...)`) and keep `.execute()` under `if __name__ == "__main__":`'
    )


def _nodes_run_at_import(module: ModuleType) -> list[str]:
    """Names of the nodes (module globals, or nodes of a global pipeline) whose thread already ran."""
    nodes: list[BaseNode] = []
    for value in vars(module).values():
        if isinstance(value, Pipeline):
            nodes += value.nodes
        elif isinstance(value, BaseNode):
            nodes.append(value)
    return list(dict.fromkeys(node.name for node in nodes if node.ident is not None))


# --- running ---------------------------------------------------------------------------------------------------------
def run_pipeline(pipeline: Pipeline, duration: float | None, outcome: RunOutcome | None = None) -> RunOutcome:
    """Launch, run until a signal or ``duration`` seconds, stop gracefully; a crash is recorded in ``outcome``
    (created when not given) and re-raised."""
    if outcome is None:
        outcome = RunOutcome(started_at=time.time())
    outcome.nodes = [node.name for node in pipeline.nodes]
    deadline_hit = threading.Event()

    def on_deadline() -> None:
        deadline_hit.set()
        pipeline.metadata_store.request_stop()  # the coordinator stops; execute() returns and terminates

    timer = threading.Timer(duration, on_deadline) if duration is not None else None
    if timer is not None:
        timer.daemon = True
    on_main = threading.current_thread() is threading.main_thread()
    # While launching (before execute() installs its graceful handlers) SIGTERM interrupts like Ctrl-C does.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler) if on_main else None
    try:
        pipeline.launch()
        try:
            if timer is not None:
                timer.start()
            pipeline.execute()
        except PipelineError as exc:
            outcome.stopped_by, outcome.error = "crash", str(exc)
            raise
        finally:
            if timer is not None:
                timer.cancel()
            pipeline.terminate()  # idempotent; completes the stop if an interrupt landed between launch and execute
            outcome.duration = time.time() - outcome.started_at
            outcome.runs_finished = pipeline.runs_finished
            if deadline_hit.is_set() and outcome.stopped_by != "crash":
                outcome.stopped_by = "deadline"
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return outcome


def run(args: argparse.Namespace) -> int:
    if args.verbose and not args.log_level and not args.debug:
        logging.getLogger("anacostia_blockchain").setLevel(logging.INFO)
    source, attribute = split_target(args.target)
    pipeline = find_pipeline(load_module(source), attribute)
    if args.no_cache:
        pipeline.force = True
    outcome = RunOutcome(started_at=time.time())
    try:
        with _metrics_server(pipeline, args.metrics_port):
            run_pipeline(pipeline, args.duration, outcome)
    except PipelineError:
        collect_runs(pipeline, outcome)
        _print(args, outcome)  # the summary first; cli.main prints the one-line error and exits 1
        raise
    collect_runs(pipeline, outcome)
    _print(args, outcome)
    problems = failures(outcome)
    if problems:
        print(f"error: {'; '.join(problems)}", file=sys.stderr, flush=True)
        return 1
    return 0


@contextlib.contextmanager
def _metrics_server(pipeline: Pipeline, port: int | None) -> Iterator[None]:
    """The pipeline's Prometheus endpoint on ``port`` (``--metrics-port``, or the ``metrics_port`` setting:
    ``ANACOSTIA_METRICS_PORT``, ``.env``, ``anacostia.toml``; ``None``: none) while it runs."""
    if port is None:
        yield
        return
    from ..observability import MetricsServer, pipeline_metrics

    with MetricsServer(pipeline_metrics(pipeline), port) as server:
        print(f"metrics on {server.url}", file=sys.stderr, flush=True)
        yield


def _print(args: argparse.Namespace, outcome: RunOutcome) -> None:
    if args.json:
        print(json.dumps(summary_json(args.target, outcome), indent=2, sort_keys=True))
    else:
        print(summary_text(args.target, outcome))
    sys.stdout.flush()
