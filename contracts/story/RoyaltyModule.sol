// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {
    IIPAssetRegistryLookup,
    IIpRoyaltyVaultCore,
    ILicenseRegistryCore,
    IRoyaltyPolicyCore
} from "./StoryInterfaces.sol";
import {StoryDeployable} from "./StoryDeployable.sol";
import {STORY_MAX_PERCENT} from "./StoryTypes.sol";

/// @title RoyaltyModule — royalty vaults, the royalty graph and revenue routing, with Story's v1.3 semantics.
/// @notice Every IP that sells a license under a royalty policy, or links to parents, gets an IpRoyaltyVault whose
///         100,000,000 royalty tokens (6 decimals, 100%) go to the IP account. A payment to an IP — a license
///         minting fee (`payLicenseMintingFee`, LicensingModule only) or a royalty (`payRoyaltyOnBehalf`, anyone;
///         approve this module) — is split: each whitelisted royalty policy among the IP's accumulated policies
///         receives `amount * policy.getPolicyRoyaltyStack(ip) / 100%` (what the IP owes its ancestors) and the rest
///         goes to the IP's vault. Ancestors later collect their part from the policy with `transferToVault`.
///         Payments must be in whitelisted royalty tokens; licenses may only name whitelisted royalty policies.
///         There is no protocol fee (treasury and fee are zero). Roles: DEFAULT_ADMIN_ROLE whitelists,
///         LICENSING_MODULE_ROLE reports licenses and links.
/// @dev Vaults are EIP-1167 clones of the vault implementation (at Story's IpRoyaltyVault implementation address in
///      the story-compat layout), initialized here.
contract RoyaltyModule is AccessControl, ReentrancyGuard, StoryDeployable {
    using SafeERC20 for IERC20;
    using EnumerableSet for EnumerableSet.AddressSet;

    bytes32 public constant LICENSING_MODULE_ROLE = keccak256("LICENSING_MODULE_ROLE");

    address public immutable IP_ASSET_REGISTRY;
    address public immutable LICENSE_REGISTRY;
    /// @notice The vault implementation every IP royalty vault clones (set once by `initialize`).
    address public IP_ROYALTY_VAULT_IMPL;

    mapping(address policy => bool) private _whitelistedPolicies;
    mapping(address token => bool) private _whitelistedTokens;
    mapping(address ipId => address vault) private _vaults;
    mapping(address vault => bool) private _isVault;
    mapping(address ipId => EnumerableSet.AddressSet) private _accumulatedPolicies;
    mapping(address ipId => uint32) private _globalRoyaltyStack;
    mapping(address ipId => mapping(address token => uint256)) private _received;
    mapping(address ipId => mapping(address token => mapping(address policy => uint256))) private _accounted;

    event RoyaltyPolicyWhitelistUpdated(address royaltyPolicy, bool allowed);
    event RoyaltyTokenWhitelistUpdated(address token, bool allowed);
    event IpRoyaltyVaultDeployed(address ipId, address ipRoyaltyVault);
    event LicensedWithRoyalty(address ipId, address royaltyPolicy, uint32 licensePercent, bytes externalData);
    event LinkedToParents(
        address ipId,
        address[] parentIpIds,
        address[] licenseRoyaltyPolicies,
        uint32[] licensesPercent,
        bytes externalData
    );
    event RoyaltyPaid(
        address receiverIpId, address payerIpId, address sender, address token, uint256 amount, uint256 amountAfterFee
    );
    event LicenseMintingFeePaid(
        address receiverIpId, address payerAddress, address token, uint256 amount, uint256 amountAfterFee
    );

    error RoyaltyModule__ZeroRoyaltyPolicy();
    error RoyaltyModule__ZeroRoyaltyToken();
    error RoyaltyModule__AboveMaxPercent();
    error RoyaltyModule__NotWhitelistedOrRegisteredRoyaltyPolicy();
    error RoyaltyModule__NotWhitelistedRoyaltyToken();
    error RoyaltyModule__NoParentsOnLinking();
    error RoyaltyModule__ZeroParentIpId();
    error RoyaltyModule__AboveMaxRts();
    error RoyaltyModule__ZeroAmount();
    error RoyaltyModule__IpExpired();
    error RoyaltyModule__ZeroReceiverVault();
    error RoyaltyModule__VaultAlreadyDeployed();
    error RoyaltyModule__IpIdNotRegistered();

    constructor(address ipAssetRegistry, address licenseRegistry) {
        IP_ASSET_REGISTRY = ipAssetRegistry;
        LICENSE_REGISTRY = licenseRegistry;
    }

    /// @notice One-time setup by the deployer: admin, licensing module, the vault implementation (deployed after
    ///         this module, whose address it names), whitelisted tokens and policies.
    function initialize(
        address admin,
        address licensingModule,
        address ipRoyaltyVaultImpl,
        address[] calldata royaltyTokens,
        address[] calldata royaltyPolicies
    ) external {
        _initializeOnce(admin);
        IP_ROYALTY_VAULT_IMPL = ipRoyaltyVaultImpl;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(LICENSING_MODULE_ROLE, licensingModule);
        for (uint256 i = 0; i < royaltyTokens.length; i++) {
            _setToken(royaltyTokens[i], true);
        }
        for (uint256 i = 0; i < royaltyPolicies.length; i++) {
            _setPolicy(royaltyPolicies[i], true);
        }
    }

    function name() external pure returns (string memory) {
        return "ROYALTY_MODULE";
    }

    function whitelistRoyaltyPolicy(address royaltyPolicy, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPolicy(royaltyPolicy, allowed);
    }

    function whitelistRoyaltyToken(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setToken(token, allowed);
    }

    /// @notice Deploys the vault of a registered IP that has none yet (royalty tokens to the IP account).
    function deployVault(address ipId) external nonReentrant returns (address ipRoyaltyVault) {
        if (_vaults[ipId] != address(0)) revert RoyaltyModule__VaultAlreadyDeployed();
        if (!IIPAssetRegistryLookup(IP_ASSET_REGISTRY).isRegistered(ipId)) revert RoyaltyModule__IpIdNotRegistered();
        return _deployVault(ipId, ipId);
    }

    // --- licensing module hooks -------------------------------------------------------------------------------------
    function onLicenseMinting(address ipId, address royaltyPolicy, uint32 licensePercent, bytes calldata externalData)
        external
        nonReentrant
        onlyRole(LICENSING_MODULE_ROLE)
    {
        if (royaltyPolicy == address(0)) revert RoyaltyModule__ZeroRoyaltyPolicy();
        if (licensePercent > STORY_MAX_PERCENT) revert RoyaltyModule__AboveMaxPercent();
        if (!_whitelistedPolicies[royaltyPolicy]) revert RoyaltyModule__NotWhitelistedOrRegisteredRoyaltyPolicy();
        if (_vaults[ipId] == address(0)) _deployVault(ipId, ipId);
        IRoyaltyPolicyCore(royaltyPolicy).onLicenseMinting(ipId, licensePercent, externalData);
        emit LicensedWithRoyalty(ipId, royaltyPolicy, licensePercent, externalData);
    }

    function onLinkToParents(
        address ipId,
        address[] calldata parentIpIds,
        address[] calldata licenseRoyaltyPolicies,
        uint32[] calldata licensesPercent,
        bytes calldata externalData,
        uint32 maxRts
    ) external nonReentrant onlyRole(LICENSING_MODULE_ROLE) {
        if (parentIpIds.length == 0) revert RoyaltyModule__NoParentsOnLinking();
        if (_vaults[ipId] == address(0)) _deployVault(ipId, ipId);
        uint32 rtsRequired = _accumulatePolicies(ipId, parentIpIds, licenseRoyaltyPolicies, licensesPercent);
        if (rtsRequired > maxRts) revert RoyaltyModule__AboveMaxRts();
        _globalRoyaltyStack[ipId] = _linkPolicies(
            ipId,
            abi.encodeCall(
                IRoyaltyPolicyCore.onLinkToParents,
                (ipId, parentIpIds, licenseRoyaltyPolicies, licensesPercent, externalData)
            )
        );
        emit LinkedToParents(ipId, parentIpIds, licenseRoyaltyPolicies, licensesPercent, externalData);
    }

    // --- payments ---------------------------------------------------------------------------------------------------
    /// @notice Pays `amount` of `token` from the caller to `receiverIpId` (approve this module first).
    function payRoyaltyOnBehalf(address receiverIpId, address payerIpId, address token, uint256 amount)
        external
        nonReentrant
    {
        uint256 afterFee = _pay(receiverIpId, msg.sender, token, amount);
        emit RoyaltyPaid(receiverIpId, payerIpId, msg.sender, token, amount, afterFee);
    }

    /// @notice Collects a license minting fee from `payerAddress` for `receiverIpId` (licensing module only).
    function payLicenseMintingFee(address receiverIpId, address payerAddress, address token, uint256 amount)
        external
        nonReentrant
        onlyRole(LICENSING_MODULE_ROLE)
    {
        uint256 afterFee = _pay(receiverIpId, payerAddress, token, amount);
        emit LicenseMintingFeePaid(receiverIpId, payerAddress, token, amount, afterFee);
    }

    // --- views ------------------------------------------------------------------------------------------------------
    function maxPercent() external pure returns (uint32) {
        return STORY_MAX_PERCENT;
    }

    // solhint-disable-next-line func-name-mixedcase
    function MAX_PERCENT() external pure returns (uint32) {
        return STORY_MAX_PERCENT;
    }

    /// @notice Story's pause flag: this suite is never paused.
    function paused() external pure returns (bool) {
        return false;
    }

    /// @notice How many ancestors `ipId` has in the derivative graph.
    function getAncestorsCount(address ipId) external view returns (uint256) {
        return ILicenseRegistryCore(LICENSE_REGISTRY).getAncestorsCount(ipId);
    }

    function treasury() external pure returns (address) {
        return address(0);
    }

    function royaltyFeePercent() external pure returns (uint32) {
        return 0;
    }

    function maxParents() external pure returns (uint256) {
        return 16;
    }

    function maxAncestors() external pure returns (uint256) {
        return 1024;
    }

    function maxAccumulatedRoyaltyPolicies() external pure returns (uint256) {
        return 10;
    }

    function ipRoyaltyVaultBeacon() external view returns (address) {
        return IP_ROYALTY_VAULT_IMPL;
    }

    function isWhitelistedRoyaltyPolicy(address royaltyPolicy) external view returns (bool) {
        return _whitelistedPolicies[royaltyPolicy];
    }

    /// @notice External royalty policies are not supported by this suite.
    function isRegisteredExternalRoyaltyPolicy(address) external pure returns (bool) {
        return false;
    }

    function isWhitelistedRoyaltyToken(address token) external view returns (bool) {
        return _whitelistedTokens[token];
    }

    function isIpRoyaltyVault(address ipRoyaltyVault) external view returns (bool) {
        return _isVault[ipRoyaltyVault];
    }

    function ipRoyaltyVaults(address ipId) external view returns (address) {
        return _vaults[ipId];
    }

    function globalRoyaltyStack(address ipId) external view returns (uint32) {
        return _globalRoyaltyStack[ipId];
    }

    function accumulatedRoyaltyPolicies(address ipId) external view returns (address[] memory) {
        return _accumulatedPolicies[ipId].values();
    }

    /// @notice Everything `ipId` received in `token` (before the policies' share).
    function totalRevenueTokensReceived(address ipId, address token) external view returns (uint256) {
        return _received[ipId][token];
    }

    /// @notice The payments to `ipId` in `token` on which `royaltyPolicy` took its share.
    function totalRevenueTokensAccounted(address ipId, address token, address royaltyPolicy)
        external
        view
        returns (uint256)
    {
        return _accounted[ipId][token][royaltyPolicy];
    }

    function hasAncestorIp(address ipId, address ancestorIpId) external view returns (bool) {
        return ILicenseRegistryCore(LICENSE_REGISTRY).isAncestorIp(ancestorIpId, ipId);
    }

    // --- internals --------------------------------------------------------------------------------------------------
    function _pay(address receiverIpId, address payer, address token, uint256 amount) private returns (uint256) {
        if (amount == 0) revert RoyaltyModule__ZeroAmount();
        if (!_whitelistedTokens[token]) revert RoyaltyModule__NotWhitelistedRoyaltyToken();
        if (ILicenseRegistryCore(LICENSE_REGISTRY).isExpiredNow(receiverIpId)) revert RoyaltyModule__IpExpired();
        uint256 toPolicies = 0;
        address[] memory policies = _accumulatedPolicies[receiverIpId].values();
        for (uint256 i = 0; i < policies.length; i++) {
            if (!_whitelistedPolicies[policies[i]]) continue;
            uint32 stack = IRoyaltyPolicyCore(policies[i]).getPolicyRoyaltyStack(receiverIpId);
            if (stack == 0) continue;
            _accounted[receiverIpId][token][policies[i]] += amount;
            uint256 share = (amount * stack) / STORY_MAX_PERCENT;
            toPolicies += share;
            if (share > 0) IERC20(token).safeTransferFrom(payer, policies[i], share);
        }
        uint256 remaining = amount - toPolicies;
        if (remaining > 0) {
            address vault = _vaults[receiverIpId];
            if (vault == address(0)) revert RoyaltyModule__ZeroReceiverVault();
            IIpRoyaltyVaultCore(vault).updateVaultBalance(token, remaining);
            IERC20(token).safeTransferFrom(payer, vault, remaining);
        }
        _received[receiverIpId][token] += amount;
        return amount;
    }

    function _accumulatePolicies(
        address ipId,
        address[] calldata parentIpIds,
        address[] calldata licenseRoyaltyPolicies,
        uint32[] calldata licensesPercent
    ) private returns (uint32 rtsRequired) {
        for (uint256 i = 0; i < parentIpIds.length; i++) {
            rtsRequired += _accumulateFrom(ipId, parentIpIds[i], licenseRoyaltyPolicies[i], licensesPercent[i]);
        }
    }

    /// @dev Adds the license's policy and every policy the parent accumulated to the child's set.
    function _accumulateFrom(address ipId, address parentIpId, address policy, uint32 licensePercent)
        private
        returns (uint32 rtsRequired)
    {
        if (parentIpId == address(0)) revert RoyaltyModule__ZeroParentIpId();
        if (policy == address(0)) revert RoyaltyModule__ZeroRoyaltyPolicy();
        EnumerableSet.AddressSet storage childPolicies = _accumulatedPolicies[ipId];
        if (!_accumulatedPolicies[parentIpId].contains(policy)) {
            rtsRequired += IRoyaltyPolicyCore(policy).getPolicyRtsRequiredToLink(parentIpId, licensePercent);
            childPolicies.add(policy);
        }
        address[] memory inherited = _accumulatedPolicies[parentIpId].values();
        for (uint256 j = 0; j < inherited.length; j++) {
            uint32 percent = inherited[j] == policy ? licensePercent : 0;
            rtsRequired += IRoyaltyPolicyCore(inherited[j]).getPolicyRtsRequiredToLink(parentIpId, percent);
            childPolicies.add(inherited[j]);
        }
    }

    /// @dev Tells every accumulated policy of `ipId` about the link (`call` is the encoded onLinkToParents) and
    ///      returns the global royalty stack: the sum of the policies' stacks.
    function _linkPolicies(address ipId, bytes memory call) private returns (uint32 stack) {
        address[] memory policies = _accumulatedPolicies[ipId].values();
        for (uint256 i = 0; i < policies.length; i++) {
            if (!_whitelistedPolicies[policies[i]]) revert RoyaltyModule__NotWhitelistedOrRegisteredRoyaltyPolicy();
            (bool ok, bytes memory result) = policies[i].call(call);
            if (!ok) {
                assembly {
                    revert(add(result, 0x20), mload(result))
                }
            }
            stack += abi.decode(result, (uint32));
        }
        if (stack > STORY_MAX_PERCENT) revert RoyaltyModule__AboveMaxPercent();
    }

    function _deployVault(address ipId, address receiver) private returns (address vault) {
        vault = Clones.clone(IP_ROYALTY_VAULT_IMPL);
        IIpRoyaltyVaultCore(vault).initialize("Royalty Token", "RT", STORY_MAX_PERCENT, ipId, receiver);
        _vaults[ipId] = vault;
        _isVault[vault] = true;
        emit IpRoyaltyVaultDeployed(ipId, vault);
    }

    function _setPolicy(address policy, bool allowed) private {
        if (policy == address(0)) revert RoyaltyModule__ZeroRoyaltyPolicy();
        _whitelistedPolicies[policy] = allowed;
        emit RoyaltyPolicyWhitelistUpdated(policy, allowed);
    }

    function _setToken(address token, bool allowed) private {
        if (token == address(0)) revert RoyaltyModule__ZeroRoyaltyToken();
        _whitelistedTokens[token] = allowed;
        emit RoyaltyTokenWhitelistUpdated(token, allowed);
    }
}
