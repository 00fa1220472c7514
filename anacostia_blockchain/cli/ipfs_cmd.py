"""``anacostia-chain ipfs``: Kubo's ``ipfs add`` / ``cat`` / CAR commands over the embedded blockstore.

Output mirrors Kubo's: ``added <cid> <name>`` per entry (root last; the ``-w`` wrapper has an empty name),
``-q`` prints only CIDs, ``-Q`` only the root CID. The store is ``--repo`` or ``$ANACOSTIA_IPFS_PATH`` (default
``~/.anacostia/ipfs``); ``--api URL`` talks to a Kubo daemon instead.

In a terminal, progress goes to stderr: bytes read for ``add`` from stdin and for ``car import``, bytes written for
``car export``, a spinner with the elapsed time while ``add`` imports files. A missing file, a directory where a file
is expected or a folder that does not exist is a one-line error before anything is stored or written.
"""

from __future__ import annotations

import argparse
import io
import sys
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


def _add(args: argparse.Namespace) -> int:
    what = f"adding {', '.join(args.paths)}" if args.paths else "adding stdin"
    with Progress(what, unit="steps" if args.paths else "bytes") as progress:
        stdin: BinaryIO = sys.stdin.buffer
        if not args.paths and progress.active:
            stdin = io.BufferedReader(CountingReader(sys.stdin.buffer, progress.advance))
        results = _import(args, stdin)
    _print_results(results, args)
    return 0


def _import(args: argparse.Namespace, stdin: BinaryIO) -> list[ImportResult]:
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
    elif isinstance(store, EmbeddedBlockstore):
        results = store.add_paths(args.paths, pin=pin, recursive=args.recursive, wrap=args.wrap,
                                  hidden=args.hidden, options=options)
    else:
        results = import_paths(args.paths, recursive=args.recursive, wrap=args.wrap, hidden=args.hidden,
                               options=options)
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
