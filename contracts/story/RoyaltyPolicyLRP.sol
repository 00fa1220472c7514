// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GraphRoyaltyPolicy} from "./GraphRoyaltyPolicy.sol";
import {STORY_MAX_PERCENT} from "./StoryTypes.sol";

/// @title RoyaltyPolicyLRP — Liquid Relative Percentage: each parent gets its share of its direct derivatives.
/// @notice A derivative's stack is the sum of its direct parents' license percentages. What reaches a parent is
///         shared with that parent's own ancestors in turn, so an ancestor two levels up is owed the product of the
///         percentages along the path, and an ancestor's transfer is reduced by the ancestor's own LRP stack (that
///         part belongs further up). With 10% licenses A <- B <- C and 100 paid to C: B gets 9, A gets 1.
contract RoyaltyPolicyLRP is GraphRoyaltyPolicy {
    /// @notice The LAP policy whose stack also limits LRP licenses.
    address public immutable ROYALTY_POLICY_LAP;

    mapping(address ipId => uint32) private _directStack;

    error RoyaltyPolicyLRP__NotRoyaltyModule();
    error RoyaltyPolicyLRP__SameIpTransfer();
    error RoyaltyPolicyLRP__ZeroClaimableRoyalty();
    error RoyaltyPolicyLRP__AboveMaxPercent();

    constructor(address royaltyModule, address royaltyPolicyLap) GraphRoyaltyPolicy(royaltyModule) {
        ROYALTY_POLICY_LAP = royaltyPolicyLap;
    }

    function onLicenseMinting(address ipId, uint32 licensePercent, bytes calldata)
        external
        nonReentrant
        onlyRoyaltyModule
    {
        if (GraphRoyaltyPolicy(ROYALTY_POLICY_LAP).getPolicyRoyaltyStack(ipId) + licensePercent > STORY_MAX_PERCENT) {
            revert RoyaltyPolicyLRP__AboveMaxPercent();
        }
    }

    function _link(address ipId, address parentIpId, uint32 percent) internal override {
        if (percent == 0) return;
        _add(ipId, parentIpId, percent);
        _directStack[ipId] += percent;
        address[] storage inherited = _ancestors[parentIpId];
        for (uint256 i = 0; i < inherited.length; i++) {
            uint256 relative = (uint256(percent) * _percentTo[parentIpId][inherited[i]]) / STORY_MAX_PERCENT;
            _add(ipId, inherited[i], uint32(relative));
        }
    }

    function _stackOf(address ipId) internal view override returns (uint32) {
        return _directStack[ipId];
    }

    function _due(uint256 total, uint32 percent, address ancestorIpId) internal view override returns (uint256) {
        uint256 due = (total * percent) / STORY_MAX_PERCENT;
        return due - (due * _stack[ancestorIpId]) / STORY_MAX_PERCENT;
    }

    function _revertNotRoyaltyModule() internal pure override {
        revert RoyaltyPolicyLRP__NotRoyaltyModule();
    }

    function _revertSameIpTransfer() internal pure override {
        revert RoyaltyPolicyLRP__SameIpTransfer();
    }

    function _revertZeroClaimableRoyalty() internal pure override {
        revert RoyaltyPolicyLRP__ZeroClaimableRoyalty();
    }
}
