"""Where Story Protocol's core contracts live: :class:`StoryAddresses` per network or from a deployment manifest,
and :func:`ip_id_for`, an IP's id computed offline.

An IP's id is its ERC-6551 account: :func:`ip_id_for` computes it with the EIP-6551 CREATE2 derivation (registry,
implementation, salt 0, chain id, token contract, token id) — the same address ``IPAssetRegistry.ipId`` returns,
before or after registration.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import encode as abi_encode
from eth_utils import keccak

from ...errors import ConfigurationError, DeploymentError
from ..contracts.deployments import DeploymentManifest
from ..encoding import checksummed, hex_to_bytes
from .terms import ZERO_ADDRESS

#: The canonical ERC-6551 registry (same address on every EVM chain).
ERC6551_REGISTRY = "0x000000006551c19487814612e58FE06813775758"
#: ERC-1167-style proxy around the implementation address (EIP-6551 reference bytecode).
_PROXY_HEAD = bytes.fromhex("3d60ad80600a3d3981f3363d3d373d3d3d363d73")
_PROXY_TAIL = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")

AENEID_CHAIN_ID = 1315
MAINNET_CHAIN_ID = 1514


@dataclass(frozen=True)
class StoryAddresses:
    """Where Story's core contracts live on one chain."""

    ip_asset_registry: str
    licensing_module: str
    pil_license_template: str
    license_registry: str
    license_token: str
    royalty_module: str
    ip_account_impl: str
    erc6551_registry: str = ERC6551_REGISTRY
    royalty_policy_lap: str = ZERO_ADDRESS
    #: A test currency (Aeneid's MockERC20 / the local MockERC20), ZERO_ADDRESS where there is none.
    test_currency: str = ZERO_ADDRESS
    #: Wrapped IP, Story's native ERC-20 currency.
    wip: str = ZERO_ADDRESS

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _story_v13(test_currency: str) -> StoryAddresses:
    # Source: storyprotocol/protocol-core-v1 deploy-out/deployment-1315.json and deployment-1514.json (identical
    # core addresses on both networks); WIP and MockERC20 from storyprotocol/python-sdk scripts/config.json.
    return StoryAddresses(
        ip_asset_registry="0x77319B4031e6eF1250907aa00018B8B1c67a244b",
        licensing_module="0x04fbd8a2e56dd85CFD5500A4A4DfA955B9f1dE6f",
        pil_license_template="0x2E896b0b2Fdb7457499B56AAaA4AE55BCB4Cd316",
        license_registry="0x529a750E02d8E2f15649c13D69a465286a780e24",
        license_token="0xFe3838BFb30B34170F00030B52eA4893d8aAC6bC",
        royalty_module="0xD2f60c40fEbccf6311f8B47c4f2Ec6b040400086",
        ip_account_impl="0x00b800138e4D82D1eea48b414d2a2A8Aee9A33b1",
        royalty_policy_lap="0xBe54FB168b3c982b7AaE60dB6CF75Bd8447b390E",
        test_currency=test_currency,
        wip="0x1514000000000000000000000000000000000000",
    )


#: Story's published addresses per chain id.
STORY_NETWORKS: dict[int, StoryAddresses] = {
    AENEID_CHAIN_ID: _story_v13(test_currency="0xF2104833d386a2734a4eB3B8ad6FC6812F29E38E"),
    MAINNET_CHAIN_ID: _story_v13(test_currency=ZERO_ADDRESS),
}

#: Deployment-manifest names of the local suite, by :class:`StoryAddresses` field.
MANIFEST_NAMES: dict[str, str] = {
    "ip_asset_registry": "IPAssetRegistry",
    "licensing_module": "LicensingModule",
    "pil_license_template": "PILicenseTemplate",
    "license_registry": "LicenseRegistry",
    "license_token": "LicenseToken",
    "royalty_module": "RoyaltyModule",
    "ip_account_impl": "IPAccountImpl",
    "test_currency": "MockERC20",
}


def addresses_for_chain(chain_id: int) -> StoryAddresses:
    """Story's addresses on a known network (1315 Aeneid, 1514 mainnet)."""
    try:
        return STORY_NETWORKS[chain_id]
    except KeyError:
        known = ", ".join(str(c) for c in sorted(STORY_NETWORKS))
        raise ConfigurationError(
            f"Story Protocol has no published deployment on chain {chain_id} (known: {known});"
            " pass the addresses of a local deployment (addresses_from_manifest)"
        ) from None


def addresses_from_manifest(manifest: DeploymentManifest) -> StoryAddresses:
    """The local suite's addresses from a :class:`DeploymentManifest` (``address(name)`` per contract)."""
    values = {}
    for field_name, contract_name in MANIFEST_NAMES.items():
        try:
            values[field_name] = manifest.address(contract_name)
        except DeploymentError as exc:
            raise DeploymentError(f"the Story suite is not deployed in this manifest: {exc}") from exc
    return StoryAddresses(**values)


def ip_id_for(
    chain_id: int,
    token_contract: str,
    token_id: int,
    *,
    implementation: str = STORY_NETWORKS[AENEID_CHAIN_ID].ip_account_impl,
    registry: str = ERC6551_REGISTRY,
    salt: bytes = b"\x00" * 32,
) -> str:
    """The ipId (ERC-6551 account address) of an NFT, computed offline.

    ``keccak256(0xff ++ registry ++ salt ++ keccak256(initcode))[12:]`` with ``initcode`` the EIP-6551 proxy around
    ``implementation`` followed by ``abi.encode(salt, chainId, tokenContract, tokenId)``. The default implementation
    is Story's IP account implementation (the same on Aeneid, mainnet and the story-compat devnet).
    """
    if len(salt) != 32:
        raise ConfigurationError("the ERC-6551 salt must be 32 bytes")
    footer = abi_encode(["bytes32", "uint256", "address", "uint256"], [salt, chain_id, token_contract, token_id])
    initcode = _PROXY_HEAD + hex_to_bytes(implementation) + _PROXY_TAIL + footer
    digest = keccak(b"\xff" + hex_to_bytes(registry) + salt + keccak(initcode))
    return checksummed("0x" + digest[12:].hex())
