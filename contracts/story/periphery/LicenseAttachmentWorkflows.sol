// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICoreMetadataSetAll, IIPAssetRegistryLookup, ILicensingModuleCore} from "../StoryInterfaces.sol";
import {IPMetadata, LicenseTermsData, SignatureData} from "../StoryTypes.sol";
import {WorkflowBase} from "./WorkflowBase.sol";

/// @title LicenseAttachmentWorkflows — register PIL terms and attach them (with licensing configs) in one call.
/// @notice `registerPILTermsAndAttach` for an existing IP (the owner's signature grants attach and configure),
///         `registerIpAndAttachPILTerms` for an NFT the caller owns (signature grants metadata, attach, configure),
///         `mintAndRegisterIpAndAttachPILTerms` from a collection; the default-terms variants attach the
///         registry's default terms. Terms already attached are not an error.
contract LicenseAttachmentWorkflows is WorkflowBase {
    error LicenseAttachmentWorkflows__NoLicenseTermsData();

    constructor(
        address accessController,
        address coreMetadataModule,
        address ipAssetRegistry,
        address licenseRegistry,
        address licensingModule,
        address pilTemplate
    ) WorkflowBase(accessController, coreMetadataModule, ipAssetRegistry, licenseRegistry, licensingModule, pilTemplate) {}

    function registerPILTermsAndAttach(
        address ipId,
        LicenseTermsData[] calldata licenseTermsData,
        SignatureData calldata sigAttachAndConfig
    ) external returns (uint256[] memory licenseTermsIds) {
        if (licenseTermsData.length == 0) revert LicenseAttachmentWorkflows__NoLicenseTermsData();
        _requireSigner(sigAttachAndConfig.signer);
        address[] memory modules = new address[](2);
        bytes4[] memory selectors = new bytes4[](2);
        (modules[0], selectors[0]) = (LICENSING_MODULE, ILicensingModuleCore.attachLicenseTerms.selector);
        (modules[1], selectors[1]) = (LICENSING_MODULE, ILicensingModuleCore.setLicensingConfig.selector);
        _grantWithSig(ipId, modules, selectors, sigAttachAndConfig);
        licenseTermsIds = _registerTermsAndAttach(ipId, licenseTermsData);
    }

    function mintAndRegisterIpAndAttachPILTerms(
        address spgNftContract,
        address recipient,
        IPMetadata calldata ipMetadata,
        LicenseTermsData[] calldata licenseTermsData,
        bool allowDuplicates
    )
        external
        onlyMintAuthorized(spgNftContract)
        returns (address ipId, uint256 tokenId, uint256[] memory licenseTermsIds)
    {
        if (licenseTermsData.length == 0) revert LicenseAttachmentWorkflows__NoLicenseTermsData();
        (ipId, tokenId) = _mintAndRegister(spgNftContract, ipMetadata, allowDuplicates);
        licenseTermsIds = _registerTermsAndAttach(ipId, licenseTermsData);
        _deliver(spgNftContract, recipient, tokenId);
    }

    function registerIpAndAttachPILTerms(
        address nftContract,
        uint256 tokenId,
        IPMetadata calldata ipMetadata,
        LicenseTermsData[] calldata licenseTermsData,
        SignatureData calldata sigMetadataAndAttachAndConfig
    ) external returns (address ipId, uint256[] memory licenseTermsIds) {
        if (licenseTermsData.length == 0) revert LicenseAttachmentWorkflows__NoLicenseTermsData();
        _requireSigner(sigMetadataAndAttachAndConfig.signer);
        ipId = IIPAssetRegistryLookup(IP_ASSET_REGISTRY).register(block.chainid, nftContract, tokenId);
        address[] memory modules = new address[](3);
        bytes4[] memory selectors = new bytes4[](3);
        (modules[0], selectors[0]) = (CORE_METADATA_MODULE, ICoreMetadataSetAll.setAll.selector);
        (modules[1], selectors[1]) = (LICENSING_MODULE, ILicensingModuleCore.attachLicenseTerms.selector);
        (modules[2], selectors[2]) = (LICENSING_MODULE, ILicensingModuleCore.setLicensingConfig.selector);
        _grantWithSig(ipId, modules, selectors, sigMetadataAndAttachAndConfig);
        _setMetadata(ipId, ipMetadata);
        licenseTermsIds = _registerTermsAndAttach(ipId, licenseTermsData);
    }

    function mintAndRegisterIpAndAttachDefaultTerms(
        address spgNftContract,
        address recipient,
        IPMetadata calldata ipMetadata,
        bool allowDuplicates
    ) external onlyMintAuthorized(spgNftContract) returns (address ipId, uint256 tokenId) {
        (ipId, tokenId) = _mintAndRegister(spgNftContract, ipMetadata, allowDuplicates);
        ILicensingModuleCore(LICENSING_MODULE).attachDefaultLicenseTerms(ipId);
        _deliver(spgNftContract, recipient, tokenId);
    }

    function registerIpAndAttachDefaultTerms(
        address nftContract,
        uint256 tokenId,
        IPMetadata calldata ipMetadata,
        SignatureData calldata sigMetadataAndDefaultTerms
    ) external returns (address ipId) {
        _requireSigner(sigMetadataAndDefaultTerms.signer);
        ipId = IIPAssetRegistryLookup(IP_ASSET_REGISTRY).register(block.chainid, nftContract, tokenId);
        address[] memory modules = new address[](2);
        bytes4[] memory selectors = new bytes4[](2);
        (modules[0], selectors[0]) = (CORE_METADATA_MODULE, ICoreMetadataSetAll.setAll.selector);
        (modules[1], selectors[1]) = (LICENSING_MODULE, ILicensingModuleCore.attachDefaultLicenseTerms.selector);
        _grantWithSig(ipId, modules, selectors, sigMetadataAndDefaultTerms);
        _setMetadata(ipId, ipMetadata);
        ILicensingModuleCore(LICENSING_MODULE).attachDefaultLicenseTerms(ipId);
    }
}
