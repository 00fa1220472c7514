// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The Programmable IP License terms, field for field as Story Protocol's `PILTerms` (17 fields, this order,
///         these types), so `registerLicenseTerms((bool,address,uint256,...,string))` has Story's selector.
/// @dev `commercialRevShare` uses Story's scale: 100% == 100_000_000 (SDKs multiply a percentage by 10**6).
struct PILTerms {
    bool transferable;
    address royaltyPolicy;
    uint256 defaultMintingFee;
    uint256 expiration;
    bool commercialUse;
    bool commercialAttribution;
    address commercializerChecker;
    bytes commercializerCheckerData;
    uint32 commercialRevShare;
    uint256 commercialRevCeiling;
    bool derivativesAllowed;
    bool derivativesAttribution;
    bool derivativesApproval;
    bool derivativesReciprocal;
    uint256 derivativeRevCeiling;
    address currency;
    string uri;
}
