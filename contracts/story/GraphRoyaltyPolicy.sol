// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IIpRoyaltyVaultCore, IRoyaltyModuleCore} from "./StoryInterfaces.sol";
import {STORY_MAX_PERCENT} from "./StoryTypes.sol";

/// @title GraphRoyaltyPolicy — what Story's graph-aware royalty policies (LAP, LRP) share.
/// @notice For every IP linked to parents through licenses of this policy the policy records how much (in
///         100_000_000 = 100%) of the IP's revenue each ancestor is owed (`getPolicyRoyalty`) and the IP's royalty
///         stack (`getPolicyRoyaltyStack`, the part of every payment to the IP the RoyaltyModule routes to this
///         policy). `transferToVault(ip, ancestor, token)` — callable by anyone — moves the ancestor's due part of
///         what the policy received for `ip` into the ancestor's vault; it reverts `..._ZeroClaimableRoyalty` when
///         the ancestor is owed nothing by `ip`. How percentages propagate is the concrete policy's rule.
abstract contract GraphRoyaltyPolicy is ReentrancyGuard {
    using SafeERC20 for IERC20;

    address public immutable ROYALTY_MODULE;

    mapping(address ipId => uint32) internal _stack;
    mapping(address ipId => mapping(address ancestorIpId => uint32)) internal _percentTo;
    mapping(address ipId => address[]) internal _ancestors;
    mapping(address ipId => mapping(address ancestorIpId => mapping(address token => uint256))) private _transferred;

    event RevenueTransferredToVault(address ipId, address ancestorIpId, address token, uint256 amount);

    error RoyaltyPolicy__AncestorHasNoVault(address ancestorIpId);

    constructor(address royaltyModule) {
        ROYALTY_MODULE = royaltyModule;
    }

    modifier onlyRoyaltyModule() {
        if (msg.sender != ROYALTY_MODULE) _revertNotRoyaltyModule();
        _;
    }

    function onLinkToParents(
        address ipId,
        address[] calldata parentIpIds,
        address[] calldata licenseRoyaltyPolicies,
        uint32[] calldata licensesPercent,
        bytes calldata
    ) external nonReentrant onlyRoyaltyModule returns (uint32 newRoyaltyStack) {
        for (uint256 i = 0; i < parentIpIds.length; i++) {
            uint32 percent = licenseRoyaltyPolicies[i] == address(this) ? licensesPercent[i] : 0;
            _link(ipId, parentIpIds[i], percent);
        }
        newRoyaltyStack = _stackOf(ipId);
        _stack[ipId] = newRoyaltyStack;
    }

    function transferToVault(address ipId, address ancestorIpId, address token) external nonReentrant returns (uint256) {
        if (ipId == ancestorIpId) _revertSameIpTransfer();
        uint32 percent = _percentTo[ipId][ancestorIpId];
        if (percent == 0) _revertZeroClaimableRoyalty();
        IRoyaltyModuleCore module = IRoyaltyModuleCore(ROYALTY_MODULE);
        uint256 total = module.totalRevenueTokensAccounted(ipId, token, address(this));
        uint256 due = _due(total, percent, ancestorIpId);
        uint256 amount = Math.min(due - _transferred[ipId][ancestorIpId][token], IERC20(token).balanceOf(address(this)));
        _transferred[ipId][ancestorIpId][token] += amount;
        address vault = module.ipRoyaltyVaults(ancestorIpId);
        if (vault == address(0)) revert RoyaltyPolicy__AncestorHasNoVault(ancestorIpId);
        IIpRoyaltyVaultCore(vault).updateVaultBalance(token, amount);
        IERC20(token).safeTransfer(vault, amount);
        emit RevenueTransferredToVault(ipId, ancestorIpId, token, amount);
        return amount;
    }

    /// @notice These policies need no royalty tokens to link.
    function getPolicyRtsRequiredToLink(address, uint32) external pure returns (uint32) {
        return 0;
    }

    function getPolicyRoyaltyStack(address ipId) external view returns (uint32) {
        return _stack[ipId];
    }

    /// @notice The percentage of `ipId`'s revenue owed to `ancestorIpId` through this policy.
    function getPolicyRoyalty(address ipId, address ancestorIpId) external view returns (uint32) {
        return _percentTo[ipId][ancestorIpId];
    }

    function getTransferredTokens(address ipId, address ancestorIpId, address token) external view returns (uint256) {
        return _transferred[ipId][ancestorIpId][token];
    }

    function isSupportGroup() external pure returns (bool) {
        return false;
    }

    /// @notice Story's pause flag: this suite is never paused.
    function paused() external pure returns (bool) {
        return false;
    }

    function _add(address ipId, address ancestorIpId, uint32 percent) internal {
        if (percent == 0) return;
        if (_percentTo[ipId][ancestorIpId] == 0) _ancestors[ipId].push(ancestorIpId);
        _percentTo[ipId][ancestorIpId] += percent;
    }

    /// @dev Records `ipId` as a derivative of `parentIpId` under a license of `percent` (0: another policy's).
    function _link(address ipId, address parentIpId, uint32 percent) internal virtual;

    /// @dev The royalty stack of `ipId` after linking.
    function _stackOf(address ipId) internal view virtual returns (uint32);

    /// @dev What `ancestorIpId` is owed in total from `total` received for a descendant at `percent`.
    function _due(uint256 total, uint32 percent, address ancestorIpId) internal view virtual returns (uint256);

    function _revertNotRoyaltyModule() internal pure virtual;
    function _revertSameIpTransfer() internal pure virtual;
    function _revertZeroClaimableRoyalty() internal pure virtual;

    function _sumPercents(address ipId) internal view returns (uint32 sum) {
        address[] storage list = _ancestors[ipId];
        for (uint256 i = 0; i < list.length; i++) {
            sum += _percentTo[ipId][list[i]];
        }
    }
}
