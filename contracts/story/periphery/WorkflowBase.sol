// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC721Holder} from "@openzeppelin/contracts/token/ERC721/utils/ERC721Holder.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";

import {PILTerms} from "../PILTerms.sol";
import {
    IAccessControllerChecks,
    ICoreMetadataSetAll,
    IIPAccountExecute,
    IIPAssetRegistryLookup,
    ILicenseTemplateCore,
    ILicensingModuleCore,
    ISPGNFTPeriphery
} from "../StoryInterfaces.sol";
import {
    AccessPermission,
    IPMetadata,
    LicenseTermsData,
    LicensingConfig,
    MakeDerivative,
    Permission,
    SignatureData
} from "../StoryTypes.sol";

/// @title WorkflowBase — what Story's periphery workflows share: wiring, minting through SPG collections,
///        one-transaction permissions obtained with the IP owner's signature, metadata, terms and fees.
/// @notice Workflows act in two ways. For a collection they mint to themselves (they then own the IP while they
///         register it, set its metadata and terms) and hand the NFT to the recipient at the end. For an NFT the
///         caller already owns they take the owner's EIP-712 signature of an `AccessController` call granting this
///         workflow transient permissions (`executeWithSig` on the new IP account) and use them in the same
///         transaction. `multicall` batches several calls with the caller preserved.
abstract contract WorkflowBase is Multicall, ERC721Holder {
    using SafeERC20 for IERC20;

    address public immutable ACCESS_CONTROLLER;
    address public immutable CORE_METADATA_MODULE;
    address public immutable IP_ASSET_REGISTRY;
    address public immutable LICENSE_REGISTRY;
    address public immutable LICENSING_MODULE;
    address public immutable PIL_TEMPLATE;

    /// @dev `LicenseRegistry__LicenseTermsAlreadyAttached(address,address,uint256)`: attaching twice is not an error
    bytes4 private constant _ALREADY_ATTACHED = bytes4(keccak256("LicenseRegistry__LicenseTermsAlreadyAttached(address,address,uint256)"));

    error Workflow__CallerNotAuthorizedToMint();
    error Workflow__CallerNotSigner(address caller, address signer);

    constructor(
        address accessController,
        address coreMetadataModule,
        address ipAssetRegistry,
        address licenseRegistry,
        address licensingModule,
        address pilTemplate
    ) {
        ACCESS_CONTROLLER = accessController;
        CORE_METADATA_MODULE = coreMetadataModule;
        IP_ASSET_REGISTRY = ipAssetRegistry;
        LICENSE_REGISTRY = licenseRegistry;
        LICENSING_MODULE = licensingModule;
        PIL_TEMPLATE = pilTemplate;
    }

    modifier onlyMintAuthorized(address spgNftContract) {
        ISPGNFTPeriphery collection = ISPGNFTPeriphery(spgNftContract);
        if (!collection.hasRole(bytes32(uint256(1)), msg.sender) && !collection.publicMinting()) {
            revert Workflow__CallerNotAuthorizedToMint();
        }
        _;
    }

    function _requireSigner(address signer) internal view {
        if (msg.sender != signer) revert Workflow__CallerNotSigner(msg.sender, signer);
    }

    /// @dev Mints to this workflow (fee from the caller) and registers the IP; the caller of the workflow pays.
    function _mintAndRegister(address spgNftContract, IPMetadata calldata ipMetadata, bool allowDuplicates)
        internal
        returns (address ipId, uint256 tokenId)
    {
        tokenId = ISPGNFTPeriphery(spgNftContract).mintByPeriphery(
            address(this), msg.sender, ipMetadata.nftMetadataURI, ipMetadata.nftMetadataHash, allowDuplicates
        );
        ipId = IIPAssetRegistryLookup(IP_ASSET_REGISTRY).register(block.chainid, spgNftContract, tokenId);
        _setMetadata(ipId, ipMetadata);
    }

    function _deliver(address spgNftContract, address recipient, uint256 tokenId) internal {
        ISPGNFTPeriphery(spgNftContract).safeTransferFrom(address(this), recipient, tokenId);
    }

    function _setMetadata(address ipId, IPMetadata calldata ipMetadata) internal {
        if (
            bytes(ipMetadata.ipMetadataURI).length != 0 || ipMetadata.ipMetadataHash != bytes32(0)
                || ipMetadata.nftMetadataHash != bytes32(0)
        ) {
            ICoreMetadataSetAll(CORE_METADATA_MODULE).setAll(
                ipId, ipMetadata.ipMetadataURI, ipMetadata.ipMetadataHash, ipMetadata.nftMetadataHash
            );
        }
    }

    /// @dev Grants this workflow one-transaction permissions for `selectors` of `modules` on `ipId`, signed by the
    ///      IP's owner (`sig`); a single permission uses `setTransientPermission`, several the batch form.
    function _grantWithSig(address ipId, address[] memory modules, bytes4[] memory selectors, SignatureData calldata sig)
        internal
    {
        bytes memory data;
        if (modules.length == 1) {
            data = abi.encodeCall(
                IAccessControllerChecks.setTransientPermission,
                (ipId, address(this), modules[0], selectors[0], AccessPermission.ALLOW)
            );
        } else {
            Permission[] memory permissions = new Permission[](modules.length);
            for (uint256 i = 0; i < modules.length; i++) {
                permissions[i] = Permission(ipId, address(this), modules[i], selectors[i], AccessPermission.ALLOW);
            }
            data = abi.encodeCall(IAccessControllerChecks.setBatchTransientPermissions, (permissions));
        }
        IIPAccountExecute(ipId).executeWithSig(ACCESS_CONTROLLER, 0, data, sig.signer, sig.deadline, sig.signature);
    }

    /// @dev `setAll` of the metadata module, granted with a signature when one is given.
    function _setMetadataWithSig(address ipId, IPMetadata calldata ipMetadata, SignatureData calldata sig) internal {
        if (sig.signer != address(0) && sig.deadline != 0 && sig.signature.length != 0) {
            address[] memory modules = new address[](1);
            bytes4[] memory selectors = new bytes4[](1);
            modules[0] = CORE_METADATA_MODULE;
            selectors[0] = ICoreMetadataSetAll.setAll.selector;
            _grantWithSig(ipId, modules, selectors, sig);
        }
        _setMetadata(ipId, ipMetadata);
    }

    function _registerTermsAndAttach(address ipId, LicenseTermsData[] calldata licenseTermsData)
        internal
        returns (uint256[] memory licenseTermsIds)
    {
        licenseTermsIds = new uint256[](licenseTermsData.length);
        for (uint256 i = 0; i < licenseTermsData.length; i++) {
            uint256 termsId = ILicenseTemplateCore(PIL_TEMPLATE).registerLicenseTerms(licenseTermsData[i].terms);
            _attach(ipId, termsId);
            LicensingConfig calldata config = licenseTermsData[i].licensingConfig;
            if (config.isSet) {
                ILicensingModuleCore(LICENSING_MODULE).setLicensingConfig(ipId, PIL_TEMPLATE, termsId, config);
            }
            licenseTermsIds[i] = termsId;
        }
    }

    function _attach(address ipId, uint256 licenseTermsId) internal {
        try ILicensingModuleCore(LICENSING_MODULE).attachLicenseTerms(ipId, PIL_TEMPLATE, licenseTermsId) {}
        catch (bytes memory reason) {
            if (reason.length < 4 || bytes4(reason) != _ALREADY_ATTACHED) {
                assembly {
                    revert(add(reason, 0x20), mload(reason))
                }
            }
        }
    }

    /// @dev Pulls the parents' minting fees from the caller, lets the royalty module take them, and links.
    function _collectFeesAndMakeDerivative(address childIpId, address royaltyModule, MakeDerivative calldata derivData)
        internal
    {
        ILicenseTemplateCore template = ILicenseTemplateCore(derivData.licenseTemplate);
        (address royaltyPolicy,,, address currency) = template.getRoyaltyPolicy(derivData.licenseTermsIds[0]);
        if (royaltyPolicy != address(0)) {
            uint256 total = 0;
            for (uint256 i = 0; i < derivData.parentIpIds.length; i++) {
                (, uint256 fee) = ILicensingModuleCore(LICENSING_MODULE).predictMintingLicenseFee(
                    derivData.parentIpIds[i], derivData.licenseTemplate, derivData.licenseTermsIds[i], 1, msg.sender, ""
                );
                total += fee;
            }
            if (total != 0) {
                IERC20(currency).safeTransferFrom(msg.sender, address(this), total);
                IERC20(currency).forceApprove(royaltyModule, total);
            }
        }
        ILicensingModuleCore(LICENSING_MODULE).registerDerivative(
            childIpId,
            derivData.parentIpIds,
            derivData.licenseTermsIds,
            derivData.licenseTemplate,
            derivData.royaltyContext,
            derivData.maxMintingFee,
            derivData.maxRts,
            derivData.maxRevenueShare
        );
    }
}
