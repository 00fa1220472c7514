"""Signatures of contract accounts (smart-contract wallets such as Safe): EIP-1271, and EIP-6492's wrapped form.

A contract account has no key of its own; it answers whether a signature is valid for it::

    function isValidSignature(bytes32 hash, bytes signature) external view returns (bytes4 magicValue);

and the signature is valid exactly when the answer is ``0x1626ba7e`` (EIP-1271's magic value). :class:`ERC1271Client`
makes that call (an ``eth_call``: the EIP requires the function to be a view) and returns the answer as an
:class:`ERC1271Answer`; a revert raises the decoded :class:`~anacostia_blockchain.errors.ContractRevertError`, an
answer that is not ABI ``bytes4`` raises :class:`~anacostia_blockchain.errors.ChainError`. What is signed is
usually an EIP-191 ``personal_sign`` hash (:func:`personal_message_hash`), as Sign-In with Ethereum does.

EIP-6492 lets a wallet that is not deployed yet sign: the signature is ``abi.encode(factory, factoryCalldata,
innerSignature)`` followed by 32 bytes ``0x6492…6492``. :func:`unwrap_erc6492` splits it; a deployed wallet checks
the inner signature with ``isValidSignature``. Simulating the deployment of a wallet that has no code yet needs a
helper contract executed in an ``eth_call``; this module does not do that (callers refuse such signatures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_account.messages import defunct_hash_message

from ...errors import ValidationError
from ..abi.contract import Contract
from ..encoding import block_tag, checksum, checksummed
from ..recursion_guard import restore_recursion_limit
from ..rpc.client import ChainClient

restore_recursion_limit()  # eth-account imported py_ecc, which raised the interpreter's recursion limit

#: What ``isValidSignature`` answers for a valid signature: ``bytes4(keccak256("isValidSignature(bytes32,bytes)"))``.
ERC1271_MAGIC_VALUE = bytes.fromhex("1626ba7e")
#: The last 32 bytes of an EIP-6492 wrapped signature.
ERC6492_MAGIC_SUFFIX = bytes.fromhex("6492" * 16)

#: The EIP-1271 interface (the only function of it a verifier calls).
IERC1271_ABI: list[dict[str, Any]] = [
    {"type": "function", "name": "isValidSignature", "stateMutability": "view",
     "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
     "outputs": [{"name": "magicValue", "type": "bytes4"}]},
]  # fmt: skip


@dataclass(frozen=True)
class ERC1271Answer:
    """What a contract account answered to ``isValidSignature``: ``valid`` when it is the magic value."""

    account: str
    value: bytes

    @property
    def valid(self) -> bool:
        return self.value == ERC1271_MAGIC_VALUE


@dataclass(frozen=True)
class ERC6492Signature:
    """The parts of an EIP-6492 wrapped signature: how to deploy the wallet, and the signature it checks."""

    factory: str
    factory_calldata: bytes
    signature: bytes


def personal_message_hash(text: str) -> bytes:
    """The EIP-191 (version ``0x45``, ``personal_sign``) hash of ``text``: what a wallet signs for that text."""
    return bytes(defunct_hash_message(text=text))


def unwrap_erc6492(signature: bytes) -> ERC6492Signature | None:
    """The parts of an EIP-6492 wrapped signature, or ``None`` when ``signature`` does not end with the magic suffix;
    :class:`ValidationError` when it does but the rest is not ``abi.encode(address, bytes, bytes)``."""
    if not signature.endswith(ERC6492_MAGIC_SUFFIX):
        return None
    try:
        factory, calldata, inner = abi_decode(["address", "bytes", "bytes"], signature[: -len(ERC6492_MAGIC_SUFFIX)])
    except (DecodingError, ValueError, OverflowError) as exc:
        raise ValidationError("malformed EIP-6492 signature: not abi.encode(address, bytes, bytes) + magic") from exc
    return ERC6492Signature(factory=checksummed(factory), factory_calldata=bytes(calldata), signature=bytes(inner))


class ERC1271Client:
    """Asks contract accounts on one chain whether a signature is theirs (see the module docstring)."""

    def __init__(self, client: ChainClient) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"ERC1271Client({self.client!r})"

    def has_code(self, account: str, block: int | str = "latest") -> bool:
        """Whether ``account`` holds code (a contract account, or an EIP-7702 delegated one) at ``block``."""
        return len(self.client.get_code(checksum(account), block_tag(block))) > 0

    def is_valid_signature(
        self, account: str, digest: bytes, signature: bytes, *, block: int | str = "latest"
    ) -> ERC1271Answer:
        """``account.isValidSignature(digest, signature)`` at ``block``; reverts raise the decoded
        :class:`ContractRevertError`, an answer that is not ABI ``bytes4`` a :class:`ChainError`."""
        if len(digest) != 32:
            raise ValidationError(f"an EIP-1271 hash is 32 bytes, got {len(digest)}")
        wallet = Contract.from_abi(self.client, "IERC1271", IERC1271_ABI, account)
        value = wallet.call("isValidSignature", digest, bytes(signature), block=block)
        return ERC1271Answer(account=wallet.address, value=bytes(value))
