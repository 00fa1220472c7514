"""Work functions the executor tests send to workers (module level: the workers import this module)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from anacostia_blockchain.executors import TaskContext


def upper(task: TaskContext) -> None:
    """The input upper-cased, as ``<location>.up``; logs where it ran (its process and that process's parent)."""
    data = task.read_bytes()
    seconds = float(task.params.get("params", {}).get("seconds", 0))
    started = time.time()
    time.sleep(seconds)
    task.write(f"{task.input().location}.up", data.upper())
    task.log_metrics(pid=float(os.getpid()), ppid=float(os.getppid()), started=started, ended=time.time())


def fail_on_bad(task: TaskContext) -> None:
    """Fails for an input whose content starts with ``bad``."""
    data = task.read_bytes()
    if data.startswith(b"bad"):
        raise ValueError(f"cannot process {task.input().location}")
    task.write(f"{task.input().location}.up", data.upper())


def die_once(task: TaskContext) -> None:
    """Kills its own worker process the first time it runs for an input (a marker file remembers), then works."""
    marker = Path(str(task.params["params"]["markers"])) / task.input().location
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    task.write(f"{task.input().location}.up", task.read_bytes().upper())
    task.log_metrics(pid=float(os.getpid()))


def wait_then_mark(task: TaskContext) -> None:
    """Sleeps, then writes a marker file: a cancelled task never writes it."""
    folder = Path(str(task.params["params"]["markers"]))
    (folder / f"{task.input().location}.started").write_text(str(os.getpid()))
    time.sleep(float(task.params["params"]["seconds"]))
    (folder / f"{task.input().location}.done").write_text(str(os.getpid()))
    task.write(f"{task.input().location}.up", task.read_bytes().upper())


def decrypt_upper(task: TaskContext) -> None:
    """An encrypted input's plaintext, upper-cased."""
    task.write(f"{task.input().location}.up", task.read_plaintext().upper())


def upper_or_hang(task: TaskContext) -> None:
    """Upper-cases the input; an input starting with ``slow`` first leaves a marker and sleeps for two minutes."""
    data = task.read_bytes()
    if data.startswith(b"slow"):
        folder = Path(str(task.params["params"]["markers"]))
        (folder / f"{task.input().location}.started").write_text(str(os.getpid()))
        time.sleep(120)
    task.write(f"{task.input().location}.up", data.upper())
    task.log_metrics(pid=float(os.getpid()))


def pair(task: TaskContext) -> None:
    """A joined datum: its image and label side by side, named after the sample."""
    image, label = task.read_bytes(task.input_named("images")), task.read_bytes(task.input_named("labels"))
    task.write(f"{task.groups['sample']}.pair", image + b"|" + label)


def upper_with_env(task: TaskContext) -> None:
    """The input upper-cased, followed by the worker's ``ANACOSTIA_TASK_MARK`` environment variable; logs its pid."""
    mark = os.environ.get("ANACOSTIA_TASK_MARK", "unset").encode()
    task.write(f"{task.input().location}.up", task.read_bytes().upper() + b"|" + mark)
    task.log_metrics(pid=float(os.getpid()))
