"""``ModelNFTClient``: mint model NFTs and read their provenance (``contracts/ModelNFT.sol``).

A model token links three things a buyer or auditor wants to check independently:

* ``tokenURI`` = ``ipfs://<cid>`` of the ERC-721 metadata JSON (name, description, model card, metrics, params,
  dataset/model CIDs, code fingerprints, anchor root, manifest CID) — content addressed, so the CID is the check;
* on-chain provenance (pipeline id, run id, anchor root, keccak256 of the manifest CID) — the contract refuses an
  anchor root that differs from the one RunRegistry holds for the run, when it was deployed with a registry;
* the ``ModelMinted`` event carrying the manifest CID string.

Writes go through :class:`~anacostia_blockchain.chain.tx.TxSender`; reverts surface as the decoded
:class:`~anacostia_blockchain.errors.CustomContractError` (e.g. ``AccessControlUnauthorizedAccount``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_utils import keccak

from ...errors import ChainError, ConfigurationError
from ..abi.contract import Contract
from ..abi.events import single_event
from ..encoding import checksum
from ..rpc.client import ChainClient

if TYPE_CHECKING:
    from ..tx.sender import TxSender

MINTER_ROLE = keccak(text="MINTER_ROLE")
DEFAULT_ADMIN_ROLE = b"\x00" * 32

#: ERC-165 interface ids the token answers ``supportsInterface`` for.
INTERFACE_IDS: dict[str, bytes] = {
    "ERC165": bytes.fromhex("01ffc9a7"),
    "ERC721": bytes.fromhex("80ac58cd"),
    "ERC721Metadata": bytes.fromhex("5b5e139f"),
    "ERC4906": bytes.fromhex("49064906"),
    "AccessControl": bytes.fromhex("7965db0b"),
}

IPFS_URI_PREFIX = "ipfs://"


@dataclass(frozen=True)
class ModelProvenance:
    """What a token says about the run that produced it."""

    pipeline_id: bytes
    run_id: int
    anchor_root: bytes
    manifest_cid_hash: bytes
    minted_at: int

    def matches_manifest_cid(self, manifest_cid: str) -> bool:
        return keccak(text=manifest_cid) == self.manifest_cid_hash


@dataclass(frozen=True)
class MintedModel:
    token_id: int
    owner: str
    token_uri: str
    manifest_cid: str
    tx_hash: str
    block_number: int
    gas_used: int | None  # None when read back from the event rather than from the mint receipt


def cid_from_token_uri(uri: str) -> str:
    """The CID in an ``ipfs://<cid>[/path]`` token URI (:class:`ConfigurationError` for any other scheme)."""
    if not uri.startswith(IPFS_URI_PREFIX) or len(uri) == len(IPFS_URI_PREFIX):
        raise ConfigurationError(f"token URI {uri!r} is not an ipfs://<cid> URI")
    return uri[len(IPFS_URI_PREFIX):].split("/", 1)[0]


class ModelNFTClient:
    """Typed access to one deployed ModelNFT. ``sender`` may be ``None`` for read-only use."""

    def __init__(self, client: ChainClient, address: str, sender: TxSender | None = None) -> None:
        self.client = client
        self.contract = Contract.at(client, "ModelNFT", address)
        self.sender = sender

    def __repr__(self) -> str:
        return f"ModelNFTClient({self.contract.address})"

    @property
    def address(self) -> str:
        return self.contract.address

    # --- writes ------------------------------------------------------------------------------------------------------
    def mint(
        self,
        to: str,
        token_uri: str,
        *,
        pipeline_id: bytes,
        run_id: int,
        anchor_root: bytes,
        manifest_cid: str,
    ) -> MintedModel:
        """Mint one model token (the sender needs MINTER_ROLE) and return its id from the ``ModelMinted`` event."""
        if len(pipeline_id) != 32 or len(anchor_root) != 32:
            raise ConfigurationError("pipeline_id and anchor_root must be 32 bytes")
        receipt = self._sender().transact(
            self.contract, "mint", checksum(to), token_uri, pipeline_id, run_id, anchor_root, manifest_cid
        )
        event = single_event(self.contract, receipt, "ModelMinted")
        return MintedModel(
            token_id=int(event.args["tokenId"]),
            owner=checksum(event.args["to"]),
            token_uri=token_uri,
            manifest_cid=str(event.args["manifestCid"]),
            tx_hash=str(receipt["transactionHash"]),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
        )

    def grant_minter(self, account: str) -> None:
        self._sender().transact(self.contract, "grantRole", MINTER_ROLE, checksum(account))

    # --- reads -------------------------------------------------------------------------------------------------------
    def provenance(self, token_id: int) -> ModelProvenance:
        pipeline, root, cid_hash, run_id, minted_at = self.contract.call("provenance", token_id)
        return ModelProvenance(bytes(pipeline), int(run_id), bytes(root), bytes(cid_hash), int(minted_at))

    def token_uri(self, token_id: int) -> str:
        return str(self.contract.call("tokenURI", token_id))

    def token_uris(self, reads: Sequence[tuple[int, int | str]]) -> list[str | ChainError]:
        """``tokenURI`` of each ``(token_id, block)`` in one batched request; an item the node refused (e.g. a block
        it keeps no state for) is the :class:`ChainError` it answered."""
        return self.contract.call_many("tokenURI", [((token_id,), block) for token_id, block in reads])

    def metadata_updated(self, from_block: int, to_block: int) -> set[int]:
        """Ids of the tokens whose metadata changed in ``[from_block, to_block]``: one ``eth_getLogs`` for the
        ERC-4906 ``MetadataUpdate`` events (empty when the range is)."""
        if from_block > to_block:
            return set()
        logs = self.contract.events("MetadataUpdate", from_block=from_block, to_block=to_block)
        return {int(log.args["_tokenId"]) for log in logs}

    def owner_of(self, token_id: int) -> str:
        return checksum(self.contract.call("ownerOf", token_id))

    def minted_runs(self, pipeline_id: bytes, from_block: int = 0) -> dict[int, int]:
        """Run id -> token id of every token minted for ``pipeline_id`` (from ``ModelMinted``, indexed by pipeline)."""
        logs = self.contract.events("ModelMinted", from_block=from_block, pipelineId=pipeline_id)
        minted: dict[int, int] = {}
        for log in logs:
            minted.setdefault(int(log.args["runId"]), int(log.args["tokenId"]))
        return minted

    def latest_minted(self, pipeline_id: bytes) -> tuple[int, int] | None:
        """``(run_id, token_id)`` of the newest run of ``pipeline_id`` that has a token (``None`` = none)."""
        minted = self.minted_runs(pipeline_id)
        if not minted:
            return None
        run_id = max(minted)
        return run_id, minted[run_id]

    def token_of_run(self, pipeline_id: bytes, run_id: int) -> int | None:
        """The token minted for a run (the contract allows one), or ``None``."""
        token_id = int(self.contract.call("tokenOfRun", pipeline_id, run_id))
        return token_id or None

    def minted_for_run(self, pipeline_id: bytes, run_id: int, from_block: int = 0) -> MintedModel | None:
        """The token minted for one run, read back from its ``ModelMinted`` event (``None`` when there is none)."""
        token_id = self.token_of_run(pipeline_id, run_id)
        if token_id is None:
            return None
        logs = self.contract.events("ModelMinted", from_block=from_block, tokenId=token_id)
        for log in logs:
            if int(log.args["runId"]) == run_id:
                token_id = int(log.args["tokenId"])
                return MintedModel(
                    token_id=token_id,
                    owner=checksum(log.args["to"]),
                    token_uri=self.token_uri(token_id),
                    manifest_cid=str(log.args["manifestCid"]),
                    tx_hash=log.tx_hash,
                    block_number=log.block_number,
                    gas_used=None,
                )
        return None

    def total_minted(self) -> int:
        return int(self.contract.call("totalMinted"))

    def is_minter(self, account: str) -> bool:
        return bool(self.contract.call("hasRole", MINTER_ROLE, checksum(account)))

    def supports_interface(self, name_or_id: str | bytes) -> bool:
        interface_id = INTERFACE_IDS[name_or_id] if isinstance(name_or_id, str) else name_or_id
        return bool(self.contract.call("supportsInterface", interface_id))

    def _sender(self) -> TxSender:
        if self.sender is None:
            raise ConfigurationError("this ModelNFTClient is read-only: pass a TxSender to send transactions")
        return self.sender
