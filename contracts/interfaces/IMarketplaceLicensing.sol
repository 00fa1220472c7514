// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The Story Protocol calls the marketplace makes, with Story's exact signatures (so selectors match).
/// @notice Only what ModelMarketplace calls is declared; the full suite lives in contracts/story/.
interface IMarketplaceLicensingModule {
    function mintLicenseTokens(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address receiver,
        bytes calldata royaltyContext,
        uint256 maxMintingFee,
        uint32 maxRevenueShare
    ) external returns (uint256 startLicenseTokenId);

    function predictMintingLicenseFee(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address receiver,
        bytes calldata royaltyContext
    ) external view returns (address currencyToken, uint256 tokenAmount);

    function LICENSE_REGISTRY() external view returns (address);
}

/// @title The LicenseRegistry view the marketplace uses to refuse listing terms that are not attached to the IP.
interface IMarketplaceLicenseRegistry {
    function hasIpAttachedLicenseTerms(address ipId, address licenseTemplate, uint256 licenseTermsId)
        external
        view
        returns (bool);
}

/// @title The IPAssetRegistry views the marketplace uses to tie a listing to the NFT's IP account.
interface IMarketplaceIPAssetRegistry {
    function ipId(uint256 chainId, address tokenContract, uint256 tokenId) external view returns (address);

    function isRegistered(address id) external view returns (bool);
}
