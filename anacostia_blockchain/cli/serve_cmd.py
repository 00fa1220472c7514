"""``anacostia-chain serve``: run the marketplace API, the chain indexer and the dashboard (uvicorn, one process).

Binds ``127.0.0.1`` unless ``--host`` says otherwise. Everything else can also come from ``ANACOSTIA_*`` variables
(see :meth:`ServiceConfig.from_env`); secrets *only* from the environment — ``ANACOSTIA_SERVICE_KEY`` (the key store's
secp256k1 key, hex) and ``ANACOSTIA_SESSION_SECRET`` — so they never appear in a process list or shell history.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="run the marketplace API, indexer and dashboard")
    parser.add_argument("--host", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8000)")
    parser.add_argument("--db", dest="database_url", help="index database URL (default sqlite:///anacostia-marketplace.db)")
    parser.add_argument("--rpc-url", help="JSON-RPC URL of the chain to index")
    parser.add_argument("--chain-id", type=int, help="refuse to start if the node serves another chain")
    parser.add_argument("--manifest", dest="deployments", type=Path, help="deployment manifest (file or directory)")
    parser.add_argument("--content-store", help="NFT metadata source: embedded:/path or a Kubo RPC URL")
    parser.add_argument("--siwe-domain", help="the domain SIWE messages must name (default HOST:PORT)")
    parser.add_argument("--cors-origin", action="append", default=None, help="allowed browser origin (repeatable)")
    parser.add_argument("--no-indexer", action="store_true", help="serve the existing index without following")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..service import ServiceConfig, create_app, serve_forever

    overrides: dict[str, object] = {
        name: getattr(args, name)
        for name in ("host", "port", "database_url", "rpc_url", "chain_id", "deployments", "content_store")
        if getattr(args, name) is not None
    }
    if args.cors_origin:
        overrides["cors_origins"] = tuple(args.cors_origin)
    if args.no_indexer:
        overrides["run_indexer"] = False
    if args.siwe_domain:
        overrides["siwe_domain"] = args.siwe_domain
    config = ServiceConfig.from_env(**overrides)
    if "siwe_domain" not in overrides and not os.environ.get("ANACOSTIA_SIWE_DOMAIN"):
        # Wallets show the domain the page was loaded from: by default that is where this server listens.
        config = replace(config, siwe_domain=f"{config.host}:{config.port}")
    app = create_app(config)
    print(f"marketplace API and dashboard on http://{config.host}:{config.port}/ (OpenAPI at /docs)")
    serve_forever(app, config.host, config.port)
    return 0
