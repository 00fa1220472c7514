"""``LicenseTokenClient``: batched reads of Story's ``LicenseToken`` (who holds a license, for which IP, revoked?).

What a service checks before it releases a model's data key: the caller currently owns a license token whose
licensor is the model's IP and which is not revoked. Each method reads many tokens in one batched JSON-RPC request;
an item the node refused (a token that does not exist reverts) is the decoded :class:`ChainError`, so one bad id does
not hide the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ...errors import ChainError
from ..abi.contract import Contract
from ..rpc.client import ChainClient


@dataclass(frozen=True)
class LicenseTokenState:
    """A license token's licensor IP and whether it was revoked."""

    token_id: int
    licensor_ip_id: str
    revoked: bool

    def licenses(self, ip_id: str) -> bool:
        """True when this token is a valid (not revoked) license of ``ip_id``."""
        return not self.revoked and self.licensor_ip_id.lower() == ip_id.lower()


class LicenseTokenClient:
    """Read-only access to one deployed ``LicenseToken``."""

    def __init__(self, client: ChainClient, address: str) -> None:
        self.client = client
        self.contract = Contract.at(client, "LicenseToken", address)

    def __repr__(self) -> str:
        return f"LicenseTokenClient({self.contract.address})"

    @property
    def address(self) -> str:
        return self.contract.address

    def owners_of(self, token_ids: Sequence[int]) -> list[str | ChainError]:
        """The current owner of each token (one batched request)."""
        return self.contract.call_many("ownerOf", [((token_id,), "latest") for token_id in token_ids])

    def states(self, token_ids: Sequence[int]) -> list[LicenseTokenState | ChainError]:
        """Licensor and revocation of each token, both read in one batched request."""
        if not token_ids:
            return []
        calls = [self.contract.call_request("getLicensorIpId", token_id) for token_id in token_ids]
        calls += [self.contract.call_request("isLicenseTokenRevoked", token_id) for token_id in token_ids]
        replies = self.client.rpc_batch(calls)
        count = len(token_ids)
        states: list[LicenseTokenState | ChainError] = []
        for token_id, licensor, revoked in zip(token_ids, replies[:count], replies[count:], strict=True):
            if isinstance(licensor, ChainError) or isinstance(revoked, ChainError):
                states.append(licensor if isinstance(licensor, ChainError) else revoked)
                continue
            states.append(
                LicenseTokenState(
                    token_id,
                    str(self.contract.decode_reply("getLicensorIpId", 1, licensor)),
                    bool(self.contract.decode_reply("isLicenseTokenRevoked", 1, revoked)),
                )
            )
        return states
