"""Buy a model on the Anacostia marketplace and decrypt it: quote -> buy on chain -> SIWE login -> fetch the wrapped
data key -> unwrap -> fetch the encrypted model by CID -> decrypt -> check the model's CID.

    export ANACOSTIA_BUYER_KEY=0x...        # the buyer's account key (--key-env names another variable)
    python examples/buyer.py 1 --api http://127.0.0.1:8000 --rpc-url http://127.0.0.1:8545 \\
        --deployments deployments --ipfs embedded:~/.anacostia/ipfs --out model.json [--max-eth 0.05] [--json]

Every setting also comes from the environment: ``ANACOSTIA_API_URL``, ``ANACOSTIA_RPC_URL``,
``ANACOSTIA_DEPLOYMENTS`` (or ``ANACOSTIA_MARKETPLACE`` = the ModelMarketplace address), ``ANACOSTIA_CONTENT_STORE``
(``embedded:/path`` or a Kubo RPC URL). The key is read from the environment, never from the command line, and is
never printed.

Design choices a buyer should know:

- **The chain is the authority, the API a convenience.** The API's quote is shown, but the payment is the
  marketplace contract's own ``quote()`` plus ``--slippage`` (default 1 %) for a feed update between quote and
  mining; the contract refunds the excess in the same transaction. ``--max-eth`` refuses to pay more.
- **No double purchase.** After logging in, the script first asks for the key; a buyer who already holds a license
  gets it without buying again. After a purchase, the key request is retried until the service's indexer has seen
  the purchase (``--wait`` seconds).
- **Nothing is trusted that can be checked.** The data key is wrapped for the buyer's own public key (only the
  buyer's private key unwraps it) and its fingerprint must match the service's ``key_id``; the content store
  verifies every block against its CID; the envelope authenticates every chunk; and the decrypted model must hash
  to the plaintext CID sealed in the envelope header. A failure at any step is a typed error and writes nothing.
- Only the standard library speaks HTTP here (``urllib``), so the script runs wherever the package is installed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from anacostia_blockchain import errors
from anacostia_blockchain.chain.client import ChainClient
from anacostia_blockchain.chain.deploy import DeploymentManifest
from anacostia_blockchain.chain.marketplace import MarketplaceClient
from anacostia_blockchain.chain.personal_sign import sign_personal_message
from anacostia_blockchain.chain.signer import LocalSigner
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.crypto import decrypt_bytes, read_header, unwrap_key
from anacostia_blockchain.crypto.atomic_file import atomic_output
from anacostia_blockchain.errors import AnacostiaError, ConfigurationError, LicenseRequiredError, ServiceError
from anacostia_blockchain.ipfs import CID, compute_cid, open_content_store
from anacostia_blockchain.service.siwe import SiweMessage, format_rfc3339

WEI_PER_ETH = Decimal(10**18)


class MarketplaceApi:
    """The few marketplace API calls a buyer needs; error bodies become the library's typed errors."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session_token: str | None = None

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.session_token is not None:
            headers["Authorization"] = f"Bearer {self.session_token}"
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise _api_error(exc, method, path) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise ServiceError(f"marketplace API {self.base_url} unreachable ({method} {path}): {exc}") from exc

    def model(self, token_id: int) -> dict[str, Any]:
        return dict(self.request("GET", f"/models/{token_id}"))

    def quote(self, token_id: int) -> dict[str, Any]:
        return dict(self.request("GET", f"/models/{token_id}/quote"))

    def login(self, signer_key: str, address: str) -> None:
        """Sign-In with Ethereum: take a nonce, sign the EIP-4361 message the service asks for, keep the session."""
        offer = self.request("POST", "/auth/nonce")
        now = datetime.now(UTC)
        message = SiweMessage(
            domain=offer["domain"], address=address, uri=offer["uri"], chain_id=int(offer["chain_id"]),
            nonce=offer["nonce"], issued_at=format_rfc3339(now), statement=offer["statement"],
            expiration_time=format_rfc3339(now + timedelta(seconds=min(int(offer["expires_in"]), 300))),
        ).to_text()
        session = self.request("POST", "/auth/login",
                               {"message": message, "signature": sign_personal_message(signer_key, message)})
        self.session_token = str(session["token"])

    def wrapped_key(self, token_id: int) -> dict[str, Any]:
        return dict(self.request("GET", f"/models/{token_id}/key"))


def _api_error(exc: urllib.error.HTTPError, method: str, path: str) -> AnacostiaError:
    """``{"error": {"type", "message"}}`` -> the error class of that name (a ServiceError when unknown)."""
    try:
        detail = json.loads(exc.read())["error"]
        name, message = str(detail["type"]), str(detail["message"])
    except (ValueError, KeyError, TypeError):
        name, message = "", f"HTTP {exc.code}"
    cls = getattr(errors, name, None)
    text = f"{method} {path}: {message}"
    if name == "RateLimitedError":
        return errors.RateLimitedError(text, retry_after=float(exc.headers.get("Retry-After") or 1))
    if isinstance(cls, type) and issubclass(cls, AnacostiaError) and cls.__init__ is AnacostiaError.__init__:
        return cls(text)
    return ServiceError(f"{text} (HTTP {exc.code})")


@dataclass(frozen=True)
class BuyerSettings:
    token_id: int
    api_url: str
    rpc_url: str
    marketplace: str | None
    deployments: str | None
    content_store: str
    out: Path | None
    max_eth: Decimal | None
    slippage: Decimal
    wait: float


@dataclass
class PurchaseReport:
    """What the buyer got; safe to print (no key material: ``key_id`` is a one-way fingerprint)."""

    token_id: int
    model_name: str | None
    buyer: str
    price_usd: str
    api_quote_wei: str
    paid_wei: str | None
    refund_wei: str | None
    purchase_tx: str | None
    already_licensed: bool
    license_token_id: str | None
    key_id: str
    model_cid: str
    plaintext_cid: str
    cid_verified: bool
    size: int
    out: str | None


def find_model_cid(detail: Mapping[str, Any]) -> str:
    """The encrypted model's CID from the NFT metadata (``properties.model_cids``, see actions/model_metadata.py)."""
    document = (detail.get("metadata") or {}).get("document") or {}
    cids = (document.get("properties") or {}).get("model_cids") or []
    if not cids:
        raise ServiceError(f"model {detail.get('token_id')}: its metadata names no model CID (properties.model_cids)")
    return str(cids[0])


def marketplace_address(settings: BuyerSettings, client: ChainClient) -> str:
    if settings.marketplace:
        return client.require_code(settings.marketplace, "ModelMarketplace")
    if settings.deployments:
        return DeploymentManifest.load(settings.deployments, client.chain_id).address("ModelMarketplace")
    raise ConfigurationError("give --marketplace ADDRESS or --deployments DIR (ANACOSTIA_MARKETPLACE / "
                             "ANACOSTIA_DEPLOYMENTS)")


def fetch_key_until_licensed(api: MarketplaceApi, token_id: int, wait: float) -> dict[str, Any]:
    """The key, retried while the service's indexer has not yet seen the purchase (403 LicenseRequiredError)."""
    deadline = time.monotonic() + wait
    delay = 0.2
    while True:
        try:
            return api.wrapped_key(token_id)
        except LicenseRequiredError:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def buy_and_decrypt(settings: BuyerSettings, signer: LocalSigner, private_key: str) -> tuple[PurchaseReport, bytes]:
    """The whole flow (see the module docstring); returns the report and the decrypted model."""
    api = MarketplaceApi(settings.api_url)
    detail = api.model(settings.token_id)
    api_quote = api.quote(settings.token_id)
    model_cid = find_model_cid(detail)
    client = ChainClient(settings.rpc_url)
    market_address = marketplace_address(settings, client)

    api.login(private_key, signer.address)
    purchase = None
    try:
        key_body = api.wrapped_key(settings.token_id)  # already licensed: nothing to buy
    except LicenseRequiredError:
        with TxSender(client, signer) as sender:
            market = MarketplaceClient(client, market_address, sender)
            onchain = market.quote(settings.token_id)
            value = int(Decimal(onchain) * (1 + settings.slippage))
            if settings.max_eth is not None and Decimal(value) > settings.max_eth * WEI_PER_ETH:
                raise ConfigurationError(
                    f"model {settings.token_id} costs {Decimal(onchain) / WEI_PER_ETH} ETH (+{settings.slippage:%} "
                    f"slippage), more than --max-eth {settings.max_eth}"
                ) from None
            purchase = market.buy(settings.token_id, value)
        key_body = fetch_key_until_licensed(api, settings.token_id, settings.wait)

    data_key = unwrap_key(bytes.fromhex(key_body["wrapped_key"].removeprefix("0x")),
                          bytes.fromhex(private_key.removeprefix("0x")))
    if data_key.key_id != key_body["key_id"]:
        raise errors.KeyWrapError(f"the unwrapped key is {data_key.key_id}, the service announced {key_body['key_id']}")
    envelope = open_content_store(settings.content_store).cat(model_cid)
    header = read_header(io.BytesIO(envelope))
    model = decrypt_bytes(envelope, data_key)
    recomputed = compute_cid(model, cid_version=CID.parse(header.plaintext_cid).version)
    if recomputed != header.plaintext_cid:
        raise errors.ContentMismatchError(
            f"the decrypted model hashes to {recomputed}, its envelope promises {header.plaintext_cid}"
        )
    if settings.out is not None:
        with atomic_output(settings.out) as handle:  # the model appears whole or not at all
            handle.write(model)
    report = PurchaseReport(
        token_id=settings.token_id,
        model_name=(detail.get("metadata") or {}).get("document", {}).get("name"),
        buyer=signer.address,
        price_usd=str(api_quote["price_usd_units"]),
        api_quote_wei=str(api_quote["wei"]),
        paid_wei=str(purchase.paid_wei - purchase.refund_wei) if purchase else None,
        refund_wei=str(purchase.refund_wei) if purchase else None,
        purchase_tx=purchase.tx_hash if purchase else None,
        already_licensed=purchase is None,
        license_token_id=key_body.get("license_token_id"),
        key_id=data_key.key_id,
        model_cid=model_cid,
        plaintext_cid=header.plaintext_cid,
        cid_verified=True,
        size=len(model),
        out=str(settings.out) if settings.out is not None else None,
    )
    return report, model


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
