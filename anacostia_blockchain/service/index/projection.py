"""How chain events become index rows: which entity an event belongs to, and what it changes.

The projection is deliberately a set of pure functions over plain dicts. The indexer uses the same code for two jobs:
applying a fresh batch of events on top of the rows already stored, and — after a reorg — rebuilding an entity from
scratch by replaying its surviving events. Because both paths share :func:`apply_event`, a rebuilt row is exactly
what live indexing would have produced.

Entities: ``("model", token_id)`` for everything about one ModelNFT token (mint, owner, metadata URI, Story IP id,
license terms, listing, purchases, licenses minted, version/stage) and ``("run", "<pipelineId>-<runId>")`` for a
RunRegistry anchor. Events keyed by something else (an IP id, a model family/version) are resolved to their token at
ingest time and stored with that entity, so replay needs no lookups.

Subclasses of :class:`~anacostia_blockchain.service.index.Indexer` can index more events by overriding
``resolve_entity`` / ``apply_event`` hooks there and delegating to these functions for the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...chain.abi import EventLog

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
USD_UNITS = 10**18

#: The (contract, event) pairs the marketplace index follows.
FOLLOWED_EVENTS: frozenset[tuple[str, str]] = frozenset(
    {
        ("ModelNFT", "ModelMinted"),
        ("ModelNFT", "Transfer"),
        ("ModelNFT", "MetadataUpdate"),
        ("ModelMarketplace", "Listed"),
        ("ModelMarketplace", "PriceUpdated"),
        ("ModelMarketplace", "Delisted"),
        ("ModelMarketplace", "Purchased"),
        ("IPAssetRegistry", "IPRegistered"),
        ("LicensingModule", "LicenseTermsAttached"),
        ("LicensingModule", "LicenseTokensMinted"),
        ("ModelVersions", "VersionAdded"),
        ("ModelVersions", "StageChanged"),
        ("RunRegistry", "RunAnchored"),
    }
)


def run_key(pipeline_id: str, run_id: int) -> str:
    return f"{pipeline_id.lower()}-{int(run_id)}"


@dataclass
class EntityLookups:
    """Resolves IP ids and (family, version) pairs to token ids; filled from the DB and from the current batch."""

    ip_to_token: dict[str, int] = field(default_factory=dict)
    version_to_token: dict[tuple[int, int], int] = field(default_factory=dict)
    fetch_ip: Callable[[str], int | None] = lambda _ip: None
    fetch_version: Callable[[int, int], int | None] = lambda _f, _v: None

    def token_for_ip(self, ip_id: str) -> int | None:
        key = ip_id.lower()
        if key not in self.ip_to_token:
            found = self.fetch_ip(ip_id)
            if found is None:
                return None
            self.ip_to_token[key] = found
        return self.ip_to_token[key]

    def token_for_version(self, family_id: int, version: int) -> int | None:
        key = (family_id, version)
        if key not in self.version_to_token:
            found = self.fetch_version(family_id, version)
            if found is None:
                return None
            self.version_to_token[key] = found
        return self.version_to_token[key]


def resolve_entity(
    event: EventLog, lookups: EntityLookups, nft_address: str | None
) -> tuple[str, str] | None:
    """``(kind, id)`` of the entity an event belongs to, or ``None`` when the index ignores it."""
    if (event.contract, event.name) not in FOLLOWED_EVENTS:
        return None
    args = event.args
    if event.contract == "RunRegistry":
        return ("run", run_key(args["pipelineId"], args["runId"]))
    if event.contract == "ModelNFT":
        token = args["tokenId"] if "tokenId" in args else args["_tokenId"]
        return ("model", str(int(token)))
    if event.contract == "ModelMarketplace":
        return ("model", str(int(args["tokenId"])))
    if event.contract == "IPAssetRegistry":
        if nft_address is None or str(args["tokenContract"]).lower() != nft_address.lower():
            return None  # an IP of some other NFT collection
        lookups.ip_to_token[str(args["ipId"]).lower()] = int(args["tokenId"])
        return ("model", str(int(args["tokenId"])))
    if event.contract == "LicensingModule":
        ip_id = args["ipId"] if event.name == "LicenseTermsAttached" else args["licensorIpId"]
        token = lookups.token_for_ip(str(ip_id))
        return None if token is None else ("model", str(token))
    if event.contract == "ModelVersions":
        family, version = int(args["familyId"]), int(args["version"])
        if event.name == "VersionAdded":
            lookups.version_to_token[(family, version)] = int(args["tokenId"])
            return ("model", str(int(args["tokenId"])))
        token = lookups.token_for_version(family, version)
        return None if token is None else ("model", str(token))
    return None


def new_model_state(token_id: int) -> dict[str, Any]:
    return {
        "token_id": token_id,
        "owner": None,
        "minter": None,
        "pipeline_id": None,
        "run_id": None,
        "anchor_root": None,
        "manifest_cid": None,
        "token_uri": None,
        "metadata_cid": None,
        "ip_id": None,
        "license_template": None,
        "license_terms_ids": "[]",
        "listed": False,
        "seller": None,
        "listing_terms_id": None,
        "price_usd_units": None,
        "price_usd": None,
        "sales": 0,
        "family_id": None,
        "version": None,
        "stage": None,
        "minted_block": None,
        "minted_tx": None,
        "updated_block": 0,
    }


def metadata_cid_of(token_uri: str | None) -> str | None:
    """The CID in an ``ipfs://CID[/path]`` token URI (the part the index can verify), else ``None``."""
    if not token_uri or not token_uri.startswith("ipfs://"):
        return None
    rest = token_uri[len("ipfs://") :]
    rest = rest[len("ipfs/") :] if rest.startswith("ipfs/") else rest
    return rest.split("/", 1)[0] or None


def _set_price(state: dict[str, Any], units: int) -> None:
    state["price_usd_units"] = str(units)
    state["price_usd"] = units / USD_UNITS


@dataclass
class ProjectionOutput:
    """Rows produced besides entity state: purchases and license mints (append-only per event)."""

    purchases: list[dict[str, Any]] = field(default_factory=list)
    licenses: list[dict[str, Any]] = field(default_factory=list)


def apply_model_event(state: dict[str, Any], event: EventLog, out: ProjectionOutput) -> None:
    """Fold one event into a model's state (see the module docstring)."""
    args = event.args
    name = event.name
    if name == "ModelMinted":
        state.update(
            minter=args["to"],
            owner=state["owner"] or args["to"],
            pipeline_id=args["pipelineId"],
            run_id=int(args["runId"]),
            anchor_root=args["anchorRoot"],
            manifest_cid=args["manifestCid"],
            minted_block=event.block_number,
            minted_tx=event.tx_hash,
        )
    elif name == "Transfer":
        state["owner"] = args["to"]
    elif name == "MetadataUpdate":
        uri = args.get("tokenURI")
        if uri is not None:
            state["token_uri"] = uri
            state["metadata_cid"] = metadata_cid_of(uri)
    elif name == "Listed":
        state.update(listed=True, seller=args["seller"], listing_terms_id=str(args["licenseTermsId"]))
        if args["ipId"] != ZERO_ADDRESS:
            state["ip_id"] = args["ipId"]
        _set_price(state, int(args["priceUsd"]))
    elif name == "PriceUpdated":
        _set_price(state, int(args["newPriceUsd"]))
    elif name == "Delisted":
        state["listed"] = False
    elif name == "Purchased":
        state["sales"] += 1
        out.purchases.append(
            {
                "tx_hash": event.tx_hash,
                "log_index": event.log_index,
                "token_id": state["token_id"],
                "buyer": args["buyer"],
                "seller": args["seller"],
                "price_usd_units": str(args["priceUsd"]),
                "paid_wei": str(args["paidWei"]),
                "license_token_id": str(args["licenseTokenId"]),
                "block_number": event.block_number,
            }
        )
    elif name == "IPRegistered":
        state["ip_id"] = args["ipId"]
    elif name == "LicenseTermsAttached":
        terms = json.loads(state["license_terms_ids"])
        if str(args["licenseTermsId"]) not in terms:
            terms.append(str(args["licenseTermsId"]))
        state["license_terms_ids"] = json.dumps(terms)
        state["license_template"] = args["licenseTemplate"]
    elif name == "LicenseTokensMinted":
        out.licenses.append(
            {
                "tx_hash": event.tx_hash,
                "log_index": event.log_index,
                "token_id": state["token_id"],
                "licensor_ip_id": args["licensorIpId"],
                "license_terms_id": str(args["licenseTermsId"]),
                "receiver": args["receiver"],
                "amount": str(args["amount"]),
                "start_license_token_id": str(args["startLicenseTokenId"]),
                "block_number": event.block_number,
            }
        )
    elif name == "VersionAdded":
        state.update(family_id=int(args["familyId"]), version=int(args["version"]))
    elif name == "StageChanged":
        state["stage"] = args["newStage"]
    state["updated_block"] = max(state["updated_block"], event.block_number)


def run_state(event: EventLog) -> dict[str, Any]:
    args = event.args
    return {
        "key": run_key(args["pipelineId"], args["runId"]),
        "pipeline_id": str(args["pipelineId"]).lower(),
        "run_id": int(args["runId"]),
        "merkle_root": args["merkleRoot"],
        "manifest_cid": args["manifestCid"],
        "block_number": event.block_number,
        "tx_hash": event.tx_hash,
    }


def model_row_complete(state: dict[str, Any]) -> bool:
    """A model row is written only once its ``ModelMinted`` event has been seen."""
    return state["minted_block"] is not None and state["owner"] is not None
