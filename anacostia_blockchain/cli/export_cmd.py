"""``anacostia-chain export mlflow --tracking-uri URI``: copy runs into an MLflow tracking store.

A thin shell over :class:`anacostia_blockchain.metadata.mlflow_export.MlflowExport` (what is copied, and how a
re-export stays idempotent, is described there). Read-only on the metadata database.

Configuration: ``--tracking-uri`` (or MLflow's own ``MLFLOW_TRACKING_URI``), ``--db`` (or ``ANACOSTIA_DB``; default
``./metadata.db`` when there is one; a SQLite file that does not exist is an error, never created), ``--pipeline``
(or ``ANACOSTIA_PIPELINE``; default: the one pipeline whose runs the database anchors; a database that anchors
nothing is exported without anchor tags), ``--experiment`` (default: the pipeline's name). Runs are verified against
the chain when ``--rpc-url`` (or ``ANACOSTIA_RPC_URL``) and ``--registry`` / ``--deployments`` (default
``./deployments``) are there, otherwise (or with ``--offline``) against the root recorded when each run ended; the
``anacostia.verified_against`` tag says which.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.parse
from typing import Any

from ..anchoring import ManifestArchive, RunVerifier
from ..chain import ChainClient, DeploymentManifest, RunRegistryClient
from ..errors import ConfigurationError
from ..metadata import RunStore
from ..metadata.mlflow_export import ExportedRun, MlflowExport, anchors_runs, tracking_client
from ..outbox import Outbox
from ._project import anchored_pipelines, default_db, default_deployments, open_existing
from ._types import RPC_URL_ENV, rpc_url

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("export", help="copy runs into another tool (MLflow)")
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
    mlflow = targets.add_parser(
        "mlflow", help="copy runs (metrics, params, tags, artifact CIDs, anchors, verdicts) into MLflow",
    )
    mlflow.add_argument("--tracking-uri", default=os.environ.get(TRACKING_URI_ENV),
                        help=f"MLflow tracking URI, e.g. sqlite:///mlflow.db or http://host:5000 (${TRACKING_URI_ENV})")
    mlflow.add_argument("--experiment", default=None, help="MLflow experiment (default: the pipeline's name)")
    mlflow.add_argument("--db", default=None,
                        help="metadata database URL ($ANACOSTIA_DB; default sqlite:///metadata.db if it exists)")
    mlflow.add_argument("--pipeline", default=None,
                        help="pipeline name ($ANACOSTIA_PIPELINE; default: the one the database anchors)")
    mlflow.add_argument("--run", type=int, action="append", metavar="ID", help="only this run (repeatable)")
    mlflow.add_argument("--json", action="store_true", help="print what was exported as JSON")
    mlflow.add_argument("--offline", action="store_true",
                        help="verify against the roots recorded when the runs ended; no chain")
    mlflow.add_argument("--rpc-url", type=rpc_url, default=None,
                        help=f"JSON-RPC endpoint to verify against (${RPC_URL_ENV})")
    mlflow.add_argument("--chain-id", type=int, default=None, help="refuse a node serving another chain")
    where = mlflow.add_mutually_exclusive_group()
    where.add_argument("--registry", default=None, help="RunRegistry address")
    where.add_argument("--deployments", default=None, help="deployment manifests (default ./deployments if it exists)")
    mlflow.set_defaults(func=run_mlflow)


def run_mlflow(args: argparse.Namespace) -> int:
    if not args.tracking_uri:
        raise ConfigurationError(f"export mlflow needs --tracking-uri (or {TRACKING_URI_ENV})")
    args.db = args.db or default_db()
    if not args.db:
        raise ConfigurationError("export needs --db (no ./metadata.db here; or set ANACOSTIA_DB)")
    runs = open_existing(args.db, "export")
    try:
        client = tracking_client(args.tracking_uri)  # after the checks: a new tracking store is created here
        pipeline = args.pipeline or _only_pipeline(runs)
        export = MlflowExport(runs, client, experiment=args.experiment or pipeline or "anacostia", pipeline=pipeline,
                              verifier=_verifier(args, runs, pipeline))
        exported = export.export(args.run)
    finally:
        runs.close()
    _print(exported, export.experiment, args)
    return 0


def _only_pipeline(runs: RunStore) -> str | None:
    """The pipeline the database anchors (``None`` when it anchors none); several need ``--pipeline``."""
    if not anchors_runs(runs):
        return None
    found = anchored_pipelines(runs)
    if len(found) > 1:
        names = ', '.join(map(repr, found))
        raise ConfigurationError(f"the database anchors runs of {names}: pick one with --pipeline")
    return found[0] if found else None


def _verifier(args: argparse.Namespace, runs: RunStore, pipeline: str | None) -> RunVerifier | None:
    """A verifier against the chain when one is configured; ``None`` (offline) otherwise."""
    deployments: str | None = args.deployments or (None if args.registry else default_deployments())
    if pipeline is None or args.offline or not args.rpc_url or not (args.registry or deployments):
        return None
    chain = ChainClient(args.rpc_url, expected_chain_id=args.chain_id)
    if args.registry:
        address = str(args.registry)
    else:
        assert deployments is not None
        address = DeploymentManifest.load(deployments, chain.chain_id).address("RunRegistry")
    registry = RunRegistryClient(chain, address)
    return RunVerifier(pipeline, runs.export_run, ManifestArchive(runs.engine), registry, Outbox(runs.engine))


def _print(exported: list[ExportedRun], experiment: str, args: argparse.Namespace) -> None:
    where = _shown(args.tracking_uri)
    if args.json:
        rows = [{"run": e.run_id, "mlflowRunId": e.mlflow_run_id, "action": e.action, "verification": e.verification}
                for e in exported]
        print(json.dumps({"trackingUri": where, "experiment": experiment, "runs": rows}, indent=2))
        return
    for e in exported:
        print(f"run {e.run_id} -> MLflow run {e.mlflow_run_id} ({e.action}; verification: {e.verification})")
    print(f"exported {len(exported)} run(s) to experiment {experiment!r} at {where}")


def _shown(uri: str) -> str:
    """The tracking URI without user info (credentials)."""
    parts = urllib.parse.urlsplit(uri)
    if not parts.netloc or "@" not in parts.netloc:
        return uri
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
