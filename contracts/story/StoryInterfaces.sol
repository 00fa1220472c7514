// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PILTerms} from "./PILTerms.sol";

/// @notice The slice of the IP account every module needs: who controls the IP (the holder of the bound NFT).
interface IIPAccountOwner {
    function owner() external view returns (address);
}

/// @notice What the licensing contracts ask the IP asset registry.
interface IIPAssetRegistryLookup {
    function isRegistered(address id) external view returns (bool);
}

/// @notice What the licensing module asks a license template.
interface IPILicenseTemplateLookup {
    function exists(uint256 licenseTermsId) external view returns (bool);
    function getLicenseTerms(uint256 licenseTermsId) external view returns (PILTerms memory terms);
}

/// @notice The license registry's writes, reserved to the licensing module.
interface ILicenseRegistryWrites {
    function isRegisteredLicenseTemplate(address licenseTemplate) external view returns (bool);
    function hasIpAttachedLicenseTerms(address ipId, address licenseTemplate, uint256 licenseTermsId)
        external
        view
        returns (bool);
    function getAttachedLicenseTermsCount(address ipId) external view returns (uint256);
    function isDerivativeIp(address ipId) external view returns (bool);
    function attachLicenseTermsToIp(address ipId, address licenseTemplate, uint256 licenseTermsId) external;
    function registerDerivativeIp(
        address childIpId,
        address[] calldata parentIpIds,
        address licenseTemplate,
        uint256[] calldata licenseTermsIds
    ) external;
}

/// @notice The license token's mint, reserved to the licensing module.
interface ILicenseTokenMinter {
    function mintLicenseTokens(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address minter,
        address receiver,
        bool transferable
    ) external returns (uint256 startLicenseTokenId);
    function burnLicenseTokens(address holder, uint256[] calldata tokenIds) external;
    function getLicensorIpId(uint256 tokenId) external view returns (address);
    function getLicenseTemplate(uint256 tokenId) external view returns (address);
    function getLicenseTermsId(uint256 tokenId) external view returns (uint256);
}

/// @notice The royalty module's fee intake, reserved to the licensing module.
interface IRoyaltyModuleFees {
    function payLicenseMintingFee(address receiverIpId, address payerAddress, address token, uint256 amount) external;
}
