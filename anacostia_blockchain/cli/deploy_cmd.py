"""``anacostia-chain deploy``: deploy the shipped contracts of the deploy plan, idempotently.

The key comes from ``--keystore FILE`` with its password in the environment variable named by ``--password-env``
(never on the command line, where it would land in shell history and ``ps``), or else from ``ANACOSTIA_PRIVATE_KEY``.
The manifest goes to ``--manifest DIR`` (``DIR/<chainId>.json``, default ``deployments/``).
``scripts/deploy.py`` runs exactly this code.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from ..chain.dev.deploy import DeploymentManifest, deploy_all
from ..chain.rpc.client import ChainClient
from ..chain.tx import TxSender
from ..chain.tx.signer import DEFAULT_KEY_ENV, LocalSigner
from ..errors import ConfigurationError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rpc-url", required=True, help="JSON-RPC endpoint, e.g. http://127.0.0.1:8545")
    parser.add_argument("--keystore", default=None, help="encrypted JSON keystore of the deployer")
    parser.add_argument(
        "--password-env", default="ANACOSTIA_KEYSTORE_PASSWORD", help="env var holding the keystore password"
    )
    parser.add_argument("--chain-id", type=int, default=None, help="refuse to deploy unless the node serves this chain")
    parser.add_argument("--manifest", default="deployments", help="directory of per-chain manifests")
    parser.add_argument("--contracts", default=None, help="comma-separated subset of the plan (default: all)")
    parser.add_argument(
        "--redeploy-changed", action="store_true", help="redeploy contracts whose shipped artifact changed"
    )
    parser.add_argument("--json", action="store_true", help="print the result (addresses, statuses) as JSON")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("deploy", help="deploy the shipped contracts and write the deployment manifest")
    add_arguments(parser)
    parser.set_defaults(func=run)


def load_signer(args: argparse.Namespace) -> LocalSigner:
    if args.keystore:
        password = os.environ.get(args.password_env)
        if password is None:
            raise ConfigurationError(f"--keystore needs the password in the environment variable {args.password_env}")
        return LocalSigner.from_keystore(args.keystore, password)
    return LocalSigner.from_env(DEFAULT_KEY_ENV)


def run(args: argparse.Namespace) -> int:
    signer = load_signer(args)
    client = ChainClient(args.rpc_url, expected_chain_id=args.chain_id)
    manifest = DeploymentManifest.load(args.manifest, client.chain_id)
    only = [name.strip() for name in args.contracts.split(",") if name.strip()] if args.contracts else None
    json_output = getattr(args, "json", False)
    if not json_output:
        print(f"deploying from {signer.address} to chain {client.chain_id} ({client.transport.url})")
    with TxSender(client, signer) as sender:
        results = deploy_all(sender, manifest, only=only, redeploy_changed=args.redeploy_changed)
    if json_output:
        contracts = {r.name: {"status": r.status, "address": r.address} for r in results}
        document = {
            "chainId": client.chain_id,
            "deployer": signer.address,
            "manifest": str(manifest.path),
            "contracts": contracts,
        }
        print(json.dumps(document, indent=2))
        return 0
    for result in results:
        print(result)
    print(f"manifest: {manifest.path}")
    return 0
