"""Deployment manifests: where each contract lives on one chain, as a JSON file per chain id.

File ``<dir>/<chainId>.json``::

    {"chainId": 31337,
     "contracts": {"RunRegistry": {"address": "0x..", "txHash": "0x..", "block": 12,
                                   "artifactHash": "0x..", "codeHash": "0x.."}}}

A deployed pipeline or service reads it (:meth:`DeploymentManifest.load`, :meth:`~DeploymentManifest.address`,
:meth:`~DeploymentManifest.contract`); :mod:`anacostia_blockchain.chain.dev.deploy` writes it, atomically after
every deployment (:meth:`~DeploymentManifest.record`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ConfigurationError, DeploymentError
from ..abi.contract import Contract
from ..encoding import checksum

if TYPE_CHECKING:
    from ..rpc.client import ChainClient


@dataclass(frozen=True)
class DeploymentRecord:
    address: str
    tx_hash: str
    block: int
    artifact_hash: str
    code_hash: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "txHash": self.tx_hash,
            "block": self.block,
            "artifactHash": self.artifact_hash,
            "codeHash": self.code_hash,
        }

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> DeploymentRecord:
        try:
            return cls(
                address=checksum(data["address"]),
                tx_hash=str(data["txHash"]),
                block=int(data["block"]),
                artifact_hash=str(data["artifactHash"]),
                code_hash=str(data.get("codeHash", "")),
            )
        except (KeyError, TypeError, ValueError, ConfigurationError) as exc:
            raise DeploymentError(f"manifest entry {name!r} is malformed: {exc}") from exc


class DeploymentManifest:
    """Where each contract lives on one chain."""

    def __init__(self, path: Path, chain_id: int, records: dict[str, DeploymentRecord] | None = None) -> None:
        self.path = path
        self.chain_id = chain_id
        self.records: dict[str, DeploymentRecord] = dict(records or {})

    @classmethod
    def load(cls, path_or_dir: str | Path, chain_id: int) -> DeploymentManifest:
        """``path_or_dir`` is a directory (-> ``<dir>/<chain_id>.json``) or a ``.json`` file. Missing -> empty."""
        path = Path(path_or_dir)
        if path.suffix != ".json":
            path = path / f"{chain_id}.json"
        if not path.exists():
            return cls(path, chain_id)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise DeploymentError(f"deployment manifest {path} is unreadable: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("contracts"), dict):
            raise DeploymentError(f"deployment manifest {path} has no 'contracts' object")
        if data.get("chainId") != chain_id:
            raise DeploymentError(f"deployment manifest {path} is for chain {data.get('chainId')}, not {chain_id}")
        records = {name: DeploymentRecord.from_json(name, entry) for name, entry in data["contracts"].items()}
        return cls(path, chain_id, records)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"chainId": self.chain_id, "contracts": {n: r.to_json() for n, r in sorted(self.records.items())}}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(payload, indent=2) + "\n")
        tmp.replace(self.path)

    def names(self) -> list[str]:
        return sorted(self.records)

    def entry(self, name: str) -> DeploymentRecord:
        record = self.records.get(name)
        if record is None:
            known = ", ".join(self.names()) or "nothing"
            raise DeploymentError(
                f"{name} is not deployed on chain {self.chain_id} according to {self.path} (it lists {known}); "
                "run `anacostia-chain deploy`"
            )
        return record

    def address(self, name: str) -> str:
        return self.entry(name).address

    def contract(self, client: ChainClient, name: str) -> Contract:
        """A handle on the deployed contract (checks the chain id and that code exists)."""
        if client.chain_id != self.chain_id:
            raise DeploymentError(f"manifest is for chain {self.chain_id}, client is on chain {client.chain_id}")
        return Contract.at(client, name, self.address(name))

    def record(self, name: str, record: DeploymentRecord) -> None:
        self.records[name] = record
        self.save()
