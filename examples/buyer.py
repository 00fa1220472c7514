"""Buy a model on the Anacostia marketplace and decrypt it: quote -> buy on chain -> SIWE login -> fetch the wrapped
data key -> unwrap -> fetch the encrypted model by CID -> decrypt -> check the model's CID.

    export ANACOSTIA_BUYER_KEY=0x...        # the buyer's account key (--key-env names another variable)
    python examples/buyer.py 1 --api http://127.0.0.1:8000 --rpc-url http://127.0.0.1:8545 \\
        --deployments deployments --ipfs embedded:~/.anacostia/ipfs --out model.json [--max-eth 0.05] [--json]

Every setting also comes from the environment: ``ANACOSTIA_API_URL``, ``ANACOSTIA_RPC_URL``,
``ANACOSTIA_DEPLOYMENTS`` (or ``ANACOSTIA_MARKETPLACE`` = the ModelMarketplace address), ``ANACOSTIA_CONTENT_STORE``
(``embedded:/path`` or a Kubo RPC URL). The key is read from the environment, never from the command line, and is
never printed.

The flow and its guarantees are documented in :mod:`anacostia_blockchain.buyer`; this script is its command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

from anacostia_blockchain.buyer import WEI_PER_ETH, BuyerSettings, buy_and_decrypt
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.errors import AnacostiaError, ConfigurationError


def load_buyer_key(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[LocalSigner, str]:
    """The buyer's signer and hex key from the key variable. The raw key is needed twice besides signing the
    purchase: for the SIWE signature and to unwrap the data key (ECIES on the account's own key pair)."""
    key = env.get(args.key_env)
    if not key:
        raise ConfigurationError(f"set {args.key_env} to the buyer's private key (hex)")
    return LocalSigner.from_key(key), key


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Buy a model license and decrypt the model (see the docstring).")
    parser.add_argument("token_id", type=int, help="the model NFT's token id")
    parser.add_argument("--api", default=env.get("ANACOSTIA_API_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--rpc-url", default=env.get("ANACOSTIA_RPC_URL", "http://127.0.0.1:8545"))
    parser.add_argument("--marketplace", default=env.get("ANACOSTIA_MARKETPLACE"), help="ModelMarketplace address")
    parser.add_argument("--deployments", default=env.get("ANACOSTIA_DEPLOYMENTS"), help="deployment manifest dir")
    parser.add_argument("--ipfs", default=env.get("ANACOSTIA_CONTENT_STORE", "embedded"),
                        help="where the encrypted model is: embedded[:/path] or a Kubo RPC URL")
    parser.add_argument("--out", type=Path, default=None, help="write the decrypted model here")
    parser.add_argument("--max-eth", type=Decimal, default=None, help="refuse to pay more than this")
    parser.add_argument("--slippage", type=Decimal, default=Decimal("0.01"), help="extra sent, refunded (0.01)")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the indexer after buying")
    parser.add_argument("--key-env", default="ANACOSTIA_BUYER_KEY", help="variable holding the buyer's key")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    args = build_parser(env).parse_args(argv)
    settings = BuyerSettings(
        token_id=args.token_id, api_url=args.api, rpc_url=args.rpc_url, marketplace=args.marketplace,
        deployments=args.deployments, content_store=args.ipfs, out=args.out, max_eth=args.max_eth,
        slippage=args.slippage, wait=args.wait,
    )
    try:
        signer, private_key = load_buyer_key(args, env)
        report, _model = buy_and_decrypt(settings, signer, private_key)
    except AnacostiaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        bought = ("already licensed" if report.already_licensed
                  else f"bought in {report.purchase_tx} for {Decimal(report.paid_wei or 0) / WEI_PER_ETH} ETH")
        print(f"model {report.token_id} ({report.model_name}): {bought}; license token {report.license_token_id}")
        print(f"key {report.key_id} unwrapped; {report.model_cid} decrypted: {report.size} bytes, "
              f"CID {report.plaintext_cid} verified" + (f", written to {report.out}" if report.out else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
