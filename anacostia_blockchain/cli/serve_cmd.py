"""``anacostia-chain serve``: run the marketplace API, the chain indexer and the dashboard (uvicorn, one process).

Binds ``127.0.0.1`` unless ``--host`` says otherwise. Every setting can also come from an ``ANACOSTIA_*`` variable,
a ``.env`` file or ``anacostia.toml`` (``--config FILE`` or ``$ANACOSTIA_CONFIG`` names another;
:mod:`anacostia_blockchain.settings`, ``docs/operations.md``); secrets never from the command line —
``ANACOSTIA_SERVICE_KEY`` (the key store's secp256k1 key, hex) or ``ANACOSTIA_SERVICE_KEYSTORE`` with
``ANACOSTIA_SERVICE_KEYSTORE_PASSWORD``, and ``ANACOSTIA_SESSION_SECRET`` — so they never appear in a process list or
shell history.

What it refuses rather than serving something misleading:

- no chain to index (no ``--rpc-url`` / ``ANACOSTIA_RPC_URL``, or no deployment manifest: ``--manifest``, default
  ``./deployments`` as ``anacostia-chain deploy`` writes it) is a usage error (2), unless ``--no-indexer`` says to
  serve an existing index — which, when it is empty, is said loudly on stderr;
- an index database that holds something else (a pipeline's metadata store) is an error (1) naming the conflict,
  before any table is created;
- the URL is printed only once the port is bound (a port in use is an error, 1).

The access log (logger ``uvicorn.access``, a line per request on stderr, JSON with ``--log-format json``) is shown
by default; ``--log-level WARNING`` hides it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ._errors import EXIT_OK, EXIT_USAGE

DEFAULT_DEPLOYMENTS = Path("deployments")
ACCESS_LOGGER = "uvicorn.access"
DESCRIPTION = """Run the marketplace API, the chain indexer and the dashboard in one process, until Ctrl-C or SIGTERM.

It indexes the chain at --rpc-url with the contracts of the deployment manifest (--manifest, default ./deployments
as `anacostia-chain deploy` writes it); --no-indexer serves an existing index instead.

Exit codes: 0 stopped (Ctrl-C or SIGTERM); 1 could not start (bad configuration or secret, index database in use by
something else, chain unreachable, port in use); 2 usage (bad option, or no chain to index without --no-indexer)."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="run the marketplace API, indexer and dashboard",
                                   description=DESCRIPTION)
    parser.add_argument("--host", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8000)")
    parser.add_argument("--db", dest="database_url", help="index database URL (default sqlite:///anacostia-marketplace.db)")
    parser.add_argument("--rpc-url", help="JSON-RPC URL of the chain to index ($ANACOSTIA_RPC_URL)")
    parser.add_argument("--chain-id", type=int, help="refuse to start if the node serves another chain")
    parser.add_argument("--manifest", dest="deployments", type=Path,
                        help="deployment manifest, file or directory (default ./deployments when it exists)")
    parser.add_argument("--content-store", help="NFT metadata source: embedded:/path or a Kubo RPC URL")
    parser.add_argument("--siwe-domain", help="the domain SIWE messages must name (default HOST:PORT)")
    parser.add_argument("--cors-origin", action="append", default=None, help="allowed browser origin (repeatable)")
    parser.add_argument("--no-indexer", action="store_true", help="serve the existing index without following a chain")
    parser.add_argument("--config", type=Path, help="settings file (default ./anacostia.toml, or $ANACOSTIA_CONFIG)")
    parser.set_defaults(func=run)


def _config(args: argparse.Namespace) -> Any:
    from ..service import ServiceConfig
    from ..settings import ServiceSettings, SettingsFiles, load

    given = ("host", "port", "database_url", "rpc_url", "chain_id", "deployments", "content_store", "siwe_domain")
    options: dict[str, object] = {name: getattr(args, name) for name in given}
    options["cors_origins"] = tuple(args.cors_origin) if args.cors_origin else None
    options["run_indexer"] = False if args.no_indexer else None
    settings = load(ServiceSettings, files=SettingsFiles.discover(config_file=args.config), overrides=options)
    config = ServiceConfig.from_settings(settings)
    if config.deployments is None and DEFAULT_DEPLOYMENTS.exists():
        config = replace(config, deployments=DEFAULT_DEPLOYMENTS)
    if settings.siwe_domain is None:
        # Wallets show the domain the page was loaded from: by default that is where this server listens.
        config = replace(config, siwe_domain=f"{config.host}:{config.port}")
    return config


def _missing_chain(config: Any) -> str | None:
    """Why there is nothing to index, or ``None``."""
    if config.rpc_url is None:
        return "no chain to index: pass --rpc-url URL (or set ANACOSTIA_RPC_URL)"
    if config.deployments is None:
        return "no contracts to index: pass --manifest PATH (the deployment manifest `anacostia-chain deploy` writes)"
    return None


def run(args: argparse.Namespace) -> int:
    from ..service import create_app, listen, serve_forever
    from ..service.config import display_url

    config = _config(args)
    if config.run_indexer and (problem := _missing_chain(config)) is not None:
        print(f"anacostia-chain serve: error: {problem}, or --no-indexer to serve an existing index", file=sys.stderr)
        return EXIT_USAGE
    if not (args.debug or args.log_level):
        logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    sock = listen(config.host, config.port)
    try:
        app = create_app(config)
        if config.run_indexer and app.state.service.indexer is None:
            raise ConfigurationError(f"the deployment manifest {config.deployments} has no ModelNFT: nothing to index")
        if not config.run_indexer and _index_is_empty(app):
            print(f"warning: the index {display_url(config.database_url)} is empty and --no-indexer is set: the API "
                  "lists nothing until an indexer fills it", file=sys.stderr, flush=True)
        print(f"marketplace API and dashboard on http://{config.host}:{config.port}/ (OpenAPI at /docs)", flush=True)
        serve_forever(app, config.host, config.port, sock=sock)
    finally:
        sock.close()
    return EXIT_OK


def _index_is_empty(app: Any) -> bool:
    from ..service.index import queries

    with app.state.service.engine.connect() as conn:
        return int(queries.index_status(conn)["models"]) == 0
