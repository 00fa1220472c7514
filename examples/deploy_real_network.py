"""Deploy anacostia-blockchain's contracts to a real EVM network, reusing the Story Protocol and Chainlink contracts
that already live there.

    export ANACOSTIA_KEYSTORE_PASSWORD=...            # never on the command line (shell history, `ps`)
    python examples/deploy_real_network.py --config network.toml [--json]

``network.toml`` (JSON works too; every value can also come from the environment, and command-line flags win)::

    rpc_url  = "https://aeneid.storyrpc.io"          # ANACOSTIA_RPC_URL
    chain_id = 1315                                  # ANACOSTIA_CHAIN_ID: required, the node must serve it
    keystore = "~/.anacostia/deployer.json"          # ANACOSTIA_KEYSTORE (else the key in ANACOSTIA_PRIVATE_KEY)
    password_env = "ANACOSTIA_KEYSTORE_PASSWORD"     # the variable holding the keystore password
    manifest_dir = "deployments"                     # ANACOSTIA_DEPLOYMENTS: <dir>/<chain id>.json is written

    [story]
    use = "network"      # Story's published addresses for chain_id (Aeneid 1315, mainnet 1514) - or "deploy"
                         # to deploy the local Story-compatible suite, or give the addresses:
    # ip_asset_registry = "0x..."  licensing_module = "0x..."  pil_license_template = "0x..."  (+ the others)

    [chainlink]
    eth_usd_feed = "0x..."   # ANACOSTIA_ETH_USD_FEED: a Chainlink ETH/USD proxy (AggregatorV3Interface)
    heartbeat = 86400        # seconds after which the marketplace refuses the feed's answer as stale
    # mock = true            # no feed on this network: deploy a MockV3Aggregator instead (test networks only)

What it does, in order, stopping with a one-line error (exit 1) at the first problem and before spending gas:

1. connects and checks the chain id (a wrong RPC URL must not receive a mainnet deployment);
2. unlocks the deployer (keystore + password variable, or the key variable); the key is never printed;
3. checks that code exists at every Story address it will use and that the feed answers a fresh, positive price
   (``ChainlinkPriceFeed.latest()``), so the marketplace is never pointed at an empty address;
4. deploys ``RunRegistry``, ``ModelNFT``, ``ModelVersions`` and ``ModelMarketplace`` (plus the mock feed / the local
   Story suite when asked) through the same idempotent ``deploy_all`` as ``anacostia-chain deploy``: a re-run
   reuses what the manifest records and sends nothing;
5. prints what it deployed and which external contracts it targets (text, or JSON with ``--json``).

Tested against anvil with exactly these settings: a devnet of chain 1315 with the Story suite at Aeneid's addresses
(``chain/story_devnet.py``) and a MockV3Aggregator standing in for Chainlink's feed (tests/examples).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from anacostia_blockchain.chain.contracts.price_feed import ChainlinkPriceFeed
from anacostia_blockchain.chain.dev.deploy import DeploymentManifest, DeploymentResult, deploy_all
from anacostia_blockchain.chain.dev.story_devnet import STORY_DEPLOY_PLAN
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story import StoryAddresses, addresses_for_chain
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import DEFAULT_KEY_ENV, LocalSigner
from anacostia_blockchain.errors import AnacostiaError, ConfigurationError

CORE_CONTRACTS = ("RunRegistry", "ModelNFT", "ModelVersions")
MARKETPLACE = "ModelMarketplace"
MOCK_FEED = "MockV3Aggregator"
#: The Story contracts the marketplace and the publishing actions call; each must hold code.
STORY_CONTRACTS_USED = ("ip_asset_registry", "licensing_module", "pil_license_template", "license_registry",
                        "license_token")
#: Where environment variables override the configuration file.
ENVIRONMENT = {
    "rpc_url": "ANACOSTIA_RPC_URL",
    "chain_id": "ANACOSTIA_CHAIN_ID",
    "keystore": "ANACOSTIA_KEYSTORE",
    "manifest_dir": "ANACOSTIA_DEPLOYMENTS",
    "eth_usd_feed": "ANACOSTIA_ETH_USD_FEED",
}


@dataclass(frozen=True)
class NetworkSettings:
    """Everything the deployment needs; :meth:`resolve` merges flags, environment and the configuration file."""

    rpc_url: str
    chain_id: int
    keystore: Path | None = None
    password_env: str = "ANACOSTIA_KEYSTORE_PASSWORD"
    key_env: str = DEFAULT_KEY_ENV
    manifest_dir: Path = Path("deployments")
    story: str | dict[str, str] = "network"
    eth_usd_feed: str | None = None
    heartbeat: int = 3600
    mock_feed: bool = False
    roles: dict[str, str] = field(default_factory=dict)  # anchorer / minter / pricer, default the deployer

    @classmethod
    def resolve(cls, flags: Mapping[str, Any], env: Mapping[str, str], config: Mapping[str, Any]) -> NetworkSettings:
        def pick(name: str, section: Mapping[str, Any] = config, key: str | None = None) -> Any:
            if flags.get(name) is not None:
                return flags[name]
            if name in ENVIRONMENT and env.get(ENVIRONMENT[name]):
                return env[ENVIRONMENT[name]]
            return section.get(key or name)

        story = config.get("story", {})
        chainlink = config.get("chainlink", {})
        if not isinstance(story, dict) or not isinstance(chainlink, dict):
            raise ConfigurationError("[story] and [chainlink] must be tables")
        rpc_url, chain_id = pick("rpc_url"), pick("chain_id")
        if not rpc_url or chain_id is None:
            raise ConfigurationError("set rpc_url and chain_id (flags, ANACOSTIA_RPC_URL / ANACOSTIA_CHAIN_ID, "
                                     "or the configuration file): a real deployment must name its chain")
        story_addresses = {k: str(v) for k, v in story.items() if k != "use"}
        story_mode = story.get("use", "addresses" if story_addresses else "network")
        if story_mode not in ("network", "deploy", "addresses"):
            raise ConfigurationError(f"[story] use must be 'network', 'deploy' or 'addresses', not {story_mode!r}")
        keystore = pick("keystore")
        return cls(
            rpc_url=str(rpc_url),
            chain_id=_integer(chain_id, "chain_id"),
            keystore=Path(keystore).expanduser() if keystore else None,
            password_env=str(config.get("password_env", cls.password_env)),
            key_env=str(config.get("key_env", cls.key_env)),
            manifest_dir=Path(pick("manifest_dir") or cls.manifest_dir).expanduser(),
            story=story_addresses if story_mode == "addresses" else story_mode,
            eth_usd_feed=pick("eth_usd_feed", chainlink),
            heartbeat=_integer(chainlink.get("heartbeat", cls.heartbeat), "chainlink.heartbeat"),
            mock_feed=bool(chainlink.get("mock", False)),
            roles={k: str(v) for k, v in config.get("roles", {}).items()},
        )


def _integer(value: Any, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{what} must be an integer, got {value!r}") from None


def load_config(path: str | None) -> dict[str, Any]:
    """A TOML or JSON configuration file (by extension); ``{}`` without one."""
    if path is None:
        return {}
    file = Path(path).expanduser()
    try:
        text = file.read_text()
    except OSError as exc:
        raise ConfigurationError(f"cannot read configuration {file}: {exc.strerror}") from exc
    try:
        return json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if file.suffix == ".json" else "TOML"
        raise ConfigurationError(f"configuration {file} is not valid {kind}: {exc}") from exc


def load_deployer(settings: NetworkSettings, env: Mapping[str, str]) -> LocalSigner:
    if settings.keystore is not None:
        password = env.get(settings.password_env)
        if password is None:
            raise ConfigurationError(f"the keystore password goes in the environment variable {settings.password_env}")
        return LocalSigner.from_keystore(settings.keystore, password)
    if not env.get(settings.key_env):
        raise ConfigurationError(f"set keystore (+ {settings.password_env}) or {settings.key_env}")
    return LocalSigner.from_key(env[settings.key_env])


def story_addresses(settings: NetworkSettings) -> StoryAddresses | None:
    """The Story contracts to target; ``None`` when the local suite is deployed with the rest."""
    if settings.story == "deploy":
        return None
    if settings.story == "network":
        return addresses_for_chain(settings.chain_id)
    assert isinstance(settings.story, dict)
    known = {f.name: f for f in fields(StoryAddresses)}
    unknown = sorted(set(settings.story) - set(known))
    missing = [name for name, f in known.items() if f.default is MISSING and name not in settings.story]
    if unknown or missing:
        raise ConfigurationError(
            "[story] addresses: " + "; ".join(
                part for part in (f"missing {', '.join(missing)}" if missing else "",
                                  f"unknown {', '.join(unknown)}" if unknown else "") if part)
        )
    return StoryAddresses(**settings.story)


@dataclass
class DeploymentReport:
    chain_id: int
    deployer: str
    manifest: Path
    results: list[DeploymentResult]
    story: dict[str, str]
    feed: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "deployer": self.deployer,
            "manifest": str(self.manifest),
            "contracts": {r.name: {"status": r.status, "address": r.address} for r in self.results},
            "story": self.story,
            "ethUsdFeed": self.feed,
        }

    def to_text(self) -> str:
        lines = [f"deployer {self.deployer} on chain {self.chain_id}", *map(str, self.results)]
        lines.append(f"Story ({self.story['source']}): IPAssetRegistry {self.story['ip_asset_registry']}, "
                     f"LicensingModule {self.story['licensing_module']}")
        lines.append(f"ETH/USD feed ({self.feed['source']}): {self.feed['address']}"
                     + (f" = {self.feed['price']} USD" if self.feed.get("price") else ""))
        lines.append(f"manifest: {self.manifest}")
        return "\n".join(lines)


def deploy(settings: NetworkSettings, env: Mapping[str, str]) -> DeploymentReport:
    """Steps 1-4 of the module docstring."""
    client = ChainClient(settings.rpc_url, expected_chain_id=settings.chain_id)
    signer = load_deployer(settings, env)
    story = story_addresses(settings)
    if story is not None:
        for name in STORY_CONTRACTS_USED:
            client.require_code(getattr(story, name), f"Story {name}")
    feed_info: dict[str, Any]
    if settings.eth_usd_feed:
        reading = ChainlinkPriceFeed(client, settings.eth_usd_feed, heartbeat=settings.heartbeat).latest()
        feed_info = {"source": "configured", "address": client.require_code(settings.eth_usd_feed),
                     "price": format(reading.price.normalize(), "f"), "updatedAt": reading.updated_at}
    elif settings.mock_feed:
        feed_info = {"source": "deployed mock"}
    else:
        raise ConfigurationError("set chainlink.eth_usd_feed (ANACOSTIA_ETH_USD_FEED) to a Chainlink ETH/USD proxy, "
                                 "or chainlink.mock = true on a test network")
    plan = [*CORE_CONTRACTS]
    if not settings.eth_usd_feed:
        plan.append(MOCK_FEED)
    if story is None:
        plan.extend(entry.name for entry in STORY_DEPLOY_PLAN)
    plan.append(MARKETPLACE)
    deploy_settings: dict[str, Any] = {"eth_usd_heartbeat": settings.heartbeat, **settings.roles}
    if settings.eth_usd_feed:
        deploy_settings["eth_usd_feed"] = feed_info["address"]
    if story is not None:
        deploy_settings["story_addresses"] = story
    manifest = DeploymentManifest.load(settings.manifest_dir, client.chain_id)
    with TxSender(client, signer) as sender:
        results = deploy_all(sender, manifest, only=plan, settings=deploy_settings)
    by_name = {r.name: r.address for r in results}
    if not settings.eth_usd_feed:
        feed_info["address"] = by_name[MOCK_FEED]
    market = next(r.contract for r in results if r.name == MARKETPLACE)
    story_info = {"source": "configured" if story is not None else "deployed",
                  "ip_asset_registry": market.call("ipAssetRegistry"),
                  "licensing_module": market.call("licensingModule"),
                  "pil_license_template": market.call("licenseTemplate")}
    return DeploymentReport(client.chain_id, signer.address, manifest.path, results, story_info, feed_info)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Deploy to a real EVM network, targeting its Story/Chainlink "
                                                 "contracts (see the module docstring for the configuration).")
    parser.add_argument("--config", default=os.environ.get("ANACOSTIA_NETWORK_CONFIG"),
                        help="TOML or JSON configuration ($ANACOSTIA_NETWORK_CONFIG)")
    parser.add_argument("--rpc-url", dest="rpc_url")
    parser.add_argument("--chain-id", dest="chain_id", type=int)
    parser.add_argument("--keystore")
    parser.add_argument("--manifest-dir", dest="manifest_dir")
    parser.add_argument("--eth-usd-feed", dest="eth_usd_feed")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = os.environ if env is None else env
    try:
        settings = NetworkSettings.resolve(vars(args), env, load_config(args.config))
        report = deploy(settings, env)
    except AnacostiaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report.to_json(), indent=2) if args.json else report.to_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
