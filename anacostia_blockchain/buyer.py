"""A buyer's client of the model marketplace: quote -> buy on chain -> SIWE login -> wrapped data key -> unwrap ->
fetch the encrypted model by CID -> decrypt -> check the model's CID.

``examples/buyer.py`` is the command-line shell over this module; ``make demo`` calls :func:`buy_and_decrypt` too.

Design choices a buyer should know:

- **The chain is the authority, the API a convenience.** The API's quote is shown, but the payment is the
  marketplace contract's own ``quote()`` plus ``slippage`` for a feed update between quote and mining; the contract
  refunds the excess in the same transaction. ``max_eth`` refuses to pay more.
- **No double purchase.** After logging in, the client first asks for the key; a buyer who already holds a license
  gets it without buying again. After a purchase, the key request is retried until the service's indexer has seen
  the purchase (``wait`` seconds).
- **Nothing is trusted that can be checked.** The data key is wrapped for the buyer's own public key (only the
  buyer's private key unwraps it) and its fingerprint must match the service's ``key_id``; the content store
  verifies every block against its CID; the envelope authenticates every chunk; and the decrypted model must hash
  to the plaintext CID sealed in the envelope header. A failure at any step is a typed error and writes nothing.
- Only the standard library speaks HTTP here (``urllib``), so the client runs wherever the package is installed.
"""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import errors
from .chain import ChainClient, DeploymentManifest, LocalSigner, MarketplaceClient, TxSender
from .chain.contracts import Purchase
from .chain.tx import sign_personal_message
from .crypto import DataKey, decrypt_bytes, read_header, unwrap_key
from .crypto.atomic_file import atomic_output
from .errors import AnacostiaError, ConfigurationError, LicenseRequiredError, ServiceError
from .ipfs import CID, compute_cid, open_content_store
from .siwe import SiweMessage, format_rfc3339

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


def buy_license(settings: BuyerSettings, client: ChainClient, signer: LocalSigner, market_address: str) -> Purchase:
    """Pay the contract's own quote plus the slippage margin (refunded), within ``--max-eth``."""
    with TxSender(client, signer) as sender:
        market = MarketplaceClient(client, market_address, sender)
        onchain = market.quote(settings.token_id)
        value = int(Decimal(onchain) * (1 + settings.slippage))
        if settings.max_eth is not None and Decimal(value) > settings.max_eth * WEI_PER_ETH:
            raise ConfigurationError(
                f"model {settings.token_id} costs {Decimal(onchain) / WEI_PER_ETH} ETH (+{settings.slippage:%} "
                f"slippage), more than --max-eth {settings.max_eth}"
            )
        return market.buy(settings.token_id, value)


def decrypt_and_check(envelope: bytes, data_key: DataKey) -> tuple[bytes, str]:
    """The model and its CID, after checking it hashes to the plaintext CID sealed in the envelope header."""
    header = read_header(io.BytesIO(envelope))
    model = decrypt_bytes(envelope, data_key)
    recomputed = compute_cid(model, cid_version=CID.parse(header.plaintext_cid).version)
    if recomputed != header.plaintext_cid:
        raise errors.ContentMismatchError(
            f"the decrypted model hashes to {recomputed}, its envelope promises {header.plaintext_cid}"
        )
    return model, header.plaintext_cid


def buy_and_decrypt(settings: BuyerSettings, signer: LocalSigner, private_key: str) -> tuple[PurchaseReport, bytes]:
    """The whole flow (see the module docstring); returns the report and the decrypted model."""
    api = MarketplaceApi(settings.api_url)
    detail = api.model(settings.token_id)
    api_quote = api.quote(settings.token_id)
    model_cid = find_model_cid(detail)
    client = ChainClient(settings.rpc_url)
    market_address = marketplace_address(settings, client)

    api.login(private_key, signer.address)
    purchase: Purchase | None = None
    try:
        key_body = api.wrapped_key(settings.token_id)  # already licensed: nothing to buy
    except LicenseRequiredError:
        purchase = buy_license(settings, client, signer, market_address)
        key_body = fetch_key_until_licensed(api, settings.token_id, settings.wait)

    data_key = unwrap_key(bytes.fromhex(key_body["wrapped_key"].removeprefix("0x")),
                          bytes.fromhex(private_key.removeprefix("0x")))
    if data_key.key_id != key_body["key_id"]:
        raise errors.KeyWrapError(f"the unwrapped key is {data_key.key_id}, the service announced {key_body['key_id']}")
    model, plaintext_cid = decrypt_and_check(open_content_store(settings.content_store).cat(model_cid), data_key)
    if settings.out is not None:
        with atomic_output(settings.out) as handle:  # the model appears whole or not at all
            handle.write(model)
    report = PurchaseReport(
        token_id=settings.token_id,
        model_name=((detail.get("metadata") or {}).get("document") or {}).get("name"),
        buyer=signer.address,
        price_usd=str(api_quote["price_usd_units"]),
        api_quote_wei=str(api_quote["wei"]),
        paid_wei=str(purchase.paid_wei) if purchase else None,
        refund_wei=str(purchase.refund_wei) if purchase else None,
        purchase_tx=purchase.tx_hash if purchase else None,
        already_licensed=purchase is None,
        license_token_id=key_body.get("license_token_id"),
        key_id=data_key.key_id,
        model_cid=model_cid,
        plaintext_cid=plaintext_cid,
        cid_verified=True,
        size=len(model),
        out=str(settings.out) if settings.out is not None else None,
    )
    return report, model
