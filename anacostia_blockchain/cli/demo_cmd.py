"""``anacostia-chain demo``: the end-to-end demo (see :mod:`anacostia_blockchain.demo.scenario`).

The demo narrates what its nodes do in its own lines (a quarantined file, a run, its anchor), so the nodes' own log
lines are shown only from ERROR up unless ``--log-level`` says otherwise. In a terminal a spinner on stderr shows the
step in progress and its elapsed time.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ._progress import Progress
from ._types import RPC_URL_ENV, rpc_url

DEFAULT_WORKDIR = Path(".demo")


def _batches(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs at least 1 batch, got {value}")
    return value


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the end-to-end demo: devnet, contracts, pipelines, anchoring, NFT, Story, pricing, a purchase",
        description=(
            "Start anvil, deploy every contract, run the training and publishing pipelines on a few batches of the "
            "scikit-learn digits (one malformed), anchor every run, mint/register/price/list the models, then buy "
            "a license as a second account through the marketplace API and decrypt the model. Exits 0 when every "
            "check passed."
        ),
    )
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR,
                        help="where the chain state, databases, IPFS blocks and data live (default: .demo)")
    parser.add_argument("--batches", type=_batches, default=3, help="good data batches to feed, 1 or more (default: 3)")
    parser.add_argument("--serve", action="store_true",
                        help="keep the chain, pipelines, API and dashboard running afterwards (Ctrl-C stops)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON (progress goes to stderr)")
    parser.add_argument(
        "--rpc-url", type=rpc_url, default=None,
        help=f"use the development node at this URL instead of starting anvil (default ${RPC_URL_ENV}); anvil, "
        "Hardhat Network or Ganache with the dev mnemonic's accounts ('test test ... junk')",
    )  # fmt: skip
    parser.set_defaults(func=run, node_log_level="ERROR")


def run(args: argparse.Namespace) -> int:
    from ..demo.scenario import DemoOptions, DemoScenario

    require_workdir(args.workdir)
    out = sys.stderr if args.json else sys.stdout
    with Progress("starting", unit="steps") as bar:

        def progress(message: str) -> None:
            bar.say(message, out)
            bar.update(message.strip())

        options = DemoOptions(workdir=args.workdir, batches=args.batches, rpc_url=args.rpc_url)
        scenario = DemoScenario(options, progress)
        try:
            summary = scenario.run()
        except BaseException:
            scenario.close()
            raise
    try:
        if args.json:
            print(json.dumps(summary.to_json(), indent=2, default=str))
        else:
            print("\n" + summary.render())
        if args.serve:
            _serve(scenario, lambda message: print(message, file=out, flush=True))
        return 0 if summary.ok else 1
    finally:
        scenario.close()


def require_workdir(workdir: Path) -> None:
    """Fail with one line, before anything starts, when ``workdir`` cannot be created or written."""
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=workdir, prefix=".probe-"):
            pass
    except OSError as exc:
        raise ConfigurationError(f"cannot use --workdir {workdir}: {exc.strerror or exc}") from exc


def _serve(scenario: Any, progress: Any) -> None:
    """Block until SIGINT/SIGTERM, with everything still running."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    market, world = scenario.market, scenario.world
    progress(f"\nserving (Ctrl-C to stop):\n  dashboard   {market.url}/\n  API         {market.url}/models"
             f"  (OpenAPI: {market.url}/docs)\n  chain RPC   {world.client.rpc_url} (chain id {world.client.chain_id})"
             f"\n  drop more CSV batches into {scenario.training.incoming.resource_path} to trigger runs")
    stop.wait()
