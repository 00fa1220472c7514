"""``anacostia-chain devnet``: run a local anvil chain in the foreground until SIGINT/SIGTERM.

Prints the RPC URL, chain id and the funded accounts' addresses; private keys only with ``--show-keys`` (they are
anvil's well-known test keys, but a habit of never printing keys by default is worth keeping); without it, stderr says
how to get one for ``ANACOSTIA_PRIVATE_KEY``. ``--state FILE`` loads the chain from FILE when it exists and dumps it
there on exit (its folder must exist). anvil is found as :func:`~anacostia_blockchain.chain.dev.devnet.find_anvil`
says: ``$ANACOSTIA_ANVIL``, the project's ``node_modules``, or PATH.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from ..chain.dev.devnet import Devnet
from ..chain.dev.story_devnet import STORY_COMPAT_CHAIN_ID, place_story_suite_on_devnet
from ..chain.tx.signer import DEFAULT_KEY_ENV
from ..errors import ConfigurationError


def _place_story_suite(devnet: Devnet, args: argparse.Namespace) -> None:
    """Put the local Story suite at the addresses Story's SDKs use for Aeneid and list them."""
    addresses = place_story_suite_on_devnet(devnet)
    print("Story Protocol suite (Aeneid addresses, admin = account 0):")
    for name, address in addresses.as_dict().items():
        if int(address, 16) and devnet.has_code(address):
            print(f"  {name:<22} {address}")


#: Hook for ``--story-compat``: called with the running Devnet (chain 1315) before it is announced; the Story
#: integration places the local Story suite at Story's Aeneid addresses there.
STORY_COMPAT_HOOK: Callable[[Devnet, argparse.Namespace], None] | None = _place_story_suite


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "devnet",
        help="run a local anvil chain in the foreground",
        description="Run a local anvil chain in the foreground until Ctrl-C or SIGTERM; print its RPC URL, chain id "
        "and funded dev accounts (their private keys with --show-keys, e.g. for ANACOSTIA_PRIVATE_KEY). anvil is "
        "taken from $ANACOSTIA_ANVIL, the project's node_modules (`npm ci`) or PATH (Foundry's `foundryup`).",
    )
    parser.add_argument("--port", type=int, default=8545, help="RPC port (default 8545; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--chain-id", type=int, default=None, help=f"default 31337, or {STORY_COMPAT_CHAIN_ID} with --story-compat"
    )
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--block-time", type=float, default=None, help="seconds per block (default: automine)")
    parser.add_argument("--state", default=None, help="load state from this file if present; dump it on exit")
    parser.add_argument("--show-keys", action="store_true", help="also print the dev accounts' private keys")
    parser.add_argument(
        "--story-compat", action="store_true", help="chain 1315 with the local Story suite at Story's Aeneid addresses"
    )
    parser.set_defaults(func=run)


def _chain_id(args: argparse.Namespace) -> int:
    if args.chain_id is not None:
        return int(args.chain_id)
    return STORY_COMPAT_CHAIN_ID if args.story_compat else 31337


def _check_state_path(state: str | None) -> None:
    if state is None:
        return
    path = Path(state)
    if path.is_dir():
        raise ConfigurationError(f"--state {state} is a directory: give the path of the state file")
    if not path.parent.is_dir():
        raise ConfigurationError(f"--state {state}: no such folder {path.parent}")


def _announce(devnet: Devnet, args: argparse.Namespace) -> None:
    print(f"RPC URL:  {devnet.rpc_url}")
    print(f"Chain id: {devnet.chain_id}")
    print("Accounts:")
    for index, account in enumerate(devnet.accounts):
        line = f"  ({index}) {account.address}"
        if args.show_keys:
            line += f"  key {account.private_key}"
        print(line)
    if args.show_keys and devnet.accounts:
        print(f"Sign with account (0): export {DEFAULT_KEY_ENV}={devnet.accounts[0].private_key}")
    else:
        print(f"To sign with a dev account: `anacostia-chain devnet --show-keys` prints their private keys (anvil's "
              f"well-known test keys); then export {DEFAULT_KEY_ENV}=<one of them>", file=sys.stderr)
    if args.state:
        print(f"State:    {args.state} (dumped on exit)")
    print("Press Ctrl-C to stop.", flush=True)


def run(args: argparse.Namespace) -> int:
    _check_state_path(args.state)
    devnet = Devnet(
        host=args.host,
        port=args.port or None,
        chain_id=_chain_id(args),
        accounts=args.accounts,
        block_time=args.block_time,
        state_path=args.state,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        devnet.start()
        if args.story_compat and STORY_COMPAT_HOOK is not None:
            STORY_COMPAT_HOOK(devnet, args)
        _announce(devnet, args)
        while not stop.wait(0.5):
            if not devnet.running:
                print("anvil exited unexpectedly")
                return 1
        return 0
    finally:
        devnet.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
