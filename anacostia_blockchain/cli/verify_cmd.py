"""``anacostia-chain verify RUN [--item KEY] [--offline] [--json]``: check a run (and one item) against its anchor.

Read-only and keyless: it opens the metadata database, re-exports the run, compares it with the archived manifest
and with the root in ``RunRegistry``, and prints one verdict line (or JSON with ``--json``: the verdict, ``root``,
``manifestCid``, ``manifestVersion``, ``treeLayout`` and ``leaves``, every item's double-hashed leaf). With
``--offline`` the chain is not asked: the run and the item are checked against the root recorded when the run
ended. An item's proof is always checked against that independent root (never one recomputed from the archived
manifest), and a check that failed is printed ``FAILED``, never ``ok``.

Exit codes (so scripts and CI can gate on it):

====  ===========================================================================================
0     VERIFIED — the run (and the ``--item``) matches the chain (``--offline``: the recorded root)
3     TAMPERED — a value differs from what was anchored (the changed items are named), or the
      item is NOT-PROVEN; CONFLICT — another root was anchored for this run
4     NOT ANCHORED — the run has no root on chain yet (pending in the outbox) or no manifest
1     any other error (database/chain unreachable, unknown run or item key, configuration)
====  ===========================================================================================

Configuration: ``--db`` (or ``ANACOSTIA_DB``; default ``./metadata.db`` when there is one, and a SQLite file that
does not exist is an error, never created), ``--pipeline`` (or ``ANACOSTIA_PIPELINE``; the name whose keccak256 is the
pipelineId; default: the one pipeline whose runs the database anchors) and, unless ``--offline``, ``--rpc-url`` (or
``ANACOSTIA_RPC_URL``) and either ``--registry ADDRESS`` or ``--deployments DIR`` (default ``./deployments``, the
deployment manifests written by ``anacostia-chain deploy``). Whatever is still missing is named in one message.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from ..anchoring import ManifestArchive, RunVerifier, VerificationReport
from ..chain import ChainClient, DeploymentManifest, RunRegistryClient
from ..errors import AnchorConflictError, ConfigurationError, RunNotAnchoredError, TamperedManifestError
from ..metadata import RunStore
from ..outbox import Outbox
from ._project import (
    DEFAULT_DB_FILE,
    DEFAULT_DEPLOYMENTS,
    anchored_pipelines,
    default_db,
    default_deployments,
    open_existing,
)
from ._types import RPC_URL_ENV, rpc_url

EXIT_VERIFIED = 0
EXIT_TAMPERED = 3
EXIT_NOT_ANCHORED = 4


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("verify", help="verify a run (and optionally one item) against its on-chain anchor")
    parser.add_argument("run", type=int, metavar="RUN", help="the run id")
    parser.add_argument("--item", default=None, metavar="KEY", help="also prove one item, e.g. metric:loss@3")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--offline", action="store_true", help="check against the root recorded when the run ended; no chain"
    )
    parser.add_argument(
        "--db", default=None,
        help="metadata database URL ($ANACOSTIA_DB; default sqlite:///metadata.db if ./metadata.db exists)",
    )
    parser.add_argument(
        "--pipeline", default=None,
        help="pipeline name ($ANACOSTIA_PIPELINE; default: the one pipeline whose runs the database anchors)",
    )
    parser.add_argument(
        "--rpc-url", type=rpc_url, default=None, help=f"JSON-RPC endpoint (${RPC_URL_ENV})"
    )
    parser.add_argument("--chain-id", type=int, default=None, help="refuse a node serving another chain")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--registry", default=None, help="RunRegistry address")
    where.add_argument(
        "--deployments", default=None,
        help="directory of deployment manifests (<chainId>.json; default ./deployments if it exists)",
    )
    parser.set_defaults(func=run)


def build_verifier(args: argparse.Namespace) -> RunVerifier:
    runs = _complete_from_project(args)
    registry = None if args.offline else _registry(args)
    return RunVerifier(args.pipeline, runs.export_run, ManifestArchive(runs.engine), registry, Outbox(runs.engine))


def _complete_from_project(args: argparse.Namespace) -> RunStore:
    """Fill what is not given from the project folder (:mod:`._project`) and open the database; everything still
    missing is named in one error."""
    args.db = args.db or default_db()
    if not (args.offline or args.registry or args.deployments):
        args.deployments = default_deployments()
    runs = open_existing(args.db, "verify") if args.db else None
    missing, notes = ([], []) if args.db else (["--db"], [f"no ./{DEFAULT_DB_FILE} here"])
    if not args.pipeline:
        found = anchored_pipelines(runs) if runs is not None else []
        if len(found) == 1:
            args.pipeline = found[0]
        else:
            missing.append("--pipeline")
            if runs is not None:
                notes.append(f"the database anchors runs of {', '.join(map(repr, found))}" if found
                             else "the database holds no anchored run")
    if not args.offline and not args.rpc_url:
        missing.append("--rpc-url")
    if not (args.offline or args.registry or args.deployments):
        missing.append("--registry ADDRESS or --deployments DIR")
        notes.append(f"no ./{DEFAULT_DEPLOYMENTS} here")
    if missing or runs is None:
        notes.append("or the matching ANACOSTIA_* settings: environment, .env, anacostia.toml")
        raise ConfigurationError(f"verify needs {', '.join(missing)} ({'; '.join(notes)})")
    return runs


def _registry(args: argparse.Namespace) -> RunRegistryClient:
    client = ChainClient(args.rpc_url, expected_chain_id=args.chain_id)
    address = args.registry or DeploymentManifest.load(args.deployments, client.chain_id).address("RunRegistry")
    return RunRegistryClient(client, address)


def run(args: argparse.Namespace) -> int:
    verifier = build_verifier(args)
    result: dict[str, Any] = {"run": args.run, "pipeline": args.pipeline}
    lines: list[str] = []
    code = EXIT_VERIFIED
    try:
        report = verifier.verify_local(args.run) if args.offline else verifier.verify_run(args.run)
        result.update(report.to_json())
        lines.append(_verified_line(report))
    except TamperedManifestError as exc:
        code = EXIT_TAMPERED
        result.update({"verdict": "tampered", "changedItems": exc.items, "message": str(exc)})
        lines.append(f"TAMPERED      {exc}")
    except AnchorConflictError as exc:
        code = EXIT_TAMPERED
        result.update({"verdict": "conflict", "message": str(exc)})
        lines.append(f"CONFLICT      {exc}")
    except RunNotAnchoredError as exc:
        code = EXIT_NOT_ANCHORED
        result.update({"verdict": "not-anchored", "message": str(exc)})
        lines.append(f"NOT ANCHORED  {exc}")
    if args.item is not None and code != EXIT_NOT_ANCHORED:
        item, line = _prove_item(verifier, args.run, args.item, offline=args.offline)
        result["item"] = item
        lines.append(line)
        if item["verdict"] != "proven":
            code = EXIT_TAMPERED
    print(json.dumps(result, indent=2, sort_keys=True) if args.json else "\n".join(lines))
    return code


def _prove_item(verifier: RunVerifier, run_id: int, key: str, *, offline: bool) -> tuple[dict[str, Any], str]:
    """The item's JSON and verdict line; an archive too damaged to give a proof is NOT-PROVEN too."""
    try:
        proof = verifier.prove(run_id, key)
    except TamperedManifestError as exc:
        return {"key": key, "verdict": "not-proven", "message": str(exc)}, f"NOT-PROVEN    {key}: {exc}"
    check = verifier.verify_proof(proof, on_chain=not offline)
    verdict = "proven" if check.ok else "not-proven"
    marks = ", ".join(f"{name} {'ok' if passed else 'FAILED'}" for name, passed in check.marks().items())
    line = f"{verdict.upper():<13} {proof.item.key} = {proof.item.display()}  [{marks}]"
    if check.problem:
        line += f" ({check.problem})"
    return {**proof.to_json(), "checks": check.to_json(), "verdict": verdict}, line


def _verified_line(report: VerificationReport) -> str:
    line = (
        f"VERIFIED      run {report.run_id} of {report.pipeline!r}: {report.items} items, "
        f"root 0x{report.root.hex()}, manifest {report.manifest_cid}"
    )
    if report.against == "recorded":
        return line + ", against the root recorded when the run ended (offline: the chain was not asked)"
    if report.anchor is not None:
        when = datetime.fromtimestamp(report.anchor.timestamp, tz=UTC).isoformat(timespec="seconds")
        line += f", anchored in block {report.anchor.block_number} (tx {report.anchor.tx_hash}) at {when}"
        line += f", {report.finality}"
    return line
