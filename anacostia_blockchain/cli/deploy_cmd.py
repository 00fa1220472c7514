"""``anacostia-chain deploy``: deploy the shipped contracts of the deploy plan, idempotently.

The key comes from ``--keystore FILE`` with its password in the environment variable named by ``--password-env``
(never on the command line, where it would land in shell history and ``ps``), or else from ``ANACOSTIA_PRIVATE_KEY``.
Left-out options and the key come from the settings as for every command (:mod:`._settings`: the environment,
``./.env``, ``anacostia.toml``: ``rpc_url``, ``chain_id``, ``keystore``, ``keystore_password`` (read when
``--password-env`` is left at its default), ``private_key``, ``deployments``).
The manifest goes to ``--manifest DIR`` (``DIR/<chainId>.json``, default ``deployments/``); it is checked to be
writable before any gas is spent and rewritten after every contract, so an interrupted deploy resumes where it stopped.
Each contract is printed as it lands (a progress bar on stderr in a terminal); Ctrl-C stops after the transaction in
flight and says how many of the plan's contracts were deployed (exit 130). ``scripts/deploy.py`` runs exactly this
code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..chain.dev.deploy import DeploymentManifest, DeploymentResult, PlannedContract, deploy_all
from ..chain.rpc.client import ChainClient
from ..chain.tx import TxSender
from ..chain.tx.signer import DEFAULT_KEY_ENV, LocalSigner
from ..errors import ConfigurationError, DeploymentError, SignerError
from ..settings import CliSettings
from ._errors import EXIT_INTERRUPTED
from ._progress import Progress
from ._project import DEFAULT_DEPLOYMENTS
from ._settings import load_cli_settings
from ._types import RPC_URL_ENV, rpc_url

#: The variable ``--password-env`` names by default: also the ``keystore_password`` setting.
DEFAULT_PASSWORD_ENV = "ANACOSTIA_KEYSTORE_PASSWORD"
DESCRIPTION = f"""Deploy the shipped contracts of the deploy plan (or --contracts A,B) and write the deployment
manifest DIR/<chainId>.json. Idempotent: contracts already deployed with the same code are reused.

The deployer's key comes from {DEFAULT_KEY_ENV} (hex), or from --keystore FILE with its password in the environment
variable named by --password-env; never from the command line. Like every setting, both may also be in ./.env or
anacostia.toml (private_key, keystore, keystore_password). On a local devnet, one of the keys printed by
`anacostia-chain devnet --show-keys` will do."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rpc-url", type=rpc_url, default=None,
        help=f"JSON-RPC endpoint, e.g. http://127.0.0.1:8545 (default ${RPC_URL_ENV}; required)",
    )
    parser.add_argument("--keystore", default=None, help="encrypted JSON keystore of the deployer")
    parser.add_argument(
        "--password-env", default=DEFAULT_PASSWORD_ENV, help="env var holding the keystore password"
    )
    parser.add_argument("--chain-id", type=int, default=None, help="refuse to deploy unless the node serves this chain")
    parser.add_argument(
        "--manifest", default=None,
        help=f"directory of per-chain manifests (default {DEFAULT_DEPLOYMENTS})",
    )
    parser.add_argument("--contracts", default=None, help="comma-separated subset of the plan (default: all)")
    parser.add_argument(
        "--redeploy-changed", action="store_true", help="redeploy contracts whose shipped artifact changed"
    )
    parser.add_argument("--json", action="store_true", help="print the result (addresses, statuses) as JSON")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "deploy", help="deploy the shipped contracts and write the deployment manifest", description=DESCRIPTION
    )
    add_arguments(parser)
    parser.set_defaults(func=run, usage_error=parser.error)


def load_signer(args: argparse.Namespace) -> LocalSigner:
    """From ``--keystore`` (password from ``--password-env``, or the ``keystore_password`` setting), else the
    ``private_key`` setting (``ANACOSTIA_PRIVATE_KEY``, ``.env``, ``anacostia.toml``)."""
    settings: CliSettings = getattr(args, "settings", None) or load_cli_settings(args)
    if args.keystore:
        password = os.environ.get(args.password_env)
        if password is None and args.password_env == DEFAULT_PASSWORD_ENV and settings.keystore_password is not None:
            password = settings.keystore_password.get_secret_value()
        if password is None:
            raise ConfigurationError(f"--keystore needs the password in the environment variable {args.password_env}")
        return LocalSigner.from_keystore(args.keystore, password)
    if settings.private_key is None:
        raise SignerError(f"{DEFAULT_KEY_ENV} is not set (the deployer's hex private key: in the environment, ./.env "
                          "or anacostia.toml's private_key), and no --keystore FILE is given")
    return LocalSigner.from_key(settings.private_key.get_secret_value())


def run(args: argparse.Namespace) -> int:
    if not args.rpc_url:
        args.usage_error(f"the following arguments are required: --rpc-url (or {RPC_URL_ENV}, rpc_url in "
                         "anacostia.toml)")
    plan = selected_plan(args.contracts)
    signer = load_signer(args)
    client = ChainClient(args.rpc_url, expected_chain_id=args.chain_id)
    manifest = DeploymentManifest.load(args.manifest or DEFAULT_DEPLOYMENTS, client.chain_id)
    require_writable(manifest.path)
    json_output = getattr(args, "json", False)
    if not json_output:
        print(f"deploying from {signer.address} to chain {client.chain_id} ({client.transport.url})", flush=True)
    results: list[DeploymentResult] = []
    with TxSender(client, signer) as sender, Progress("deploying", total=len(plan), unit="items") as progress:
        try:
            for entry in plan:
                progress.update(f"deploying {entry.name}")
                results += deploy_all(
                    sender, manifest, plan=[entry], redeploy_changed=args.redeploy_changed,
                    skip_unsupported=not args.contracts,  # the whole plan skips what this chain's EVM cannot run
                )  # fmt: skip
                if not json_output:
                    progress.say(str(results[-1]))
                progress.advance()
        except KeyboardInterrupt:
            landed = f"{len(results)} of {len(plan)} contracts"
            print(f"error: interrupted after {landed} ({manifest.path} records them: run the same command again "
                  "to resume)", file=sys.stderr, flush=True)
            return EXIT_INTERRUPTED
    if json_output:
        contracts: dict[str, dict[str, Any]] = {r.name: {"status": r.status, "address": r.address} for r in results}
        for skipped in (r for r in results if r.skipped is not None):
            contracts[skipped.name] = {"status": "skipped", "address": None, "reason": str(skipped.skipped)}
        document = {
            "chainId": client.chain_id,
            "deployer": signer.address,
            "manifest": str(manifest.path),
            "contracts": contracts,
        }
        print(json.dumps(document, indent=2))
        return 0
    print(f"manifest: {manifest.path}")
    return 0


def selected_plan(contracts: str | None) -> list[PlannedContract]:
    """The deploy plan, or its entries named in ``--contracts`` (in plan order)."""
    from ..chain.dev import DEPLOY_PLAN

    if not contracts:
        return list(DEPLOY_PLAN)
    wanted = {name.strip() for name in contracts.split(",") if name.strip()}
    names = [entry.name for entry in DEPLOY_PLAN]
    unknown = wanted - set(names)
    if unknown:
        raise DeploymentError(f"not in the deploy plan: {', '.join(sorted(unknown))} (plan: {', '.join(names)})")
    return [entry for entry in DEPLOY_PLAN if entry.name in wanted]


def require_writable(path: Path) -> None:
    """Fail before any gas is spent when the manifest cannot be written (creates its folder, as writing would)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write the deployment manifest {path}: {exc.strerror or exc} (choose another --manifest DIR)"
        ) from exc
