"""``anacostia-chain lineage ARTIFACT|CID [--json] [--verify]``: the provenance of a recorded object.

A thin shell over :func:`anacostia_blockchain.artefacts.lineage_graph` (what the graph holds is described there) and
:func:`~anacostia_blockchain.artefacts.verify_graph`. The target is an artifact id (``12`` or ``#12``), a CID, a
sha256 or ``RESOURCE:LOCATION``. Read-only and keyless.

Configuration: ``--db`` (or ``ANACOSTIA_DB``; default ``./metadata.db`` when there is one), ``--ipfs`` (the content
store the outputs were added to: a blockstore folder or a Kubo RPC URL; default ``$ANACOSTIA_IPFS_PATH`` or
``~/.anacostia/ipfs``) and, with ``--verify``, what ``anacostia-chain verify`` needs: ``--pipeline``, and
``--rpc-url`` with ``--registry``/``--deployments``, or ``--offline`` (against the roots recorded when the runs
ended).

Exit codes: 0 printed (and, with ``--verify``, every check passed), 3 a check failed, 1 any other error.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..artefacts import lineage_graph, verify_graph
from ..artefacts.provenance import render
from ..errors import ConfigurationError
from ..ipfs import open_content_store
from ._project import default_db, open_existing
from ._types import RPC_URL_ENV, rpc_url
from .verify_cmd import EXIT_TAMPERED, build_verifier


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lineage", help="print the provenance graph of an artifact or CID (runs, nodes, code, inputs, batches)",
        description="Print the provenance graph of a recorded object; --verify checks each step against the chain "
                    "and each content against its CID.",
    )
    parser.add_argument("target", metavar="ARTIFACT|CID", help="artifact id, CID, sha256 or RESOURCE:LOCATION")
    parser.add_argument("--json", action="store_true", help="print the graph as JSON")
    parser.add_argument("--verify", action="store_true",
                        help="check every run against its anchor and every content against its CID")
    parser.add_argument("--offline", action="store_true",
                        help="with --verify: check runs against the roots recorded when they ended; no chain")
    parser.add_argument("--db", default=None,
                        help="metadata database URL ($ANACOSTIA_DB; default sqlite:///metadata.db if it exists)")
    parser.add_argument("--ipfs", default=None, metavar="DIR|URL",
                        help="content store: blockstore folder or Kubo RPC URL (default: the embedded store)")
    parser.add_argument("--pipeline", default=None,
                        help="pipeline name ($ANACOSTIA_PIPELINE; default: the one the database anchors)")
    parser.add_argument("--rpc-url", type=rpc_url, default=None,
                        help=f"JSON-RPC endpoint (${RPC_URL_ENV})")
    parser.add_argument("--chain-id", type=int, default=None, help="refuse a node serving another chain")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--registry", default=None, help="RunRegistry address")
    where.add_argument("--deployments", default=None, help="directory of deployment manifests (<chainId>.json)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    verifier = build_verifier(args) if args.verify else None  # fills --db and --pipeline from the project
    db = args.db or default_db()
    if not db:
        raise ConfigurationError("lineage needs --db (no ./metadata.db here; or ANACOSTIA_DB)")
    runs = open_existing(db, "lineage")
    content = open_content_store(args.ipfs)
    try:
        graph = lineage_graph(runs, args.target, cat=content.cat)
        if verifier is not None:
            verify_graph(graph, verify_run=verifier.verify_local if args.offline else verifier.verify_run,
                         cat=content.cat)
    finally:
        runs.close()
    print(json.dumps(graph.to_json(), indent=2, sort_keys=True, default=str) if args.json else render(graph))
    if args.verify and not graph.verified:
        return EXIT_TAMPERED
    return 0
