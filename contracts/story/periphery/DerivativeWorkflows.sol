// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

import {ICoreMetadataSetAll, IIPAssetRegistryLookup, ILicensingModuleCore} from "../StoryInterfaces.sol";
import {IPMetadata, MakeDerivative, SignatureData} from "../StoryTypes.sol";
import {WorkflowBase} from "./WorkflowBase.sol";

/// @title DerivativeWorkflows — register an IP and make it a derivative in one call.
/// @notice With parent terms (`...MakeDerivative`): the parents' minting fees are pulled from the caller (approve
///         this workflow for the currency) and paid through the RoyaltyModule. With license tokens
///         (`...WithLicenseTokens`): the caller's tokens are moved here (approve them) and burned by the
///         registration. `mintAndRegister...` mint from a collection; `registerIp...` take an NFT the caller owns
///         and the owner's signature granting metadata and the derivative registration.
contract DerivativeWorkflows is WorkflowBase {
    address public immutable ROYALTY_MODULE;
    address public immutable LICENSE_TOKEN;

    error DerivativeWorkflows__EmptyLicenseTokens();
    error DerivativeWorkflows__CallerAndNotTokenOwner(uint256 tokenId, address caller, address actualTokenOwner);

    constructor(
        address accessController,
        address coreMetadataModule,
        address ipAssetRegistry,
        address licenseRegistry,
        address licensingModule,
        address pilTemplate,
        address royaltyModule,
        address licenseToken
    ) WorkflowBase(accessController, coreMetadataModule, ipAssetRegistry, licenseRegistry, licensingModule, pilTemplate) {
        ROYALTY_MODULE = royaltyModule;
        LICENSE_TOKEN = licenseToken;
    }

    function mintAndRegisterIpAndMakeDerivative(
        address spgNftContract,
        MakeDerivative calldata derivData,
        IPMetadata calldata ipMetadata,
        address recipient,
        bool allowDuplicates
    ) external onlyMintAuthorized(spgNftContract) returns (address ipId, uint256 tokenId) {
        (ipId, tokenId) = _mintAndRegister(spgNftContract, ipMetadata, allowDuplicates);
        _collectFeesAndMakeDerivative(ipId, ROYALTY_MODULE, derivData);
        _deliver(spgNftContract, recipient, tokenId);
    }

    function registerIpAndMakeDerivative(
        address nftContract,
        uint256 tokenId,
        MakeDerivative calldata derivData,
        IPMetadata calldata ipMetadata,
        SignatureData calldata sigMetadataAndRegister
    ) external returns (address ipId) {
        _requireSigner(sigMetadataAndRegister.signer);
        ipId = IIPAssetRegistryLookup(IP_ASSET_REGISTRY).register(block.chainid, nftContract, tokenId);
        _grantMetadataAnd(ipId, ILicensingModuleCore.registerDerivative.selector, sigMetadataAndRegister);
        _setMetadata(ipId, ipMetadata);
        _collectFeesAndMakeDerivative(ipId, ROYALTY_MODULE, derivData);
    }

    function mintAndRegisterIpAndMakeDerivativeWithLicenseTokens(
        address spgNftContract,
        uint256[] calldata licenseTokenIds,
        bytes calldata royaltyContext,
        uint32 maxRts,
        IPMetadata calldata ipMetadata,
        address recipient,
        bool allowDuplicates
    ) external onlyMintAuthorized(spgNftContract) returns (address ipId, uint256 tokenId) {
        _collectLicenseTokens(licenseTokenIds);
        (ipId, tokenId) = _mintAndRegister(spgNftContract, ipMetadata, allowDuplicates);
        ILicensingModuleCore(LICENSING_MODULE).registerDerivativeWithLicenseTokens(
            ipId, licenseTokenIds, royaltyContext, maxRts
        );
        _deliver(spgNftContract, recipient, tokenId);
    }

    function registerIpAndMakeDerivativeWithLicenseTokens(
        address nftContract,
        uint256 tokenId,
        uint256[] calldata licenseTokenIds,
        bytes calldata royaltyContext,
        uint32 maxRts,
        IPMetadata calldata ipMetadata,
        SignatureData calldata sigMetadataAndRegister
    ) external returns (address ipId) {
        _requireSigner(sigMetadataAndRegister.signer);
        _collectLicenseTokens(licenseTokenIds);
        ipId = IIPAssetRegistryLookup(IP_ASSET_REGISTRY).register(block.chainid, nftContract, tokenId);
        _grantMetadataAnd(ipId, ILicensingModuleCore.registerDerivativeWithLicenseTokens.selector, sigMetadataAndRegister);
        _setMetadata(ipId, ipMetadata);
        ILicensingModuleCore(LICENSING_MODULE).registerDerivativeWithLicenseTokens(
            ipId, licenseTokenIds, royaltyContext, maxRts
        );
    }

    function _grantMetadataAnd(address ipId, bytes4 licensingSelector, SignatureData calldata sig) private {
        address[] memory modules = new address[](2);
        bytes4[] memory selectors = new bytes4[](2);
        (modules[0], selectors[0]) = (CORE_METADATA_MODULE, ICoreMetadataSetAll.setAll.selector);
        (modules[1], selectors[1]) = (LICENSING_MODULE, licensingSelector);
        _grantWithSig(ipId, modules, selectors, sig);
    }

    function _collectLicenseTokens(uint256[] calldata licenseTokenIds) private {
        if (licenseTokenIds.length == 0) revert DerivativeWorkflows__EmptyLicenseTokens();
        for (uint256 i = 0; i < licenseTokenIds.length; i++) {
            address holder = IERC721(LICENSE_TOKEN).ownerOf(licenseTokenIds[i]);
            if (holder == address(this)) continue;
            if (holder != msg.sender) {
                revert DerivativeWorkflows__CallerAndNotTokenOwner(licenseTokenIds[i], msg.sender, holder);
            }
            IERC721(LICENSE_TOKEN).safeTransferFrom(msg.sender, address(this), licenseTokenIds[i]);
        }
    }
}
