// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {
    ICoreMetadataSetAll,
    IIPAccountExecute,
    IIPAssetRegistryLookup,
    ILicensingModuleCore,
    IRoyaltyModuleCore
} from "../StoryInterfaces.sol";
import {IPMetadata, LicenseTermsData, MakeDerivative, RoyaltyShare, SignatureData} from "../StoryTypes.sol";
import {WorkflowBase} from "./WorkflowBase.sol";

/// @title RoyaltyTokenDistributionWorkflows — register IPs with terms or as derivatives, deploy their royalty
///        vaults and hand out royalty tokens.
/// @notice A share of 100_000_000 is all of an IP's royalty tokens. `distributeRoyaltyTokens` moves shares from the
///         IP account to recipients with the owner's signature of the approval (`executeWithSig` on the IP account
///         calling the vault's `approve`); the mint-and-register variants distribute while this workflow still
///         owns the new IP.
contract RoyaltyTokenDistributionWorkflows is WorkflowBase {
    using SafeERC20 for IERC20;

    address public immutable ROYALTY_MODULE;

    error RoyaltyTokenDistributionWorkflows__NoLicenseTermsData();
    error RoyaltyTokenDistributionWorkflows__RoyaltyVaultNotDeployed();
    error RoyaltyTokenDistributionWorkflows__TotalSharesExceedsIPAccountBalance(uint32 totalShares, uint32 ipAccountBalance);

    constructor(
        address accessController,
        address coreMetadataModule,
        address ipAssetRegistry,
        address licenseRegistry,
        address licensingModule,
        address pilTemplate,
        address royaltyModule
    ) WorkflowBase(accessController, coreMetadataModule, ipAssetRegistry, licenseRegistry, licensingModule, pilTemplate) {
        ROYALTY_MODULE = royaltyModule;
    }

    function mintAndRegisterIpAndAttachPILTermsAndDistributeRoyaltyTokens(
        address spgNftContract,
        address recipient,
        IPMetadata calldata ipMetadata,
        LicenseTermsData[] calldata licenseTermsData,
        RoyaltyShare[] calldata royaltyShares,
        bool allowDuplicates
    )
        external
        onlyMintAuthorized(spgNftContract)
        returns (address ipId, uint256 tokenId, uint256[] memory licenseTermsIds)
    {
        if (licenseTermsData.length == 0) revert RoyaltyTokenDistributionWorkflows__NoLicenseTermsData();
        (ipId, tokenId) = _mintAndRegister(spgNftContract, ipMetadata, allowDuplicates);
        licenseTermsIds = _registerTermsAndAttach(ipId, licenseTermsData);
        IRoyaltyModuleCore module = IRoyaltyModuleCore(ROYALTY_MODULE);
        if (module.ipRoyaltyVaults(ipId) == address(0)) module.deployVault(ipId);
        _distribute(ipId, royaltyShares, _noSignature());
        _deliver(spgNftContract, recipient, tokenId);
    }

    function mintAndRegisterIpAndMakeDerivativeAndDistributeRoyaltyTokens(
        address spgNftContract,
        address recipient,
        IPMetadata calldata ipMetadata,
        MakeDerivative calldata derivData,
        RoyaltyShare[] calldata royaltyShares,
        bool allowDuplicates
    ) external onlyMintAuthorized(spgNftContract) returns (address ipId, uint256 tokenId) {
        (ipId, tokenId) = _mintAndRegister(spgNftContract, ipMetadata, allowDuplicates);
        _collectFeesAndMakeDerivative(ipId, ROYALTY_MODULE, derivData);
        _distribute(ipId, royaltyShares, _noSignature());
        _deliver(spgNftContract, recipient, tokenId);
    }

    function registerIpAndAttachPILTermsAndDeployRoyaltyVault(
        address nftContract,
        uint256 tokenId,
        IPMetadata calldata ipMetadata,
        LicenseTermsData[] calldata licenseTermsData,
        SignatureData calldata sigMetadataAndAttachAndConfig
    ) external returns (address ipId, uint256[] memory licenseTermsIds, address ipRoyaltyVault) {
        if (licenseTermsData.length == 0) revert RoyaltyTokenDistributionWorkflows__NoLicenseTermsData();
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
        IRoyaltyModuleCore module = IRoyaltyModuleCore(ROYALTY_MODULE);
        ipRoyaltyVault = module.ipRoyaltyVaults(ipId);
        if (ipRoyaltyVault == address(0)) ipRoyaltyVault = module.deployVault(ipId);
    }

    function registerIpAndMakeDerivativeAndDeployRoyaltyVault(
        address nftContract,
        uint256 tokenId,
        IPMetadata calldata ipMetadata,
        MakeDerivative calldata derivData,
        SignatureData calldata sigMetadataAndRegister
    ) external returns (address ipId, address ipRoyaltyVault) {
        _requireSigner(sigMetadataAndRegister.signer);
        ipId = IIPAssetRegistryLookup(IP_ASSET_REGISTRY).register(block.chainid, nftContract, tokenId);
        address[] memory modules = new address[](2);
        bytes4[] memory selectors = new bytes4[](2);
        (modules[0], selectors[0]) = (CORE_METADATA_MODULE, ICoreMetadataSetAll.setAll.selector);
        (modules[1], selectors[1]) = (LICENSING_MODULE, ILicensingModuleCore.registerDerivative.selector);
        _grantWithSig(ipId, modules, selectors, sigMetadataAndRegister);
        _setMetadata(ipId, ipMetadata);
        _collectFeesAndMakeDerivative(ipId, ROYALTY_MODULE, derivData);
        ipRoyaltyVault = IRoyaltyModuleCore(ROYALTY_MODULE).ipRoyaltyVaults(ipId);
    }

    function distributeRoyaltyTokens(
        address ipId,
        RoyaltyShare[] calldata royaltyShares,
        SignatureData calldata sigApproveRoyaltyTokens
    ) external {
        _requireSigner(sigApproveRoyaltyTokens.signer);
        _distribute(ipId, royaltyShares, sigApproveRoyaltyTokens);
    }

    function _distribute(address ipId, RoyaltyShare[] calldata royaltyShares, SignatureData memory sig) private {
        address vault = IRoyaltyModuleCore(ROYALTY_MODULE).ipRoyaltyVaults(ipId);
        if (vault == address(0)) revert RoyaltyTokenDistributionWorkflows__RoyaltyVaultNotDeployed();
        uint32 total = 0;
        for (uint256 i = 0; i < royaltyShares.length; i++) {
            total += royaltyShares[i].percentage;
        }
        uint32 balance = uint32(IERC20(vault).balanceOf(ipId));
        if (total > balance) revert RoyaltyTokenDistributionWorkflows__TotalSharesExceedsIPAccountBalance(total, balance);
        bytes memory approve = abi.encodeCall(IERC20.approve, (address(this), uint256(total)));
        if (sig.signature.length > 0) {
            IIPAccountExecute(ipId).executeWithSig(vault, 0, approve, sig.signer, sig.deadline, sig.signature);
        } else {
            IIPAccountExecute(ipId).execute(vault, 0, approve);
        }
        for (uint256 i = 0; i < royaltyShares.length; i++) {
            IERC20(vault).safeTransferFrom(ipId, royaltyShares[i].recipient, royaltyShares[i].percentage);
        }
    }

    function _noSignature() private pure returns (SignatureData memory) {
        return SignatureData(address(0), 0, "");
    }
}
