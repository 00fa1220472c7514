"""The access review of the Story suite: every state-changing function of its contracts is either GUARDED (the call a
stranger makes and the custom error it must revert with) or OPEN (anyone may call it by design, with the reason).

``tests/hardening/test_hostile_contract_access.py`` counts these entries as reviewed (a new entry point cannot ship
unreviewed); ``test_story_access.py`` makes every GUARDED call as a stranger on the story-compat devnet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

ADMIN = b"\x00" * 32
MINTER = b"\x00" * 31 + b"\x01"  # SPGNFT's MINTER_ROLE (Story: bytes32(uint256(1)))
LICENSING = keccak(text="LICENSING_MODULE_ROLE")
ZERO = "0x" + "00" * 20
PIL_TERMS = (
    "(bool,address,uint256,uint256,bool,bool,address,bytes,uint32,uint256,bool,bool,bool,bool,uint256,address,string)"
)
CONFIG = "(bool,uint256,address,bytes,uint32,bool,uint32,address)"
META = "(string,bytes32,string,bytes32)"
SIG = "(address,uint256,bytes)"
DERIV = "(address[],address,uint256[],bytes,uint256,uint32,uint32)"
TERMS_DATA = f"({PIL_TERMS},{CONFIG})[]"


@dataclass(frozen=True)
class Attempt:
    """A stranger's call (arguments from the world) and the custom error (name, args) it must revert with."""

    call: Callable[[Any], tuple[Any, ...]]
    error: str
    error_args: Callable[[Any], tuple[Any, ...]] = lambda w: ()


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def _denied(module: str, signature: str, call: Callable[[Any], tuple[Any, ...]]) -> Attempt:
    """A module call gated by the AccessController: the stranger is neither the IP nor allowed by its owner."""
    return Attempt(call, "AccessController__PermissionDenied",
                   lambda w: (w.ip_id, w.stranger, w.address(module), _selector(signature)))  # fmt: skip


def _no_role(role: bytes) -> Callable[[Any], tuple[Any, ...]]:
    return lambda w: (w.stranger, role)


def _role_admin(contract: str, role: bytes) -> dict[tuple[str, str], Attempt]:
    return {
        (contract, "grantRole(bytes32,address)"): Attempt(lambda w: (role, w.stranger),
                                                          "AccessControlUnauthorizedAccount", _no_role(ADMIN)),
        (contract, "revokeRole(bytes32,address)"): Attempt(lambda w: (role, w.operator),
                                                           "AccessControlUnauthorizedAccount", _no_role(ADMIN)),
        (contract, "renounceRole(bytes32,address)"): Attempt(lambda w: (role, w.operator),
                                                             "AccessControlBadConfirmation"),
    }  # fmt: skip


def _erc721(contract: str, token: Callable[[Any], int], holder: Callable[[Any], str]) -> dict[tuple[str, str], Attempt]:
    steal = Attempt(lambda w: (holder(w), w.stranger, token(w)), "ERC721InsufficientApproval",
                    lambda w: (w.stranger, token(w)))  # fmt: skip
    return {
        (contract, "approve(address,uint256)"): Attempt(lambda w: (w.stranger, token(w)), "ERC721InvalidApprover",
                                                        lambda w: (w.stranger,)),
        (contract, "transferFrom(address,address,uint256)"): steal,
        (contract, "safeTransferFrom(address,address,uint256)"): steal,
        (contract, "safeTransferFrom(address,address,uint256,bytes)"): Attempt(
            lambda w: (holder(w), w.stranger, token(w), b""), "ERC721InsufficientApproval",
            lambda w: (w.stranger, token(w))),
    }  # fmt: skip


def _not_deployer(*args: Callable[[Any], Any]) -> Attempt:
    return Attempt(lambda w: tuple(a(w) for a in args), "StoryDeployable__NotDeployer", lambda w: (w.stranger,))


def _not_signer() -> Callable[[Any], tuple[Any, ...]]:
    return lambda w: (w.stranger, w.owner)


def _mint_denied(call: Callable[[Any], tuple[Any, ...]]) -> Attempt:
    return Attempt(call, "Workflow__CallerNotAuthorizedToMint")


def _not_ip_or_owner(call: Callable[[Any], tuple[Any, ...]]) -> Attempt:
    return Attempt(call, "AccessController__CallerIsNotIPAccountOrOwner")


_SET_ALL = "setAll(address,string,bytes32,bytes32)"
_PERMISSION = lambda w: (w.ip_id, w.stranger, w.address("CoreMetadataModule"), _selector(_SET_ALL), 1)  # noqa: E731
_META = lambda w: ("ipfs://x", b"\x01" * 32, "", b"\x00" * 32)  # noqa: E731
_OWNER_SIG = lambda w: (w.owner, 2**40, b"\x00" * 65)  # noqa: E731
_TERMS_DATA = lambda w: [(w.terms_tuple, w.config_tuple)]  # noqa: E731
_DERIV = lambda w: ([w.ip_id], w.address("PILicenseTemplate"), [w.terms_id], b"", 0, 0, 0)  # noqa: E731
_ATTACH = "attachLicenseTerms(address,address,uint256)"
_CALLDATA = lambda w: w.licensing_calldata  # noqa: E731

STORY_GUARDED: dict[tuple[str, str], Attempt] = {
    # --- AccessController: only the IP account or its owner sets permissions -------------------------------------
    ("AccessController", "initialize(address,address)"): _not_deployer(lambda w: w.stranger, lambda w: w.stranger),
    ("AccessController", "setPermission(address,address,address,bytes4,uint8)"): _not_ip_or_owner(_PERMISSION),
    ("AccessController", "setTransientPermission(address,address,address,bytes4,uint8)"): _not_ip_or_owner(_PERMISSION),
    ("AccessController", "setBatchPermissions((address,address,address,bytes4,uint8)[])"): _not_ip_or_owner(
        lambda w: ([_PERMISSION(w)],)),
    ("AccessController", "setBatchTransientPermissions((address,address,address,bytes4,uint8)[])"): _not_ip_or_owner(
        lambda w: ([_PERMISSION(w)],)),
    ("AccessController", "setAllPermissions(address,address,uint8)"): _not_ip_or_owner(
        lambda w: (w.ip_id, w.stranger, 1)),
    ("AccessController", "setAllTransientPermissions(address,address,uint8)"): _not_ip_or_owner(
        lambda w: (w.ip_id, w.stranger, 1)),
    # --- IP accounts act only for the NFT holder; their storage takes writes from registered modules only ---------
    ("IPAccountImpl", "execute(address,uint256,bytes)"): _denied(
        "LicensingModule", _ATTACH, lambda w: (w.address("LicensingModule"), 0, _CALLDATA(w))),
    ("IPAccountImpl", "execute(address,uint256,bytes,uint8)"): _denied(
        "LicensingModule", _ATTACH, lambda w: (w.address("LicensingModule"), 0, _CALLDATA(w), 0)),
    ("IPAccountImpl", "executeBatch((address,uint256,bytes)[],uint8)"): _denied(
        "LicensingModule", _ATTACH, lambda w: ([(w.address("LicensingModule"), 0, _CALLDATA(w))], 0)),
    ("IPAccountImpl", "executeWithSig(address,uint256,bytes,address,uint256,bytes)"): Attempt(
        lambda w: (w.address("LicensingModule"), 0, _CALLDATA(w), w.owner, 2**40, w.stranger_signature()),
        "IPAccount__InvalidSignature"),
    ("IPAccountImpl", "setBytes(bytes32,bytes)"): Attempt(
        lambda w: (b"\x01" * 32, b"x"), "IPAccountStorage__NotRegisteredModule", lambda w: (w.stranger,)),
    ("IPAccountImpl", "setBytes32(bytes32,bytes32)"): Attempt(
        lambda w: (b"\x01" * 32, b"\x02" * 32), "IPAccountStorage__NotRegisteredModule", lambda w: (w.stranger,)),
    ("IPAccountImpl", "setBytesBatch(bytes32[],bytes[])"): Attempt(
        lambda w: ([b"\x01" * 32], [b"x"]), "IPAccountStorage__NotRegisteredModule", lambda w: (w.stranger,)),
    ("IPAccountImpl", "setBytes32Batch(bytes32[],bytes32[])"): Attempt(
        lambda w: ([b"\x01" * 32], [b"\x02" * 32]), "IPAccountStorage__NotRegisteredModule", lambda w: (w.stranger,)),
    # --- modules gated by the AccessController -----------------------------------------------------------------------
    ("CoreMetadataModule", "setAll(address,string,bytes32,bytes32)"): _denied(
        "CoreMetadataModule", "setAll(address,string,bytes32,bytes32)",
        lambda w: (w.ip_id, "ipfs://x", b"\x01" * 32, b"\x00" * 32)),
    ("CoreMetadataModule", "setMetadataURI(address,string,bytes32)"): _denied(
        "CoreMetadataModule", "setMetadataURI(address,string,bytes32)", lambda w: (w.ip_id, "ipfs://x", b"\x01" * 32)),
    ("CoreMetadataModule", "updateNftTokenURI(address,bytes32)"): _denied(
        "CoreMetadataModule", "updateNftTokenURI(address,bytes32)", lambda w: (w.ip_id, b"\x01" * 32)),
    ("CoreMetadataModule", "freezeMetadata(address)"): _denied(
        "CoreMetadataModule", "freezeMetadata(address)", lambda w: (w.ip_id,)),
    ("LicensingModule", _ATTACH): _denied(
        "LicensingModule", _ATTACH, lambda w: (w.ip_id, w.address("PILicenseTemplate"), w.terms_id)),
    ("LicensingModule", "attachDefaultLicenseTerms(address)"): _denied(
        "LicensingModule", "attachDefaultLicenseTerms(address)", lambda w: (w.ip_id,)),
    ("LicensingModule", f"setLicensingConfig(address,address,uint256,{CONFIG})"): _denied(
        "LicensingModule", f"setLicensingConfig(address,address,uint256,{CONFIG})",
        lambda w: (w.ip_id, w.address("PILicenseTemplate"), w.terms_id, w.config_tuple)),
    ("LicensingModule", "registerDerivative(address,address[],uint256[],address,bytes,uint256,uint32,uint32)"): _denied(
        "LicensingModule", "registerDerivative(address,address[],uint256[],address,bytes,uint256,uint32,uint32)",
        lambda w: (w.ip_id, [w.stranger], [w.terms_id], w.address("PILicenseTemplate"), b"", 0, 0, 0)),
    ("LicensingModule", "registerDerivativeWithLicenseTokens(address,uint256[],bytes,uint32)"): _denied(
        "LicensingModule", "registerDerivativeWithLicenseTokens(address,uint256[],bytes,uint32)",
        lambda w: (w.ip_id, [w.license_token], b"", 0)),
    ("TotalLicenseTokenLimitHook", "setTotalLicenseTokenLimit(address,address,uint256,uint256)"): _denied(
        "TotalLicenseTokenLimitHook", "setTotalLicenseTokenLimit(address,address,uint256,uint256)",
        lambda w: (w.ip_id, w.address("PILicenseTemplate"), w.terms_id, 1)),
    ("TotalLicenseTokenLimitHook", "beforeMintLicenseTokens(address,address,address,uint256,uint256,address,bytes)"):
        Attempt(lambda w: (w.stranger, w.ip_id, w.address("PILicenseTemplate"), w.terms_id, 1, w.stranger, b""),
                "TotalLicenseTokenLimitHook_NotLicensingModule", lambda w: (w.stranger,)),
    ("TotalLicenseTokenLimitHook", "beforeRegisterDerivative(address,address,address,address,uint256,bytes)"):
        Attempt(lambda w: (w.stranger, w.stranger, w.ip_id, w.address("PILicenseTemplate"), w.terms_id, b""),
                "TotalLicenseTokenLimitHook_NotLicensingModule", lambda w: (w.stranger,)),
    ("PILicenseTemplate", "setApproval(address,uint256,address,bool)"): Attempt(
        lambda w: (w.ip_id, w.terms_id, w.stranger, True),
        "AccessController__BothCallerAndRecipientAreNotRegisteredModule",
        lambda w: (w.stranger, w.address("PILicenseTemplate"))),
    # --- registries and tokens: the licensing module's role, the admin's role, the deployer's initialization -------
    ("LicenseRegistry", "initialize(address,address,address,address,uint256)"): _not_deployer(
        *(lambda w: w.stranger,) * 4, lambda w: 1),
    ("LicenseRegistry", "attachLicenseTermsToIp(address,address,uint256)"): Attempt(
        lambda w: (w.ip_id, w.address("PILicenseTemplate"), w.terms_id), "AccessControlUnauthorizedAccount",
        _no_role(LICENSING)),
    ("LicenseRegistry", "registerDerivativeIp(address,address[],address,uint256[],bool)"): Attempt(
        lambda w: (w.stranger, [w.ip_id], w.address("PILicenseTemplate"), [w.terms_id], False),
        "AccessControlUnauthorizedAccount", _no_role(LICENSING)),
    ("LicenseRegistry", "initializeLicenseTemplate(address,address)"): Attempt(
        lambda w: (w.ip_id, w.address("PILicenseTemplate")), "AccessControlUnauthorizedAccount", _no_role(LICENSING)),
    ("LicenseRegistry", f"setLicensingConfigForLicense(address,address,uint256,{CONFIG})"): Attempt(
        lambda w: (w.ip_id, w.address("PILicenseTemplate"), w.terms_id, w.config_tuple),
        "AccessControlUnauthorizedAccount", _no_role(LICENSING)),
    ("LicenseRegistry", "registerLicenseTemplate(address)"): Attempt(
        lambda w: (w.stranger,), "AccessControlUnauthorizedAccount", _no_role(ADMIN)),
    ("LicenseRegistry", "setDefaultLicenseTerms(address,uint256)"): Attempt(
        lambda w: (w.address("PILicenseTemplate"), w.terms_id), "AccessControlUnauthorizedAccount", _no_role(ADMIN)),
    **_role_admin("LicenseRegistry", LICENSING),
    ("LicenseToken", "initialize(address,address)"): _not_deployer(lambda w: w.stranger, lambda w: w.stranger),
    ("LicenseToken", "mintLicenseTokens(address,address,uint256,uint256,address,address,uint32)"): Attempt(
        lambda w: (w.ip_id, w.address("PILicenseTemplate"), w.terms_id, 1, w.stranger, w.stranger, 0),
        "AccessControlUnauthorizedAccount", _no_role(LICENSING)),
    ("LicenseToken", "burnLicenseTokens(address,uint256[])"): Attempt(
        lambda w: (w.buyer, [w.license_token]), "AccessControlUnauthorizedAccount", _no_role(LICENSING)),
    **_role_admin("LicenseToken", LICENSING),
    **_erc721("LicenseToken", lambda w: w.license_token, lambda w: w.buyer),
    ("ModuleRegistry", "initialize(address,string[],address[])"): _not_deployer(
        lambda w: w.stranger, lambda w: [], lambda w: []),
    ("ModuleRegistry", "registerModule(string,address)"): Attempt(
        lambda w: ("STRANGER", w.address("WIP")), "AccessControlUnauthorizedAccount", _no_role(ADMIN)),
    ("ModuleRegistry", "registerModule(string,address,string)"): Attempt(
        lambda w: ("STRANGER", w.address("WIP"), "HOOK"), "AccessControlUnauthorizedAccount", _no_role(ADMIN)),
    ("ModuleRegistry", "removeModule(string)"): Attempt(
        lambda w: ("LICENSING_MODULE",), "AccessControlUnauthorizedAccount", _no_role(ADMIN)),
    **_role_admin("ModuleRegistry", ADMIN),
    # --- royalties -------------------------------------------------------------------------------------------------
    ("RoyaltyModule", "initialize(address,address,address,address[],address[])"): _not_deployer(
        lambda w: w.stranger, lambda w: w.stranger, lambda w: w.stranger, lambda w: [], lambda w: []),
    ("RoyaltyModule", "onLicenseMinting(address,address,uint32,bytes)"): Attempt(
        lambda w: (w.ip_id, w.address("RoyaltyPolicyLAP"), 1, b""), "AccessControlUnauthorizedAccount",
        _no_role(LICENSING)),
    ("RoyaltyModule", "onLinkToParents(address,address[],address[],uint32[],bytes,uint32)"): Attempt(
        lambda w: (w.stranger, [w.ip_id], [w.address("RoyaltyPolicyLAP")], [1], b"", 0),
        "AccessControlUnauthorizedAccount", _no_role(LICENSING)),
    ("RoyaltyModule", "payLicenseMintingFee(address,address,address,uint256)"): Attempt(
        lambda w: (w.ip_id, w.buyer, w.address("MockERC20"), 1), "AccessControlUnauthorizedAccount",
        _no_role(LICENSING)),
    ("RoyaltyModule", "whitelistRoyaltyToken(address,bool)"): Attempt(
        lambda w: (w.address("MockERC20"), False), "AccessControlUnauthorizedAccount", _no_role(ADMIN)),
    ("RoyaltyModule", "whitelistRoyaltyPolicy(address,bool)"): Attempt(
        lambda w: (w.address("RoyaltyPolicyLAP"), False), "AccessControlUnauthorizedAccount", _no_role(ADMIN)),
    **_role_admin("RoyaltyModule", LICENSING),
    ("RoyaltyPolicyLAP", "onLicenseMinting(address,uint32,bytes)"): Attempt(
        lambda w: (w.ip_id, 1, b""), "RoyaltyPolicyLAP__NotRoyaltyModule"),
    ("RoyaltyPolicyLAP", "onLinkToParents(address,address[],address[],uint32[],bytes)"): Attempt(
        lambda w: (w.stranger, [w.ip_id], [w.address("RoyaltyPolicyLAP")], [1], b""),
        "RoyaltyPolicyLAP__NotRoyaltyModule"),
    ("RoyaltyPolicyLRP", "onLicenseMinting(address,uint32,bytes)"): Attempt(
        lambda w: (w.ip_id, 1, b""), "RoyaltyPolicyLRP__NotRoyaltyModule"),
    ("RoyaltyPolicyLRP", "onLinkToParents(address,address[],address[],uint32[],bytes)"): Attempt(
        lambda w: (w.stranger, [w.ip_id], [w.address("RoyaltyPolicyLRP")], [1], b""),
        "RoyaltyPolicyLRP__NotRoyaltyModule"),
    ("IpRoyaltyVault", "initialize(string,string,uint32,address,address)"): Attempt(
        lambda w: ("RT", "RT", 1, w.stranger, w.stranger), "IpRoyaltyVault__NotRoyaltyModule",
        lambda w: (w.stranger,)),
    ("IpRoyaltyVault", "updateVaultBalance(address,uint256)"): Attempt(
        lambda w: (w.address("MockERC20"), 1), "IpRoyaltyVault__NotAllowedToAddTokenToVault"),
    ("IpRoyaltyVault", "transferFrom(address,address,uint256)"): Attempt(
        lambda w: (w.ip_id, w.stranger, 1), "ERC20InsufficientAllowance", lambda w: (w.stranger, 0, 1)),
    ("WIP", "transferFrom(address,address,uint256)"): Attempt(
        lambda w: (w.owner, w.stranger, 1), "ERC20InsufficientAllowance", lambda w: (w.stranger, 0, 1)),
    ("WIP", "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"): Attempt(
        lambda w: (w.owner, w.stranger, 1, 2**40, *w.stranger_permit(1, 2**40)), "ERC2612InvalidSigner",
        lambda w: (w.stranger, w.owner)),
    ("MockERC20", "burn(address,uint256)"): Attempt(
        lambda w: (w.buyer, 1), "ERC20InvalidSender", lambda w: (w.buyer,)),
    # --- SPG NFT collections (a private collection of the owner, who holds token 1) --------------------------------
    ("SPGNFT", "initialize((string,string,string,string,uint32,uint256,address,address,address,bool,bool))"): Attempt(
        lambda w: (("x", "X", "", "", 1, 0, ZERO, w.stranger, w.stranger, True, True),),
        "SPGNFT__CallerNotPeripheryContract"),
    ("SPGNFT", "mint(address,string,bytes32,bool)"): Attempt(
        lambda w: (w.stranger, "", b"\x00" * 32, True), "SPGNFT__MintingDenied"),
    ("SPGNFT", "mintByPeriphery(address,address,string,bytes32,bool)"): Attempt(
        lambda w: (w.stranger, w.stranger, "", b"\x00" * 32, True), "SPGNFT__CallerNotPeripheryContract"),
    ("SPGNFT", "setMintFeeRecipient(address)"): Attempt(
        lambda w: (w.stranger,), "SPGNFT__CallerNotFeeRecipientOrAdmin"),
    ("SPGNFT", "setTokenURI(uint256,string)"): Attempt(
        lambda w: (1, "ipfs://x"), "SPGNFT__CallerNotOwner", lambda w: (1, w.stranger, w.owner)),
    ("SPGNFT", "setTokenURI(uint256,string,bytes32)"): Attempt(
        lambda w: (1, "ipfs://x", b"\x01" * 32), "SPGNFT__CallerNotOwner", lambda w: (1, w.stranger, w.owner)),
    **{("SPGNFT", f"{fn}"): Attempt(lambda w, a=args: a, "AccessControlUnauthorizedAccount", _no_role(ADMIN))
       for fn, args in (("setBaseURI(string)", ("x",)), ("setContractURI(string)", ("x",)),
                        ("setMintFee(uint256)", (1,)), ("setMintFeeToken(address)", (ZERO,)),
                        ("setMintOpen(bool)", (False,)), ("setPublicMinting(bool)", (True,)))},
    **_role_admin("SPGNFT", MINTER),
    **_erc721("SPGNFT", lambda w: 1, lambda w: w.owner),
    # --- workflows: minting needs the collection's minter role (or public minting); registering someone's NFT
    #     needs the caller to be the signer of the owner's permission signature ------------------------------------
    ("RegistrationWorkflows", f"mintAndRegisterIp(address,address,{META},bool)"): _mint_denied(
        lambda w: (w.collection, w.stranger, _META(w), True)),
    ("RegistrationWorkflows", f"registerIp(address,uint256,{META},{SIG})"): Attempt(
        lambda w: (w.nft, w.spare_token, _META(w), _OWNER_SIG(w)), "Workflow__CallerNotSigner", _not_signer()),
    ("LicenseAttachmentWorkflows", f"mintAndRegisterIpAndAttachPILTerms(address,address,{META},{TERMS_DATA},bool)"):
        _mint_denied(lambda w: (w.collection, w.stranger, _META(w), _TERMS_DATA(w), True)),
    ("LicenseAttachmentWorkflows", f"mintAndRegisterIpAndAttachDefaultTerms(address,address,{META},bool)"):
        _mint_denied(lambda w: (w.collection, w.stranger, _META(w), True)),
    ("LicenseAttachmentWorkflows", f"registerIpAndAttachPILTerms(address,uint256,{META},{TERMS_DATA},{SIG})"): Attempt(
        lambda w: (w.nft, w.spare_token, _META(w), _TERMS_DATA(w), _OWNER_SIG(w)), "Workflow__CallerNotSigner",
        _not_signer()),
    ("LicenseAttachmentWorkflows", f"registerIpAndAttachDefaultTerms(address,uint256,{META},{SIG})"): Attempt(
        lambda w: (w.nft, w.spare_token, _META(w), _OWNER_SIG(w)), "Workflow__CallerNotSigner", _not_signer()),
    ("LicenseAttachmentWorkflows", f"registerPILTermsAndAttach(address,{TERMS_DATA},{SIG})"): Attempt(
        lambda w: (w.ip_id, _TERMS_DATA(w), _OWNER_SIG(w)), "Workflow__CallerNotSigner", _not_signer()),
    ("DerivativeWorkflows", f"mintAndRegisterIpAndMakeDerivative(address,{DERIV},{META},address,bool)"): _mint_denied(
        lambda w: (w.collection, _DERIV(w), _META(w), w.stranger, True)),
    ("DerivativeWorkflows",
     f"mintAndRegisterIpAndMakeDerivativeWithLicenseTokens(address,uint256[],bytes,uint32,{META},address,bool)"):
        _mint_denied(lambda w: (w.collection, [w.license_token], b"", 0, _META(w), w.stranger, True)),
    ("DerivativeWorkflows", f"registerIpAndMakeDerivative(address,uint256,{DERIV},{META},{SIG})"): Attempt(
        lambda w: (w.nft, w.spare_token, _DERIV(w), _META(w), _OWNER_SIG(w)), "Workflow__CallerNotSigner",
        _not_signer()),
    ("DerivativeWorkflows",
     f"registerIpAndMakeDerivativeWithLicenseTokens(address,uint256,uint256[],bytes,uint32,{META},{SIG})"): Attempt(
        lambda w: (w.nft, w.spare_token, [w.license_token], b"", 0, _META(w), _OWNER_SIG(w)),
        "Workflow__CallerNotSigner", _not_signer()),
    ("RoyaltyTokenDistributionWorkflows",
     f"mintAndRegisterIpAndAttachPILTermsAndDistributeRoyaltyTokens(address,address,{META},{TERMS_DATA},"
     "(address,uint32)[],bool)"): _mint_denied(
        lambda w: (w.collection, w.stranger, _META(w), _TERMS_DATA(w), [(w.stranger, 1)], True)),
    ("RoyaltyTokenDistributionWorkflows",
     f"mintAndRegisterIpAndMakeDerivativeAndDistributeRoyaltyTokens(address,address,{META},{DERIV},"
     "(address,uint32)[],bool)"): _mint_denied(
        lambda w: (w.collection, w.stranger, _META(w), _DERIV(w), [(w.stranger, 1)], True)),
    ("RoyaltyTokenDistributionWorkflows",
     f"registerIpAndAttachPILTermsAndDeployRoyaltyVault(address,uint256,{META},{TERMS_DATA},{SIG})"): Attempt(
        lambda w: (w.nft, w.spare_token, _META(w), _TERMS_DATA(w), _OWNER_SIG(w)), "Workflow__CallerNotSigner",
        _not_signer()),
    ("RoyaltyTokenDistributionWorkflows",
     f"registerIpAndMakeDerivativeAndDeployRoyaltyVault(address,uint256,{META},{DERIV},{SIG})"): Attempt(
        lambda w: (w.nft, w.spare_token, _META(w), _DERIV(w), _OWNER_SIG(w)), "Workflow__CallerNotSigner",
        _not_signer()),
    ("RoyaltyTokenDistributionWorkflows", f"distributeRoyaltyTokens(address,(address,uint32)[],{SIG})"): Attempt(
        lambda w: (w.ip_id, [(w.stranger, 1)], _OWNER_SIG(w)), "Workflow__CallerNotSigner", _not_signer()),
}  # fmt: skip

_OWN_FUNDS = "moves or approves only the caller's own balance"
_RECEIVER = "ERC-721 receiver hook: accepts NFTs sent to the workflow; it moves nothing"
_MULTICALL = "delegatecalls this workflow with the caller preserved: each call is checked as if made directly"

STORY_OPEN: dict[tuple[str, str], str] = {
    ("ERC6551Registry", "createAccount(address,bytes32,uint256,address,uint256)"): "ERC-6551 is permissionless: "
                                                                                   "the account's owner is the NFT's",
    ("IPAssetRegistry", "register(uint256,address,uint256)"): "Story registration is permissionless; the IP account "
                                                              "is controlled by the NFT holder, not the caller",
    ("PILicenseTemplate", f"registerLicenseTerms({PIL_TERMS})"): "terms are public, immutable and de-duplicated; "
                                                                  "registering them grants nothing",
    ("LicensingModule", "mintLicenseTokens(address,address,uint256,uint256,address,bytes,uint256,uint32)"):
        "buying a license: only terms attached to the IP (any terms: its owner), the fee is paid by the caller",
    ("RoyaltyModule", "payRoyaltyOnBehalf(address,address,address,uint256)"): "pays the caller's own tokens to a "
                                                                              "registered IP",
    ("RoyaltyModule", "deployVault(address)"): "deploys a registered IP's vault once; its royalty tokens go to the IP",
    ("RoyaltyPolicyLAP", "transferToVault(address,address,address)"): "moves revenue held for an ancestor into the "
                                                                      "ancestor's own vault, never elsewhere",
    ("RoyaltyPolicyLRP", "transferToVault(address,address,address)"): "as the LAP policy's transferToVault",
    ("IpRoyaltyVault", "claimRevenueOnBehalf(address,address)"): "pays a holder's share to that holder only",
    ("IpRoyaltyVault", "claimRevenueOnBehalfByTokenBatch(address,address[])"): "as claimRevenueOnBehalf",
    ("IpRoyaltyVault", "claimByTokenBatchAsSelf(address[],address)"): "claims this vault's share of a descendant's "
                                                                      "vault into this vault",
    ("IpRoyaltyVault", "approve(address,uint256)"): _OWN_FUNDS,
    ("IpRoyaltyVault", "transfer(address,uint256)"): _OWN_FUNDS,
    ("RoyaltyWorkflows", "claimAllRevenue(address,address,address[],address[],address[])"): "collects an ancestor's "
                                                                                            "due and pays holders",
    ("RoyaltyWorkflows", "claimAllRevenue(address,address,(address,address,address)[])"): "as the other overload",
    ("RoyaltyWorkflows", "multicall(bytes[])"): _MULTICALL,
    ("RegistrationWorkflows", "createCollection((string,string,string,string,uint32,uint256,address,address,address,"
                              "bool,bool))"): "anyone may create a collection; its owner is the one named",
    ("RegistrationWorkflows", "multicall(bytes[])"): _MULTICALL,
    ("RegistrationWorkflows", "onERC721Received(address,address,uint256,bytes)"): _RECEIVER,
    ("LicenseAttachmentWorkflows", "multicall(bytes[])"): _MULTICALL,
    ("LicenseAttachmentWorkflows", "onERC721Received(address,address,uint256,bytes)"): _RECEIVER,
    ("DerivativeWorkflows", "multicall(bytes[])"): _MULTICALL,
    ("DerivativeWorkflows", "onERC721Received(address,address,uint256,bytes)"): _RECEIVER,
    ("RoyaltyTokenDistributionWorkflows", "multicall(bytes[])"): _MULTICALL,
    ("RoyaltyTokenDistributionWorkflows", "onERC721Received(address,address,uint256,bytes)"): _RECEIVER,
    ("SPGNFT", "withdrawToken(address)"): "sends collected mint fees to the collection's fee recipient only",
    ("SPGNFT", "setApprovalForAll(address,bool)"): "ERC-721: approves operators for the caller's own tokens",
    ("LicenseToken", "setApprovalForAll(address,bool)"): "ERC-721: approves operators for the caller's own tokens",
    ("WIP", "deposit()"): "wraps the native token the caller sends",
    ("WIP", "withdraw(uint256)"): "unwraps the caller's own WIP",
    ("WIP", "approve(address,uint256)"): _OWN_FUNDS,
    ("WIP", "transfer(address,uint256)"): _OWN_FUNDS,
    **{("Multicall3", fn): "calls are made by Multicall3 itself, with the value the caller sends; it holds nothing"
       for fn in ("aggregate((address,bytes)[])", "aggregate3((address,bool,bytes)[])",
                  "aggregate3Value((address,bool,uint256,bytes)[])", "blockAndAggregate((address,bytes)[])",
                  "tryAggregate(bool,(address,bytes)[])", "tryBlockAndAggregate(bool,(address,bytes)[])")},
}  # fmt: skip

#: Every reviewed (contract, function) of the Story suite.
STORY_REVIEWED: frozenset[tuple[str, str]] = frozenset(STORY_GUARDED) | frozenset(STORY_OPEN)
