// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {GraphRoyaltyPolicy} from "./GraphRoyaltyPolicy.sol";
import {IRoyaltyModuleCore} from "./StoryInterfaces.sol";
import {STORY_MAX_PERCENT} from "./StoryTypes.sol";

/// @title RoyaltyPolicyLAP — Liquid Absolute Percentage: every ancestor gets a fixed share of all descendants.
/// @notice A derivative owes its parent the license's percentage and owes every ancestor of the parent what the
///         parent owes it, so with 10% licenses A <- B <- C <- D: B owes A 10%, C owes B 10% and A 10%, D owes C,
///         B and A 10% each. An IP's stack is the sum of what it owes. A license can be minted only while the
///         licensor's global stack plus the license's percentage stays within 100%.
contract RoyaltyPolicyLAP is GraphRoyaltyPolicy {
    error RoyaltyPolicyLAP__NotRoyaltyModule();
    error RoyaltyPolicyLAP__SameIpTransfer();
    error RoyaltyPolicyLAP__ZeroClaimableRoyalty();
    error RoyaltyPolicyLAP__AboveMaxPercent();

    constructor(address royaltyModule) GraphRoyaltyPolicy(royaltyModule) {}

    function onLicenseMinting(address ipId, uint32 licensePercent, bytes calldata)
        external
        nonReentrant
        onlyRoyaltyModule
    {
        if (IRoyaltyModuleCore(ROYALTY_MODULE).globalRoyaltyStack(ipId) + licensePercent > STORY_MAX_PERCENT) {
            revert RoyaltyPolicyLAP__AboveMaxPercent();
        }
    }

    function _link(address ipId, address parentIpId, uint32 percent) internal override {
        _add(ipId, parentIpId, percent);
        address[] storage inherited = _ancestors[parentIpId];
        for (uint256 i = 0; i < inherited.length; i++) {
            _add(ipId, inherited[i], _percentTo[parentIpId][inherited[i]]);
        }
    }

    function _stackOf(address ipId) internal view override returns (uint32) {
        return _sumPercents(ipId);
    }

    function _due(uint256 total, uint32 percent, address) internal pure override returns (uint256) {
        return (total * percent) / STORY_MAX_PERCENT;
    }

    function _revertNotRoyaltyModule() internal pure override {
        revert RoyaltyPolicyLAP__NotRoyaltyModule();
    }

    function _revertSameIpTransfer() internal pure override {
        revert RoyaltyPolicyLAP__SameIpTransfer();
    }

    function _revertZeroClaimableRoyalty() internal pure override {
        revert RoyaltyPolicyLAP__ZeroClaimableRoyalty();
    }
}
