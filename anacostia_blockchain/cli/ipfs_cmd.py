"""``anacostia-chain ipfs``: Kubo's ``ipfs add`` / ``cat`` / CAR commands over the embedded blockstore.

Output mirrors Kubo's: ``added <cid> <name>`` per entry (root last; the ``-w`` wrapper has an empty name),
``-q`` prints only CIDs, ``-Q`` only the root CID. The store is ``--repo`` or ``$ANACOSTIA_IPFS_PATH`` (default
``~/.anacostia/ipfs``); ``--api URL`` talks to a Kubo daemon instead.

In a terminal, progress goes to stderr: bytes read for ``add`` from stdin and for ``car import``, bytes written for
``car export``; ``add PATH...`` first walks the paths for the number of files and their total size, then shows files
and bytes imported out of those totals (a spinner with the elapsed time when ``--api`` imports). A missing file, a
directory where a file is expected or a folder that does not exist is a one-line error before anything is stored or
written.
"""

from __future__ import annotations

import argparse
import io
import os
import stat
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import ConfigurationError
from ..ipfs import EmbeddedBlockstore, ImportResult, KuboClient, build_directory
from ..ipfs.car import write_car_file
from ..ipfs.importer import import_paths, import_stream
from ..ipfs.profiles import PROFILES, ImportOptions
from ..ipfs.store import default_repo_path
from ._progress import CountingReader, CountingWriter, Progress


def _store(args: argparse.Namespace) -> EmbeddedBlockstore | KuboClient:
    if getattr(args, "api", None):
        return KuboClient(args.api)
    repo = getattr(args, "repo", None)
    return EmbeddedBlockstore(Path(repo).expanduser() if repo else default_repo_path())


def _print_results(results: list[ImportResult], args: argparse.Namespace) -> None:
    if args.quieter:
        print(results[-1].cid)
        return
    for result in results:
        print(result.cid if args.quiet else f"added {result.cid} {result.name}")


def _measure(paths: Sequence[str], *, recursive: bool, hidden: bool) -> tuple[int, int]:
    """The regular files ``add`` will import under ``paths`` and their total size, by the importer's rules (symlinks
    not followed, dot entries inside folders skipped unless ``hidden``). Unreadable entries are left to the importer
    to report."""
    files = size = 0
    pending = [(Path(p), True) for p in paths]
    while pending:
        path, top = pending.pop()
        try:
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                files, size = files + 1, size + info.st_size
            elif stat.S_ISDIR(info.st_mode) and (recursive or not top):
                pending += [(path / name, False) for name in os.listdir(path) if hidden or not name.startswith(".")]
        except OSError:
            continue
    return files, size


@dataclass(slots=True)
class _AddProgress:
    """Files and bytes imported out of the totals, the file count shown in the description (redrawn at most
    ten times a second; :meth:`close` shows the final counts)."""

    progress: Progress
    what: str
    files: int
    done: int = 0
    shown: float = 0.0

    def on_file(self, _name: str, _size: int) -> None:
        self.done += 1
        if time.monotonic() - self.shown >= 0.1:
            self._show()

    def close(self) -> None:
        self._show()

    def _show(self) -> None:
        self.shown = time.monotonic()
        self.progress.update(f"{self.what}: {self.done}/{self.files} files")


def _add(args: argparse.Namespace) -> int:
    what = f"adding {', '.join(args.paths)}" if args.paths else "adding stdin"
    with Progress(what, unit="steps" if args.paths and getattr(args, "api", None) else "bytes") as progress:
        stdin: BinaryIO = sys.stdin.buffer
        tracker = None
        if not args.paths and progress.active:
            stdin = io.BufferedReader(CountingReader(sys.stdin.buffer, progress.advance))
        elif progress.unit == "bytes" and progress.active:
            files, size = _measure(args.paths, recursive=args.recursive, hidden=args.hidden)
            tracker = _AddProgress(progress, what, files)
            progress.update(f"{what}: 0/{files} files", total=size)
        results = _import(args, stdin, tracker)
        if tracker is not None:
            tracker.close()
    _print_results(results, args)
    return 0


def _import(args: argparse.Namespace, stdin: BinaryIO, tracker: _AddProgress | None = None) -> list[ImportResult]:
    options = ImportOptions.resolve(profile=args.profile, cid_version=args.cid_version, raw_leaves=args.raw_leaves,
                                    chunker=args.chunker)
    pin = args.pin == "true"
    if getattr(args, "api", None):
        with KuboClient(args.api) as client:
            if args.paths:
                results = client.add_paths(args.paths, pin=pin, recursive=args.recursive, wrap=args.wrap,
                                           hidden=args.hidden, only_hash=args.only_hash, options=options)
            else:
                result = client.add_stream(stdin, pin=pin, only_hash=args.only_hash, options=options)
                results = [result.named(str(result.cid))]
        return results
    store = None if args.only_hash else _store(args)
    if not args.paths:  # stdin, named by its CID as Kubo does
        if isinstance(store, EmbeddedBlockstore):
            result = store.add_stream(stdin, pin=pin, options=options)
        else:
            result = import_stream(stdin, options=options)
        results = [result.named(str(result.cid))]
        if args.wrap:
            sink = store if isinstance(store, EmbeddedBlockstore) else None
            wrapper = build_directory({str(result.cid): result}, sink, options=options)
            results.append(wrapper)
            if isinstance(store, EmbeddedBlockstore) and pin:
                store.pin(wrapper.cid)
    else:
        on_bytes = None if tracker is None else tracker.progress.advance
        on_file = None if tracker is None else tracker.on_file
        if isinstance(store, EmbeddedBlockstore):
            results = store.add_paths(args.paths, pin=pin, recursive=args.recursive, wrap=args.wrap,
                                      hidden=args.hidden, options=options, on_bytes=on_bytes, on_file=on_file)
        else:
            results = import_paths(args.paths, recursive=args.recursive, wrap=args.wrap, hidden=args.hidden,
                                   options=options, on_bytes=on_bytes, on_file=on_file)
    return results


def _cat(args: argparse.Namespace) -> int:
    out = sys.stdout.buffer
    for piece in _store(args).cat_stream(args.path):
        out.write(piece)
    out.flush()
    return 0


def _car_export(args: argparse.Namespace) -> int:
    target = _writable_file(args.file)
    store = _store(args)
    if args.car_version == 2 and not isinstance(store, EmbeddedBlockstore):
        print("error: --car-version 2 is written from the embedded store only (Kubo exports CARv1)", file=sys.stderr)
        return 2
    with Progress(f"exporting {args.cid}", unit="bytes") as progress:

        def produce(handle: BinaryIO) -> int:
            if progress.active:
                handle = io.BufferedWriter(CountingWriter(handle, progress.advance))
            if isinstance(store, EmbeddedBlockstore):
                written = store.export_car(args.cid, handle, version=args.car_version)
            else:
                written = store.export_car(args.cid, handle)
            handle.flush()
            return written

        write_car_file(target, produce)
    return 0


def _car_import(args: argparse.Namespace) -> int:
    source = _readable_file(args.file)
    store = _store(args)
    with source.open("rb") as raw, Progress(f"importing {source.name}", total=source.stat().st_size) as progress:
        car: BinaryIO = io.BufferedReader(CountingReader(raw, progress.advance)) if progress.active else raw
        roots = store.dag_import(car) if isinstance(store, KuboClient) else store.import_car(car)
    for root in roots:
        print(f"Pinned root\t{root}\tsuccess")
    return 0


def _readable_file(name: str) -> Path:
    path = Path(name).expanduser()
    if not path.exists():
        raise ConfigurationError(f"no such file: {name}")
    if path.is_dir():
        raise ConfigurationError(f"{name} is a directory, not a CAR file")
    return path


def _writable_file(name: str) -> Path:
    path = Path(name).expanduser()
    if path.is_dir():
        raise ConfigurationError(f"{name} is a directory: give the path of the CAR file to write")
    if not path.parent.is_dir():
        raise ConfigurationError(f"cannot write {name}: no such folder {path.parent}")
    return path


def register(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--repo", default=argparse.SUPPRESS,
                        help="blockstore directory (default: $ANACOSTIA_IPFS_PATH or ~/.anacostia/ipfs)")
    common.add_argument("--api", default=argparse.SUPPRESS, help="use a Kubo daemon's RPC API at this URL")

    ipfs = subparsers.add_parser("ipfs", parents=[common], help="content addressing, byte-for-byte like Kubo")
    ipfs.set_defaults(func=lambda _args: ipfs.print_help() or 2)
    commands = ipfs.add_subparsers(dest="ipfs_command", metavar="SUBCOMMAND")

    add = commands.add_parser("add", parents=[common], help="add files (prints what `ipfs add` prints)")
    add.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (stdin when none)")
    add.add_argument("--cid-version", type=int, choices=(0, 1), default=None)
    add.add_argument("--raw-leaves", action=argparse.BooleanOptionalAction, default=None)
    add.add_argument("--chunker", "-s", default=None, help="size-N (default size-262144)")
    add.add_argument("--profile", choices=sorted(PROFILES), default=None)
    add.add_argument("-n", "--only-hash", action="store_true", help="only compute the CIDs, store nothing")
    add.add_argument("-q", "--quiet", action="store_true", help="print only CIDs")
    add.add_argument("-Q", "--quieter", action="store_true", help="print only the root CID")
    add.add_argument("-w", "--wrap-with-directory", dest="wrap", action="store_true")
    add.add_argument("-r", "--recursive", action="store_true")
    add.add_argument("-H", "--hidden", action="store_true", help="include dot files when adding recursively")
    add.add_argument("--pin", choices=("true", "false"), default="true")
    add.set_defaults(func=_add)

    cat = commands.add_parser("cat", parents=[common], help="write a file's content to stdout")
    cat.add_argument("path", metavar="CID", help="CID or CID/path/inside")
    cat.set_defaults(func=_cat)

    car = commands.add_parser("car", parents=[common], help="CAR export / import (CARv1 and CARv2)")
    car_commands = car.add_subparsers(dest="car_command", metavar="ACTION")
    export = car_commands.add_parser("export", parents=[common], help="write the DAG under CID to FILE")
    export.add_argument("cid", metavar="CID")
    export.add_argument("file", metavar="FILE")
    export.add_argument("--car-version", type=int, choices=(1, 2), default=1,
                        help="2 writes a CARv2 with a MultihashIndexSorted index (default 1)")
    export.set_defaults(func=_car_export)
    imp = car_commands.add_parser("import", parents=[common], help="store and pin every root of a CAR")
    imp.add_argument("file", metavar="FILE")
    imp.set_defaults(func=_car_import)
    car.set_defaults(func=lambda _args: car.print_help() or 2)
