"""Where Story Protocol's contracts live: :class:`StoryAddresses` per network or from a deployment manifest,
:data:`AENEID_CONTRACTS` (every address Story's SDKs know on Aeneid) and :func:`ip_id_for`, an IP's id computed
offline.

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


#: Story's contract name -> address on Aeneid (chain 1315), as the official SDKs hard-code them (Python
#: ``story-protocol-python-sdk`` 0.3.18 ``scripts/config.json`` and ``utils/constants.py``; TypeScript
#: ``@story-protocol/core-sdk`` 1.4.4 ``src/abi/generated.ts`` and ``src/constants/common.ts``). The SDKs disagree on
#: three implementation addresses (IP account, royalty vault, SPG NFT): both are listed, and the story-compat devnet
#: (:mod:`anacostia_blockchain.chain.dev.story_compat`) places the same code at both.
AENEID_CONTRACTS: dict[str, str] = {
    # core (protocol-core-v1 v1.3)
    "ERC6551Registry": ERC6551_REGISTRY,
    "AccessController": "0xcCF37d0a503Ee1D4C11208672e622ed3DFB2275a",
    "ModuleRegistry": "0x022DBAAeA5D8fB31a0Ad793335e39Ced5D631fa5",
    "IPAssetRegistry": "0x77319B4031e6eF1250907aa00018B8B1c67a244b",
    "IPAccountImplBeaconProxy": "0x00b800138e4D82D1eea48b414d2a2A8Aee9A33b1",
    "IPAccountImpl": "0x7343646585443F1c3F64E4F08b708788527e1C77",
    "IPAccountImpl (Python SDK)": "0xc93d49fEdED1A2fbE3B54223Df65f4edB3845eb0",
    "LicenseRegistry": "0x529a750E02d8E2f15649c13D69a465286a780e24",
    "LicensingModule": "0x04fbd8a2e56dd85CFD5500A4A4DfA955B9f1dE6f",
    "PILicenseTemplate": "0x2E896b0b2Fdb7457499B56AAaA4AE55BCB4Cd316",
    "LicenseToken": "0xFe3838BFb30B34170F00030B52eA4893d8aAC6bC",
    "RoyaltyModule": "0xD2f60c40fEbccf6311f8B47c4f2Ec6b040400086",
    "IpRoyaltyVaultImpl": "0x73e2D097F71e5103824abB6562362106A8955AEc",
    "IpRoyaltyVaultImpl (Python SDK)": "0x63cC7611316880213f3A4Ba9bD72b0EaA2010298",
    "RoyaltyPolicyLAP": "0xBe54FB168b3c982b7AaE60dB6CF75Bd8447b390E",
    "RoyaltyPolicyLRP": "0x9156e603C949481883B1d3355c6f1132D191fC41",
    "CoreMetadataModule": "0x6E81a25C99C6e8430aeC7353325EB138aFE5DC16",
    "CoreMetadataViewModule": "0xB3F88038A983CeA5753E11D144228Ebb5eACdE20",
    # periphery (protocol-periphery-v1 v1.3)
    "RegistrationWorkflows": "0xbe39E1C756e921BD25DF86e7AAa31106d1eb0424",
    "LicenseAttachmentWorkflows": "0xcC2E862bCee5B6036Db0de6E06Ae87e524a79fd8",
    "DerivativeWorkflows": "0x9e2d496f72C547C2C535B167e06ED8729B374a4f",
    "RoyaltyWorkflows": "0x9515faE61E0c0447C6AC6dEe5628A2097aFE1890",
    "RoyaltyTokenDistributionWorkflows": "0xa38f42B8d33809917f23997B8423054aAB97322C",
    "SPGNFTBeacon": "0xD2926B9ecaE85fF59B6FB0ff02f568a680c01218",
    "SPGNFTImpl": "0x5266215a00c31AaA2f2BB7b951Ea0028Ea8b4e37",
    "SPGNFTImpl (Python SDK)": "0xc09e3788Fdfbd3dd8CDaa2aa481B52CcFAb74a42",
    "TotalLicenseTokenLimitHook": "0xaBAD364Bfa41230272b08f171E0Ca939bD600478",
    # tokens and utilities
    "WIP": "0x1514000000000000000000000000000000000000",
    "Multicall3": "0xcA11bde05977b3631167028862bE2a173976CA11",
    "MockERC20": "0xF2104833d386a2734a4eB3B8ad6FC6812F29E38E",
    # not implemented here: the story-compat devnet places StoryUnsupported code that reverts with a clear error
    "DisputeModule": "0x9b7A9c70AFF961C799110954fc06F3093aeb94C5",
    "ArbitrationPolicyUMA": "0xfFD98c3877B8789124f02C7E8239A4b0Ef11E936",
    "GroupingModule": "0x69D3a7aa9edb72Bc226E745A7cCdd50D947b69Ac",
    "GroupingWorkflows": "0xD7c0beb3aa4DCD4723465f1ecAd045676c24CDCd",
    "EvenSplitGroupPool": "0xf96f2c30b41Cb6e0290de43C8528ae83d4f33F89",
}

#: Story contracts the local suite deliberately does not implement (on the story-compat devnet their addresses hold
#: ``StoryUnsupported``, which reverts ``StoryCompat__Unsupported(name, selector)``).
UNSUPPORTED: tuple[str, ...] = (
    "DisputeModule",
    "ArbitrationPolicyUMA",
    "GroupingModule",
    "GroupingWorkflows",
    "EvenSplitGroupPool",
)


def aeneid(name: str) -> str:
    """The Aeneid address of one of Story's contracts (a name of :data:`AENEID_CONTRACTS`)."""
    try:
        return AENEID_CONTRACTS[name]
    except KeyError:
        raise DeploymentError(
            f"no Aeneid address for {name!r} (known: {', '.join(sorted(AENEID_CONTRACTS))})"
        ) from None

#: Deployment-manifest names of the local suite, by :class:`StoryAddresses` field.
MANIFEST_NAMES: dict[str, str] = {
    "ip_asset_registry": "IPAssetRegistry",
    "licensing_module": "LicensingModule",
    "pil_license_template": "PILicenseTemplate",
    "license_registry": "LicenseRegistry",
    "license_token": "LicenseToken",
    "royalty_module": "RoyaltyModule",
    "ip_account_impl": "IPAccountImpl",
    "royalty_policy_lap": "RoyaltyPolicyLAP",
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
