"""``anacostia-chain ipfs``: Kubo's ``ipfs add`` / ``cat`` / CAR commands over the embedded blockstore.

Output mirrors Kubo's: ``added <cid> <name>`` per entry (root last; the ``-w`` wrapper has an empty name),
``-q`` prints only CIDs, ``-Q`` only the root CID. The store is ``--repo`` or ``$ANACOSTIA_IPFS_PATH`` (default
``~/.anacostia/ipfs``); ``--api URL`` talks to a Kubo daemon instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..ipfs import ContentStore, EmbeddedBlockstore, ImportResult, KuboClient, build_directory
from ..ipfs.importer import import_paths, import_stream
from ..ipfs.profiles import PROFILES, ImportOptions
from ..ipfs.store import default_repo_path


def _store(args: argparse.Namespace) -> ContentStore:
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
    options = ImportOptions.resolve(profile=args.profile, cid_version=args.cid_version, raw_leaves=args.raw_leaves,
                                    chunker=args.chunker)
    pin = args.pin == "true"
    if getattr(args, "api", None):
        with KuboClient(args.api) as client:
            if args.paths:
                results = client.add_paths(args.paths, pin=pin, recursive=args.recursive, wrap=args.wrap,
                                           hidden=args.hidden, only_hash=args.only_hash, options=options)
            else:
                result = client.add_stream(sys.stdin.buffer, pin=pin, only_hash=args.only_hash, options=options)
                results = [result.named(str(result.cid))]
        _print_results(results, args)
        return 0
    store = None if args.only_hash else _store(args)
    if not args.paths:  # stdin, named by its CID as Kubo does
        if isinstance(store, EmbeddedBlockstore):
            result = store.add_stream(sys.stdin.buffer, pin=pin, options=options)
        else:
            result = import_stream(sys.stdin.buffer, options=options)
        results = [result.named(str(result.cid))]
        if args.wrap:
            wrapper = build_directory({str(result.cid): result}, store, options=options)
            results.append(wrapper)
            if isinstance(store, EmbeddedBlockstore) and pin:
                store.pin(wrapper.cid)
    elif isinstance(store, EmbeddedBlockstore):
        results = store.add_paths(args.paths, pin=pin, recursive=args.recursive, wrap=args.wrap,
                                  hidden=args.hidden, options=options)
    else:
        results = import_paths(args.paths, recursive=args.recursive, wrap=args.wrap, hidden=args.hidden,
                               options=options)
    _print_results(results, args)
    return 0


def _cat(args: argparse.Namespace) -> int:
    out = sys.stdout.buffer
    for piece in _store(args).cat_stream(args.path):
        out.write(piece)
    out.flush()
    return 0


def _car_export(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.car_version == 2:
        if not isinstance(store, EmbeddedBlockstore):
            print("error: --car-version 2 is written from the embedded store only (Kubo exports CARv1)",
                  file=sys.stderr)
            return 2
        store.export_car(args.cid, args.file, version=2)
    else:
        store.export_car(args.cid, args.file)
    return 0


def _car_import(args: argparse.Namespace) -> int:
    store = _store(args)
    roots = store.dag_import(args.file) if isinstance(store, KuboClient) else store.import_car(args.file)
    for root in roots:
        print(f"Pinned root\t{root}\tsuccess")
    return 0


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
