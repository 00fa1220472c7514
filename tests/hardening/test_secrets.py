"""No secret leaks: the whole demo at DEBUG, then every text it produced is scanned for every key it used.

The demo (:class:`~anacostia_blockchain.demo.scenario.DemoScenario`) runs end to end in a temporary work directory —
anvil, every contract, both pipelines, anchoring, NFT, Story, pricing, the marketplace service with its indexer, a
SIWE login and a purchase — while :class:`LogRecorder` records every log record of every logger at DEBUG. Then errors
are provoked on purpose with wrong passwords, malformed keys, a foreign signature, an unfunded key, a seller who
sends the *plain* key where the wrapped one belongs, and ``anacostia-chain deploy`` given a wrong keystore password
or a truncated key.

Secrets looked for (:class:`SecretScanner`, every spelling): the operator, buyer, service and stranger dev keys,
every data key :meth:`DataKey.generate` produced (and every one constructed, e.g. unwrapped by the buyer), the
service key, the SIWE session secret, every session token issued, the keystore passwords and the unfunded key.
Texts scanned: log records (messages, arguments, tracebacks, extras), stdout/stderr at the file-descriptor level,
the progress lines, the summary (JSON and rendered), the repr/str of every library object reachable from the
scenario, the provoked exceptions (message, repr, attributes, chained traceback), the service's error bodies and
every read endpoint of the service (dashboard, OpenAPI, models, quotes, runs, verification, status).
Files the demo wrote (databases, IPFS blocks, chain state) must not hold a private key or a data key either.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_secrets_scanner import LogRecorder, SecretScanner, exception_text, private_key_bytes, reachable_reprs

from anacostia_blockchain.buyer import MarketplaceApi
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.personal_sign import sign_personal_message
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.cli.main import main as cli_main
from anacostia_blockchain.crypto import (
    DataKey,
    decrypt_bytes,
    encrypt_bytes,
    public_key_for_private_key,
    unwrap_key,
    wrap_key_for_public_key,
)
from anacostia_blockchain.demo.scenario import DemoOptions, DemoScenario
from anacostia_blockchain.errors import AnacostiaError
from anacostia_blockchain.service import ServiceConfig
from anacostia_blockchain.service.auth import SessionTokens
from anacostia_blockchain.siwe import SiweMessage, format_rfc3339

KEYSTORE_PASSWORD = "correct horse battery staple 7c1e"
WRONG_PASSWORD = "correct horse battery stapel 7c1e"
UNFUNDED_KEY = "0x" + "5a" * 31 + "01"


class KeyCollector:
    """Wraps :meth:`DataKey.generate`, ``DataKey.__init__`` and :meth:`SessionTokens.issue` to keep what they made."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.generated: list[DataKey] = []
        self.constructed: list[DataKey] = []
        self.tokens: list[str] = []
        generate, init, issue = DataKey.generate.__func__, DataKey.__init__, SessionTokens.issue  # type: ignore[attr-defined]

        def collecting_generate(cls: type[DataKey]) -> DataKey:
            key = generate(cls)
            self.generated.append(key)
            return key

        def collecting_init(key: DataKey, material: bytes) -> None:
            init(key, material)
            self.constructed.append(key)

        def collecting_issue(tokens: SessionTokens, *args: Any, **kwargs: Any) -> Any:
            token, session = issue(tokens, *args, **kwargs)
            self.tokens.append(token)
            return token, session

        monkeypatch.setattr(DataKey, "generate", classmethod(collecting_generate))
        monkeypatch.setattr(DataKey, "__init__", collecting_init)
        monkeypatch.setattr(SessionTokens, "issue", collecting_issue)


def provoke(action: Callable[[], object]) -> AnacostiaError:
    """Run ``action``, which must fail with a typed error; the error, for scanning."""
    with pytest.raises(AnacostiaError) as caught:
        action()
    return caught.value


def provoked_errors(
    scenario: DemoScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, AnacostiaError]]:
    """Errors a user meets with a wrong password, a malformed key, a foreign signature, ... (module docstring)."""
    world, market = scenario.world, scenario.market
    assert world is not None and market is not None and world.devnet is not None
    operator_key, buyer_key = world.operator.private_key, world.buyer.private_key
    keystore = LocalSigner.from_key(operator_key).write_keystore(
        tmp_path / "operator.json", KEYSTORE_PASSWORD, kdf="pbkdf2", iterations=2
    )
    yield "keystore, wrong password", provoke(lambda: LocalSigner.from_keystore(keystore, WRONG_PASSWORD))
    # eth-account left-pads odd-length hex: before the fix this silently became another account instead of an error
    yield "key one digit short", provoke(lambda: LocalSigner.from_key(operator_key[:-1]))
    yield "key with a non-hex digit", provoke(lambda: LocalSigner.from_key(operator_key[:-1] + "g"))
    yield "key of 31 bytes", provoke(lambda: LocalSigner.from_key(private_key_bytes(operator_key)[:31]))
    monkeypatch.setenv("HARDENING_BAD_KEY", operator_key[:-2])
    yield "key from env, truncated", provoke(lambda: LocalSigner.from_env("HARDENING_BAD_KEY"))
    yield "service key env, truncated", provoke(
        lambda: ServiceConfig.from_env({"ANACOSTIA_SERVICE_KEY": world.service.private_key[:-2]})
    )
    yield "session secret env, not hex", provoke(
        lambda: ServiceConfig.from_env({"ANACOSTIA_SESSION_SECRET": market.config.session_secret.hex() + "zz"})
    )
    data_key = DataKey.generate()
    envelope = encrypt_bytes(b"model weights" * 100, data_key, plaintext_cid="bafkreia")
    yield "data key of 31 bytes", provoke(lambda: DataKey(data_key.secret_bytes()[:31]))
    yield "decrypt with another data key", provoke(lambda: decrypt_bytes(envelope, DataKey.generate()))
    wrapped = wrap_key_for_public_key(data_key, public_key_for_private_key(private_key_bytes(operator_key)))
    yield "unwrap with the buyer's key", provoke(lambda: unwrap_key(wrapped, private_key_bytes(buyer_key)))
    unfunded = TxSender(world.client, LocalSigner.from_key(UNFUNDED_KEY))
    try:
        yield "unfunded account", provoke(lambda: unfunded.send_value(world.buyer.address, 10**18, timeout=10))
    finally:
        unfunded.close()
    yield from provoked_api_errors(scenario)


def provoked_cli_failures(scenario: DemoScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``anacostia-chain deploy`` with a wrong keystore password and with a truncated key: exit codes (the messages
    go to stderr, which the test captures and scans)."""
    world = scenario.world
    assert world is not None
    keystore = tmp_path / "operator.json"  # written by provoked_errors
    monkeypatch.setenv("HARDENING_KEYSTORE_PASSWORD", WRONG_PASSWORD)
    wrong_password = cli_main(["deploy", "--rpc-url", world.client.rpc_url, "--keystore", str(keystore),
                               "--password-env", "HARDENING_KEYSTORE_PASSWORD", "--manifest", str(tmp_path / "dep")])
    monkeypatch.setenv("ANACOSTIA_PRIVATE_KEY", world.operator.private_key[:-1])
    truncated_key = cli_main(["deploy", "--rpc-url", world.client.rpc_url, "--manifest", str(tmp_path / "dep")])
    return [wrong_password, truncated_key]


def provoked_api_errors(scenario: DemoScenario) -> Iterator[tuple[str, AnacostiaError]]:
    """The service's error bodies reach the client as typed errors; their text is what a buyer's log would show."""
    world, market = scenario.world, scenario.market
    assert world is not None and market is not None
    token_id = next(iter(world.nft.minted_runs(scenario.publishing.reader.pipeline_id).values()))  # type: ignore[union-attr]
    seller = MarketplaceApi(market.url)
    seller.login(world.operator.private_key, world.operator.address)
    yield "seller sends the plain service key as the wrapped key", provoke(
        lambda: seller.request("PUT", f"/models/{token_id}/key", {"wrapped_key": world.service.private_key})
    )
    plain_data_key = DataKey.generate().secret_bytes().hex()
    yield "seller sends a plain data key as the wrapped key", provoke(
        lambda: seller.request("PUT", f"/models/{token_id}/key", {"wrapped_key": plain_data_key})
    )
    offer = MarketplaceApi(market.url).request("POST", "/auth/nonce")
    message = SiweMessage(
        domain=offer["domain"], address=world.operator.address, uri=offer["uri"], chain_id=int(offer["chain_id"]),
        nonce=offer["nonce"], issued_at=format_rfc3339(datetime.now(UTC)), statement=offer["statement"],
    ).to_text()
    forged = {"message": message, "signature": sign_personal_message(world.buyer.private_key, message)}
    yield "SIWE message signed by another key", provoke(
        lambda: MarketplaceApi(market.url).request("POST", "/auth/login", forged)
    )
    stranger = MarketplaceApi(market.url)
    stranger.session_token = seller.session_token[:-4] + "AAAA"  # type: ignore[index]
    yield "forged session token", provoke(lambda: stranger.wrapped_key(token_id))


def api_texts(scenario: DemoScenario) -> list[tuple[str, str]]:
    """Every read endpoint of the service after the demo: what a stranger on the network can see."""
    market = scenario.market
    assert market is not None
    paths = ["/", "/dashboard", "/dashboard/api/pipeline", "/openapi.json", "/status", "/service/key",
             "/models?page_size=100", "/runs?page_size=100"]
    api = MarketplaceApi(market.url)
    for model in api.request("GET", "/models?page_size=100")["items"]:
        paths += [f"/models/{model['token_id']}", f"/models/{model['token_id']}/quote"]
    for run in api.request("GET", "/runs?page_size=100")["items"]:
        paths += [f"/runs/{run['key']}", f"/runs/{run['key']}/verify"]
    texts = []
    for path in paths:
        with urllib.request.urlopen(market.url + path, timeout=30) as response:
            texts.append((f"GET {path}", response.read().decode()))
    return texts


def collect_secrets(scenario: DemoScenario, keys: KeyCollector) -> SecretScanner:
    world, market = scenario.world, scenario.market
    assert world is not None and world.devnet is not None and market is not None
    scanner = SecretScanner()
    for role, account in [("operator", world.operator), ("buyer", world.buyer), ("service", world.service),
                          ("stranger", world.devnet.accounts[3])]:
        scanner.add(f"{role} private key", private_key_bytes(account.private_key))
    assert market.config.service_key is not None
    scanner.add("service key (config)", market.config.service_key)
    scanner.add("SIWE session secret", market.config.session_secret)
    for index, key in enumerate(keys.generated):
        scanner.add(f"generated data key #{index} ({key.key_id})", key.secret_bytes())
    for index, key in enumerate(keys.constructed):
        scanner.add(f"data key #{index} ({key.key_id})", key.secret_bytes())
    for index, token in enumerate(keys.tokens):
        scanner.add(f"session token #{index}", token.encode())
    scanner.add("keystore password", KEYSTORE_PASSWORD.encode())
    scanner.add("wrong keystore password", WRONG_PASSWORD.encode())
    scanner.add("unfunded private key", private_key_bytes(UNFUNDED_KEY))
    return scanner


@pytest.mark.slow
def test_the_whole_demo_at_debug_leaks_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    keys = KeyCollector(monkeypatch)
    recorder = LogRecorder()
    progress: list[str] = []
    texts: list[tuple[str, str]] = []
    scenario = DemoScenario(DemoOptions(workdir=tmp_path / "demo", batches=2, run_timeout=120), progress.append)
    with recorder.active(monkeypatch):
        try:
            summary = scenario.run()
            errors = list(provoked_errors(scenario, tmp_path, monkeypatch))
            exit_codes = provoked_cli_failures(scenario, tmp_path, monkeypatch)
            texts += api_texts(scenario)
            texts += reachable_reprs(scenario)
            scanner = collect_secrets(scenario, keys)
        finally:
            scenario.close()
    captured = capfd.readouterr()

    assert summary.ok, summary.problems
    assert summary.purchase is not None and summary.purchase.purchase.cid_verified
    # the scan has something to find: the demo generated data keys, issued sessions, logged at DEBUG
    assert len(keys.generated) >= 4 and len(keys.tokens) >= 3
    assert {"sqlalchemy.engine.Engine", "anacostia_blockchain.node.train"} <= recorder.loggers, sorted(
        recorder.loggers
    )
    assert len(errors) == 15 and exit_codes == [1, 1]
    assert sum(name.startswith("GET /models/") for name, _ in texts) >= 4  # details and quotes of the minted models
    assert not (tmp_path / "dep").exists()  # neither deploy got as far as the chain
    # the walk reached the service's key store and session signer and every sender's signer
    held = {text.split("(", 1)[0] for _, text in texts}
    assert {"KeyStore", "SessionTokens", "LocalSigner", "ServiceConfig", "DevAccount"} <= held, sorted(held)
    assert "wrong password for keystore" in captured.err
    assert "environment variable ANACOSTIA_PRIVATE_KEY: must be hex of whole bytes" in captured.err
    texts += list(recorder.texts())
    texts += [("stdout", captured.out), ("stderr", captured.err), ("progress", "\n".join(progress))]
    texts += [("summary JSON", json.dumps(summary.to_json(), default=str)), ("summary text", summary.render())]
    texts += [(f"provoked error: {what}", exception_text(exc)) for what, exc in errors]
    leaks = scanner.scan(texts)
    assert not leaks, f"{len(leaks)} leaks: {leaks[:20]}"

    private = {label: raw for label, raw in scanner.secrets.items()
               if label.endswith("private key") or "data key" in label or label.startswith("service key")}
    files = [p for p in (tmp_path / "demo").rglob("*") if p.is_file()]
    assert len(files) > 10
    at_rest = SecretScanner(private).scan(
        (str(p.relative_to(tmp_path)), p.read_bytes().decode("latin-1")) for p in files
    )
    raw_hits = [f"{label} raw in {p.name}" for p in files for label, raw in private.items() if raw in p.read_bytes()]
    assert not at_rest and not raw_hits, at_rest + raw_hits
