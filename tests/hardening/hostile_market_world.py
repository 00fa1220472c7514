"""The service tests' deployed world (``tests/service/service_world.py``) plus models whose metadata or manifest is
hostile, and an app factory wired to the real anvil chain and the embedded IPFS store.

Each hostile model is minted from its own anchored run (ModelNFT allows one token per run), with a token URI that
points at one malformed document (see :data:`HOSTILE_DOCUMENTS`) or at something that is not verifiable IPFS content.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from service_world import PIPELINE_ID, PIPELINE_NAME, RUN_ID, WorldSetup, build_world, sender_for

from anacostia_blockchain.anchoring.manifest import RunManifest
from anacostia_blockchain.chain.contracts.model_nft import ModelNFTClient
from anacostia_blockchain.chain.contracts.run_registry import AnchorRequest, RunRegistryClient
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.ipfs import EmbeddedBlockstore, compute_cid

__all__ = ["HOSTILE_DOCUMENTS", "HOSTILE_URIS", "PIPELINE_NAME", "RUN_ID", "TAMPERED_RUN", "HostileMarket",
           "build_hostile_market", "detail", "run_key"]

#: name -> bytes stored on IPFS and used as a model's metadata document.
HOSTILE_DOCUMENTS: dict[str, bytes] = {
    "not JSON": b"{not json",
    "a JSON array": b"[1, 2, 3]",
    "a JSON string": b'"just a string"',
    "nested 200,000 deep": b"[" * 200_000 + b"]" * 200_000,
    "NaN metric": b'{"name": "nan-model", "metrics": {"accuracy": NaN}}',
    "overflowing metric": b'{"name": "inf-model", "metrics": {"accuracy": 1e400}, "attributes": '
                          b'[{"trait_type": "f1", "value": -Infinity}]}',
    "5,000-digit integer": b'{"name": "big", "metrics": {"accuracy": ' + b"9" * 5000 + b"}}",
    "integer beyond a double": b'{"name": "huge", "metrics": {"accuracy": 1' + b"0" * 400 + b"}}",
    "not UTF-8": b'{"name": "\xff\xfe\xfd"}',
    "over 1 MiB": b'{"name": "padded", "pad": "' + b"x" * (1 << 20) + b'"}',
    "lone surrogate": b'{"name": "\\ud800", "metrics": {"accuracy": 0.5}}',
}
#: name -> token URI that is not verifiable IPFS metadata.
HOSTILE_URIS: dict[str, str] = {
    "https URL": "https://evil.example/metadata.json",
    "ipfs URI with a malformed CID": "ipfs://not-a-cid/metadata.json",
    "CID nobody stores": f"ipfs://{compute_cid(b'never stored anywhere', cid_version=1)}",
}
TAMPERED_RUN = 300
#: Documents that are well-formed JSON objects with odd field types: indexed as verified, no numeric metrics.
ODD_BUT_VALID = b'{"name": {"nested": [1]}, "description": 12, "metrics": "high", "attributes": {"a": 1}}'


@dataclass
class HostileMarket:
    world: WorldSetup
    tokens: dict[str, int]          # case name -> token id
    tampered_token: int             # minted claiming an edited manifest under the genuine anchor root
    tampered_manifest_cid: str
    odd_token: int


def build_hostile_market(devnet: Devnet, ipfs: EmbeddedBlockstore, workdir: Path) -> HostileMarket:
    world = build_world(devnet, ipfs, workdir)
    client = ChainClient(devnet.rpc_url)
    seller = sender_for(client, devnet, 0)
    try:
        registry = RunRegistryClient(client, world.addresses["RunRegistry"], seller)
        nft = ModelNFTClient(client, world.addresses["ModelNFT"], seller)
        uris = {name: f"ipfs://{ipfs.add_bytes(doc, cid_version=1).cid}" for name, doc in HOSTILE_DOCUMENTS.items()}
        uris.update(HOSTILE_URIS)
        uris["odd but valid"] = f"ipfs://{ipfs.add_bytes(ODD_BUT_VALID, cid_version=1).cid}"
        tokens: dict[str, int] = {}
        for offset, (name, uri) in enumerate(sorted(uris.items()), start=100):
            manifest = RunManifest.from_export(PIPELINE_NAME, offset, {"notes": [name]})
            manifest_cid = str(ipfs.add_bytes(manifest.to_bytes(), cid_version=1).cid)
            registry.anchor_run(AnchorRequest(PIPELINE_ID, offset, manifest.root, manifest_cid))
            tokens[name] = nft.mint(seller.signer.address, uri, pipeline_id=PIPELINE_ID, run_id=offset,
                                    anchor_root=manifest.root, manifest_cid=manifest_cid).token_id
        odd = tokens.pop("odd but valid")

        # A token that claims an edited manifest (a better accuracy) under its run's genuine anchored root: the NFT
        # contract only checks the root, so the marketplace must notice the manifest CID is not the anchored one.
        genuine = RunManifest.from_export(PIPELINE_NAME, TAMPERED_RUN, {"metrics": [{"name": "accuracy",
                                                                                     "value": 0.61, "step": 0}]})
        genuine_cid = str(ipfs.add_bytes(genuine.to_bytes(), cid_version=1).cid)
        registry.anchor_run(AnchorRequest(PIPELINE_ID, TAMPERED_RUN, genuine.root, genuine_cid))
        edited = genuine.to_bytes().replace(b"610000000000000000", b"990000000000000000")
        assert edited != genuine.to_bytes()
        tampered_cid = str(ipfs.add_bytes(edited, cid_version=1).cid)
        tampered = nft.mint(seller.signer.address, f"ipfs://{world.metadata_cid}", pipeline_id=PIPELINE_ID,
                            run_id=TAMPERED_RUN, anchor_root=genuine.root, manifest_cid=tampered_cid).token_id
        return HostileMarket(world, tokens, tampered, tampered_cid, odd)
    finally:
        seller.close()


def run_key(run_id: int) -> str:
    return f"0x{PIPELINE_ID.hex()}-{run_id}"


def detail(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())
