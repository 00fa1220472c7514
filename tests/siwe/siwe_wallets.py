"""Contract accounts deployed for a SIWE test: what the ``wallets`` fixture hands out."""

from __future__ import annotations

from dataclasses import dataclass

from anacostia_blockchain.chain import ChainClient, Contract, DevAccount, TxSender
from anacostia_blockchain.chain.abi import ContractArtifact
from anacostia_blockchain.chain.tx import sign_personal_message


@dataclass
class Wallets:
    """A chain with contract accounts on it: ``safe`` (owners[0] alone), ``multisig`` (2 of owners[0..2])."""

    client: ChainClient
    sender: TxSender
    artifacts: dict[str, ContractArtifact]
    owners: list[DevAccount]
    safe: Contract
    multisig: Contract

    def deploy(self, name: str, *args: object) -> Contract:
        return self.sender.deploy(self.artifacts[name], *args)

    def sign(self, text: str, *signers: DevAccount) -> str:
        """What a Safe-like wallet's owners send: their EIP-191 signatures, in ascending order of address."""
        ordered = sorted(signers, key=lambda owner: int(owner.address, 16))
        return "0x" + "".join(sign_personal_message(owner.private_key, text)[2:] for owner in ordered)
