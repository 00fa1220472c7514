// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PILTerms} from "./PILTerms.sol";

/// @dev Story's precision for percentages (royalty stacks, revenue shares, royalty tokens): 100% == 100_000_000.
uint32 constant STORY_MAX_PERCENT = 100_000_000;

/// @notice Per-IP, per-terms licensing configuration, field for field as Story's `Licensing.LicensingConfig`.
/// @dev `isSet == false` means "use the terms as registered"; `mintingFee` overrides the terms' fee when set (it may
///      only raise it), `commercialRevShare` overrides the revenue share (0 = keep), `licensingHook` is a registered
///      hook module that may veto mints and compute the fee, `disabled` stops new licenses and derivatives.
struct LicensingConfig {
    bool isSet;
    uint256 mintingFee;
    address licensingHook;
    bytes hookData;
    uint32 commercialRevShare;
    bool disabled;
    uint32 expectMinimumGroupRewardShare;
    address expectGroupRewardPool;
}

/// @notice One permission entry of the AccessController (Story's `AccessPermission.Permission`).
struct Permission {
    address ipAccount;
    address signer;
    address to;
    bytes4 func;
    uint8 permission;
}

/// @notice One call of `IPAccount.executeBatch` (the ERC-6551 reference `Call`).
struct Call {
    address target;
    uint256 value;
    bytes data;
}

/// @notice IP and NFT metadata set by the workflows (Story periphery `WorkflowStructs.IPMetadata`).
struct IPMetadata {
    string ipMetadataURI;
    bytes32 ipMetadataHash;
    string nftMetadataURI;
    bytes32 nftMetadataHash;
}

/// @notice A signature for `IPAccount.executeWithSig` (Story periphery `WorkflowStructs.SignatureData`).
struct SignatureData {
    address signer;
    uint256 deadline;
    bytes signature;
}

/// @notice Derivative registration parameters (Story periphery `WorkflowStructs.MakeDerivative`).
struct MakeDerivative {
    address[] parentIpIds;
    address licenseTemplate;
    uint256[] licenseTermsIds;
    bytes royaltyContext;
    uint256 maxMintingFee;
    uint32 maxRts;
    uint32 maxRevenueShare;
}

/// @notice PIL terms to register and attach, with the IP's configuration for them.
struct LicenseTermsData {
    PILTerms terms;
    LicensingConfig licensingConfig;
}

/// @notice A share of an IP's royalty tokens to hand out (100_000_000 == all of them).
struct RoyaltyShare {
    address recipient;
    uint32 percentage;
}

/// @notice One child IP to collect from in `RoyaltyWorkflows.claimAllRevenue` (the struct overload).
struct ClaimRevenueData {
    address childIpId;
    address royaltyPolicy;
    address currencyToken;
}

/// @dev Story's AccessController permission values.
library AccessPermission {
    uint8 internal constant ABSTAIN = 0;
    uint8 internal constant ALLOW = 1;
    uint8 internal constant DENY = 2;
}
