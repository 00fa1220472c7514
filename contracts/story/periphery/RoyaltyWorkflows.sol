// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IIpRoyaltyVaultCore, IRoyaltyModuleCore, IRoyaltyPolicyCore} from "../StoryInterfaces.sol";
import {ClaimRevenueData} from "../StoryTypes.sol";

import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";

/// @title RoyaltyWorkflows — collect an ancestor's revenue from its descendants and claim it in one call.
/// @notice `claimAllRevenue(ancestor, claimer, children, policies, currencies)` moves what each child's royalty
///         policy holds for the ancestor into the ancestor's vault (`transferToVault`; a child that owes nothing is
///         skipped) and claims the claimer's share of every currency (each must yield something). The claimer is
///         usually the ancestor IP account, which holds the royalty tokens.
contract RoyaltyWorkflows is Multicall {
    address public immutable ROYALTY_MODULE;

    bytes4 private constant _LAP_ZERO = bytes4(keccak256("RoyaltyPolicyLAP__ZeroClaimableRoyalty()"));
    bytes4 private constant _LRP_ZERO = bytes4(keccak256("RoyaltyPolicyLRP__ZeroClaimableRoyalty()"));

    error RoyaltyWorkflows__NoRoyaltyVault(address ipId);

    constructor(address royaltyModule) {
        ROYALTY_MODULE = royaltyModule;
    }

    function claimAllRevenue(
        address ancestorIpId,
        address claimer,
        address[] calldata childIpIds,
        address[] calldata royaltyPolicies,
        address[] calldata currencyTokens
    ) external returns (uint256[] memory amountsClaimed) {
        for (uint256 i = 0; i < childIpIds.length; i++) {
            _transfer(royaltyPolicies[i], childIpIds[i], ancestorIpId, currencyTokens[i]);
        }
        return _claim(ancestorIpId, claimer, currencyTokens);
    }

    function claimAllRevenue(address ancestorIpId, address claimer, ClaimRevenueData[] calldata claimRevenueData)
        external
        returns (uint256[] memory amountsClaimed)
    {
        address[] memory currencies = new address[](claimRevenueData.length);
        for (uint256 i = 0; i < claimRevenueData.length; i++) {
            ClaimRevenueData calldata data = claimRevenueData[i];
            _transfer(data.royaltyPolicy, data.childIpId, ancestorIpId, data.currencyToken);
            currencies[i] = data.currencyToken;
        }
        return _claim(ancestorIpId, claimer, currencies);
    }

    function _transfer(address policy, address childIpId, address ancestorIpId, address token) private {
        try IRoyaltyPolicyCore(policy).transferToVault(childIpId, ancestorIpId, token) {}
        catch (bytes memory reason) {
            bytes4 selector = reason.length >= 4 ? bytes4(reason) : bytes4(0);
            if (selector != _LAP_ZERO && selector != _LRP_ZERO) {
                assembly {
                    revert(add(reason, 0x20), mload(reason))
                }
            }
        }
    }

    function _claim(address ancestorIpId, address claimer, address[] memory currencies)
        private
        returns (uint256[] memory)
    {
        address vault = IRoyaltyModuleCore(ROYALTY_MODULE).ipRoyaltyVaults(ancestorIpId);
        if (vault == address(0)) revert RoyaltyWorkflows__NoRoyaltyVault(ancestorIpId);
        return IIpRoyaltyVaultCore(vault).claimRevenueOnBehalfByTokenBatch(claimer, _unique(currencies));
    }

    function _unique(address[] memory tokens) private pure returns (address[] memory unique) {
        address[] memory buffer = new address[](tokens.length);
        uint256 count = 0;
        for (uint256 i = 0; i < tokens.length; i++) {
            bool seen = false;
            for (uint256 j = 0; j < count; j++) {
                if (buffer[j] == tokens[i]) {
                    seen = true;
                    break;
                }
            }
            if (!seen) buffer[count++] = tokens[i];
        }
        unique = new address[](count);
        for (uint256 i = 0; i < count; i++) {
            unique[i] = buffer[i];
        }
    }
}
