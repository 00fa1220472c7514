// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {PILTerms} from "./PILTerms.sol";
import {
    IIPAccountOwner,
    IIPAssetRegistryLookup,
    ILicenseRegistryWrites,
    ILicenseTokenMinter,
    IPILicenseTemplateLookup,
    IRoyaltyModuleFees
} from "./StoryInterfaces.sol";

/// @title LicensingModule — attach license terms, mint license tokens (collecting the fee), register derivatives.
/// @notice Story's entry points with Story's selectors and events:
///         - `attachLicenseTerms(ipId, template, termsId)`: only the IP owner (the NFT holder) or the IP account
///           itself; anyone else gets `AccessController__PermissionDenied`.
///         - `mintLicenseTokens(licensorIpId, template, termsId, amount, receiver, royaltyContext, maxMintingFee,
///           maxRevenueShare)`: terms must be attached to the licensor (the IP owner may mint any terms); the fee is
///           `defaultMintingFee * amount` in the terms' currency, pulled from the caller by the RoyaltyModule into
///           the licensor's vault (approve the RoyaltyModule first, as on Story). `maxMintingFee` and
///           `maxRevenueShare` (0 = no limit) protect the caller from terms it did not expect.
///         - `registerDerivative(...)`: the child owner links a fresh IP to parents whose terms allow derivatives,
///           paying each parent's minting fee; the parents' terms become the child's.
/// @dev No constructor state besides immutables: the runtime code can be placed at Story's address unchanged.
contract LicensingModule is ReentrancyGuard {
    address public immutable IP_ASSET_REGISTRY;
    address public immutable LICENSE_REGISTRY;
    address public immutable LICENSE_NFT;
    address public immutable ROYALTY_MODULE;

    event LicenseTermsAttached(
        address indexed caller, address indexed ipId, address licenseTemplate, uint256 licenseTermsId
    );
    event LicenseTokensMinted(
        address indexed caller,
        address indexed licensorIpId,
        address licenseTemplate,
        uint256 indexed licenseTermsId,
        uint256 amount,
        address receiver,
        uint256 startLicenseTokenId
    );
    event DerivativeRegistered(
        address indexed caller,
        address indexed childIpId,
        uint256[] licenseTokenIds,
        address[] parentIpIds,
        uint256[] licenseTermsIds,
        address licenseTemplate
    );

    error AccessController__PermissionDenied(address ipAccount, address signer, address to, bytes4 func);
    error LicensingModule__InvalidLicensorIpId(address licensorIpId);
    error LicensingModule__LicenseTemplateNotRegistered(address licenseTemplate);
    error LicensingModule__LicenseTermsNotFound(address licenseTemplate, uint256 licenseTermsId);
    error LicensingModule__LicenseTermsNotAttached(address ipId, address licenseTemplate, uint256 licenseTermsId);
    error LicensingModule__MintAmountZero();
    error LicensingModule__ReceiverZeroAddress();
    error LicensingModule__MintingFeeExceedMaxMintingFee(uint256 mintingFee, uint256 maxMintingFee);
    error LicensingModule__ExceedMaxRevenueShare(uint32 revenueShare, uint32 maxRevenueShare);
    error LicensingModule__NoParentIp();
    error LicensingModule__LicenseTermsLengthMismatch(uint256 parentIpIdsLength, uint256 licenseTermsIdsLength);
    error LicensingModule__DerivativeIsParent(address ipId);
    error LicensingModule__DerivativeAlreadyRegistered(address childIpId);
    error LicensingModule__DerivativeIpAlreadyHasLicense(address childIpId);
    error LicensingModule__DerivativesNotAllowed(address parentIpId, uint256 licenseTermsId);
    error LicensingModule__NoLicenseToken();
    error LicensingModule__LicenseTokensWithDifferentTemplates(uint256 licenseTokenId);

    constructor(address ipAssetRegistry, address licenseRegistry, address licenseToken, address royaltyModule) {
        IP_ASSET_REGISTRY = ipAssetRegistry;
        LICENSE_REGISTRY = licenseRegistry;
        LICENSE_NFT = licenseToken;
        ROYALTY_MODULE = royaltyModule;
    }

    /// @notice Story's module name.
    function name() external pure returns (string memory) {
        return "LICENSING_MODULE";
    }

    function attachLicenseTerms(address ipId, address licenseTemplate, uint256 licenseTermsId) external {
        _requireRegistered(ipId);
        _requireIpOwner(ipId, this.attachLicenseTerms.selector);
        _requireTerms(licenseTemplate, licenseTermsId);
        ILicenseRegistryWrites(LICENSE_REGISTRY).attachLicenseTermsToIp(ipId, licenseTemplate, licenseTermsId);
        emit LicenseTermsAttached(msg.sender, ipId, licenseTemplate, licenseTermsId);
    }

    function mintLicenseTokens(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address receiver,
        bytes calldata royaltyContext,
        uint256 maxMintingFee,
        uint32 maxRevenueShare
    ) external nonReentrant returns (uint256 startLicenseTokenId) {
        royaltyContext; // accepted for ABI compatibility; this suite has no royalty policies to pass it to
        if (amount == 0) revert LicensingModule__MintAmountZero();
        if (receiver == address(0)) revert LicensingModule__ReceiverZeroAddress();
        _requireRegistered(licensorIpId);
        PILTerms memory terms = _requireTerms(licenseTemplate, licenseTermsId);
        bool attached = ILicenseRegistryWrites(LICENSE_REGISTRY).hasIpAttachedLicenseTerms(
            licensorIpId, licenseTemplate, licenseTermsId
        );
        if (!attached && IIPAccountOwner(licensorIpId).owner() != msg.sender) {
            revert LicensingModule__LicenseTermsNotAttached(licensorIpId, licenseTemplate, licenseTermsId);
        }
        _collectFee(licensorIpId, terms, amount, maxMintingFee, maxRevenueShare);
        startLicenseTokenId = ILicenseTokenMinter(LICENSE_NFT).mintLicenseTokens(
            licensorIpId, licenseTemplate, licenseTermsId, amount, msg.sender, receiver, terms.transferable
        );
        emit LicenseTokensMinted(
            msg.sender, licensorIpId, licenseTemplate, licenseTermsId, amount, receiver, startLicenseTokenId
        );
    }

    function registerDerivative(
        address childIpId,
        address[] calldata parentIpIds,
        uint256[] calldata licenseTermsIds,
        address licenseTemplate,
        bytes calldata royaltyContext,
        uint256 maxMintingFee,
        uint32 maxRts,
        uint32 maxRevenueShare
    ) external nonReentrant {
        royaltyContext; // accepted for ABI compatibility (no royalty policies here)
        maxRts; // royalty tokens belong to external royalty policies, which this suite does not have
        _requireRegistered(childIpId);
        _requireIpOwner(childIpId, this.registerDerivative.selector);
        if (parentIpIds.length == 0) revert LicensingModule__NoParentIp();
        if (parentIpIds.length != licenseTermsIds.length) {
            revert LicensingModule__LicenseTermsLengthMismatch(parentIpIds.length, licenseTermsIds.length);
        }
        ILicenseRegistryWrites registry = ILicenseRegistryWrites(LICENSE_REGISTRY);
        if (registry.isDerivativeIp(childIpId)) revert LicensingModule__DerivativeAlreadyRegistered(childIpId);
        if (registry.getAttachedLicenseTermsCount(childIpId) != 0) {
            revert LicensingModule__DerivativeIpAlreadyHasLicense(childIpId);
        }
        for (uint256 i = 0; i < parentIpIds.length; i++) {
            address parent = parentIpIds[i];
            if (parent == childIpId) revert LicensingModule__DerivativeIsParent(childIpId);
            _requireRegistered(parent);
            PILTerms memory terms = _requireTerms(licenseTemplate, licenseTermsIds[i]);
            if (!registry.hasIpAttachedLicenseTerms(parent, licenseTemplate, licenseTermsIds[i])) {
                revert LicensingModule__LicenseTermsNotAttached(parent, licenseTemplate, licenseTermsIds[i]);
            }
            if (!terms.derivativesAllowed) revert LicensingModule__DerivativesNotAllowed(parent, licenseTermsIds[i]);
            _collectFee(parent, terms, 1, maxMintingFee, maxRevenueShare);
        }
        registry.registerDerivativeIp(childIpId, parentIpIds, licenseTemplate, licenseTermsIds);
        emit DerivativeRegistered(
            msg.sender, childIpId, new uint256[](0), parentIpIds, licenseTermsIds, licenseTemplate
        );
    }

    /// @notice Registers `childIpId` as a derivative using license tokens the caller holds (Story's entry point);
    ///         the tokens are burned, their licensors become the parents and their terms the child's. The fees were
    ///         paid when the tokens were minted, so nothing is charged here.
    function registerDerivativeWithLicenseTokens(
        address childIpId,
        uint256[] calldata licenseTokenIds,
        bytes calldata royaltyContext,
        uint32 maxRts
    ) external nonReentrant {
        royaltyContext; // accepted for ABI compatibility (no royalty policies here)
        maxRts;
        _requireRegistered(childIpId);
        _requireIpOwner(childIpId, this.registerDerivativeWithLicenseTokens.selector);
        if (licenseTokenIds.length == 0) revert LicensingModule__NoLicenseToken();
        ILicenseRegistryWrites registry = ILicenseRegistryWrites(LICENSE_REGISTRY);
        if (registry.isDerivativeIp(childIpId)) revert LicensingModule__DerivativeAlreadyRegistered(childIpId);
        if (registry.getAttachedLicenseTermsCount(childIpId) != 0) {
            revert LicensingModule__DerivativeIpAlreadyHasLicense(childIpId);
        }
        ILicenseTokenMinter token = ILicenseTokenMinter(LICENSE_NFT);
        address[] memory parentIpIds = new address[](licenseTokenIds.length);
        uint256[] memory licenseTermsIds = new uint256[](licenseTokenIds.length);
        address licenseTemplate = token.getLicenseTemplate(licenseTokenIds[0]);
        for (uint256 i = 0; i < licenseTokenIds.length; i++) {
            if (token.getLicenseTemplate(licenseTokenIds[i]) != licenseTemplate) {
                revert LicensingModule__LicenseTokensWithDifferentTemplates(licenseTokenIds[i]);
            }
            parentIpIds[i] = token.getLicensorIpId(licenseTokenIds[i]);
            licenseTermsIds[i] = token.getLicenseTermsId(licenseTokenIds[i]);
            if (parentIpIds[i] == childIpId) revert LicensingModule__DerivativeIsParent(childIpId);
            PILTerms memory terms = _requireTerms(licenseTemplate, licenseTermsIds[i]);
            if (!terms.derivativesAllowed) {
                revert LicensingModule__DerivativesNotAllowed(parentIpIds[i], licenseTermsIds[i]);
            }
        }
        token.burnLicenseTokens(msg.sender, licenseTokenIds);
        registry.registerDerivativeIp(childIpId, parentIpIds, licenseTemplate, licenseTermsIds);
        emit DerivativeRegistered(
            msg.sender, childIpId, licenseTokenIds, parentIpIds, licenseTermsIds, licenseTemplate
        );
    }

    /// @notice The currency and amount `mintLicenseTokens` would charge (Story's six-argument view).
    function predictMintingLicenseFee(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address receiver,
        bytes calldata royaltyContext
    ) external view returns (address currencyToken, uint256 tokenAmount) {
        licensorIpId;
        receiver;
        royaltyContext;
        PILTerms memory terms = _requireTerms(licenseTemplate, licenseTermsId);
        return (terms.currency, terms.defaultMintingFee * amount);
    }

    function _collectFee(
        address licensorIpId,
        PILTerms memory terms,
        uint256 amount,
        uint256 maxMintingFee,
        uint32 maxRevenueShare
    ) private {
        if (maxRevenueShare != 0 && terms.commercialRevShare > maxRevenueShare) {
            revert LicensingModule__ExceedMaxRevenueShare(terms.commercialRevShare, maxRevenueShare);
        }
        uint256 fee = terms.defaultMintingFee * amount;
        if (maxMintingFee != 0 && fee > maxMintingFee) {
            revert LicensingModule__MintingFeeExceedMaxMintingFee(fee, maxMintingFee);
        }
        if (fee > 0) {
            IRoyaltyModuleFees(ROYALTY_MODULE).payLicenseMintingFee(licensorIpId, msg.sender, terms.currency, fee);
        }
    }

    function _requireRegistered(address ipId) private view {
        if (!IIPAssetRegistryLookup(IP_ASSET_REGISTRY).isRegistered(ipId)) {
            revert LicensingModule__InvalidLicensorIpId(ipId);
        }
    }

    function _requireIpOwner(address ipId, bytes4 func) private view {
        if (msg.sender != ipId && msg.sender != IIPAccountOwner(ipId).owner()) {
            revert AccessController__PermissionDenied(ipId, msg.sender, address(this), func);
        }
    }

    function _requireTerms(address licenseTemplate, uint256 licenseTermsId) private view returns (PILTerms memory) {
        if (!ILicenseRegistryWrites(LICENSE_REGISTRY).isRegisteredLicenseTemplate(licenseTemplate)) {
            revert LicensingModule__LicenseTemplateNotRegistered(licenseTemplate);
        }
        if (!IPILicenseTemplateLookup(licenseTemplate).exists(licenseTermsId)) {
            revert LicensingModule__LicenseTermsNotFound(licenseTemplate, licenseTermsId);
        }
        return IPILicenseTemplateLookup(licenseTemplate).getLicenseTerms(licenseTermsId);
    }
}
