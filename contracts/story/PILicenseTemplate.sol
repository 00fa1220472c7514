// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {AccessControlled} from "./AccessControlled.sol";
import {PILTerms} from "./PILTerms.sol";
import {ILicenseRegistryCore, IRoyaltyModuleCore} from "./StoryInterfaces.sol";
import {STORY_MAX_PERCENT} from "./StoryTypes.sol";

/// @title PILicenseTemplate — registry of Programmable IP License terms with Story's rules and selectors.
/// @notice `registerLicenseTerms(PILTerms)` deduplicates by the keccak256 of the ABI-encoded terms (identical terms
///         return the existing id and emit nothing; ids start at 1). Terms are validated as Story validates them:
///         the royalty policy must be whitelisted in the RoyaltyModule and the currency a whitelisted royalty token;
///         a royalty policy needs a currency and a minting fee needs a royalty policy; commercial terms need a
///         royalty policy; non-commercial terms carry no revenue share, attribution, checker, ceiling or policy;
///         terms without derivatives carry no derivative options. The verify* views are the template's rules for
///         minting licenses (a derivative licensor needs reciprocal terms) and for registering derivatives
///         (derivatives allowed, reciprocal for derivatives of derivatives, the licensor's approval when the terms
///         require it, compatible terms across parents). Commercializer checkers are not supported (terms naming
///         one are refused with `PILicenseTemplate__CommercializerCheckerDoesNotSupportHook`).
contract PILicenseTemplate is AccessControlled, ReentrancyGuard {
    address public immutable LICENSE_REGISTRY;
    address public immutable ROYALTY_MODULE;

    uint256 private _count;
    mapping(uint256 licenseTermsId => PILTerms) private _terms;
    mapping(bytes32 termsHash => uint256 licenseTermsId) private _idByHash;
    mapping(bytes32 key => bool approved) private _approvals;

    event LicenseTermsRegistered(uint256 indexed licenseTermsId, address indexed licenseTemplate, bytes licenseTerms);
    event DerivativeApproved(
        uint256 indexed licenseTermsId, address indexed ipId, address indexed caller, bool approved
    );

    error PILicenseTemplate__RoyaltyPolicyNotWhitelisted();
    error PILicenseTemplate__CurrencyTokenNotWhitelisted();
    error PILicenseTemplate__RoyaltyPolicyRequiresCurrencyToken();
    error PILicenseTemplate__MintingFeeRequiresRoyaltyPolicy();
    error PILicenseTemplate__CommercialDisabled_CantAddAttribution();
    error PILicenseTemplate__CommercialDisabled_CantAddCommercializers();
    error PILicenseTemplate__CommercialDisabled_CantAddRevShare();
    error PILicenseTemplate__CommercialDisabled_CantAddRevCeiling();
    error PILicenseTemplate__CommercialDisabled_CantAddDerivativeRevCeiling();
    error PILicenseTemplate__CommercialDisabled_CantAddRoyaltyPolicy();
    error PILicenseTemplate__CommercialEnabled_RoyaltyPolicyRequired();
    error PILicenseTemplate__CommercializerCheckerDoesNotSupportHook(address checker);
    error PILicenseTemplate__DerivativesDisabled_CantAddAttribution();
    error PILicenseTemplate__DerivativesDisabled_CantAddApproval();
    error PILicenseTemplate__DerivativesDisabled_CantAddReciprocal();
    error PILicenseTemplate__DerivativesDisabled_CantAddDerivativeRevCeiling();
    error PILicenseTemplate__RevShareTooHigh(uint32 commercialRevShare);

    constructor(address accessController, address ipAssetRegistry, address licenseRegistry, address royaltyModule)
        AccessControlled(accessController, ipAssetRegistry)
    {
        LICENSE_REGISTRY = licenseRegistry;
        ROYALTY_MODULE = royaltyModule;
    }

    /// @notice Registers terms (or finds identical ones) and returns their id.
    function registerLicenseTerms(PILTerms calldata terms) external nonReentrant returns (uint256 id) {
        _validate(terms);
        bytes memory encoded = abi.encode(terms);
        bytes32 termsHash = keccak256(encoded);
        id = _idByHash[termsHash];
        if (id != 0) return id;
        id = ++_count;
        _idByHash[termsHash] = id;
        _terms[id] = terms;
        emit LicenseTermsRegistered(id, address(this), encoded);
    }

    /// @notice The licensor (or an operator it allowed) approves or revokes one derivative of `parentIpId`.
    function setApproval(address parentIpId, uint256 licenseTermsId, address childIpId, bool approved)
        external
        verifyPermission(parentIpId)
    {
        _approvals[_approvalKey(parentIpId, licenseTermsId, childIpId)] = approved;
        emit DerivativeApproved(licenseTermsId, parentIpId, msg.sender, approved);
    }

    function isDerivativeApproved(address parentIpId, uint256 licenseTermsId, address childIpId)
        public
        view
        returns (bool)
    {
        return _approvals[_approvalKey(parentIpId, licenseTermsId, childIpId)];
    }

    // --- views ------------------------------------------------------------------------------------------------------
    function name() external pure returns (string memory) {
        return "pil";
    }

    function getMetadataURI() external pure returns (string memory) {
        return "https://github.com/storyprotocol/protocol-core/blob/main/PIL_Beta_Final_2024_02.pdf";
    }

    function exists(uint256 licenseTermsId) public view returns (bool) {
        return licenseTermsId != 0 && licenseTermsId <= _count;
    }

    function totalRegisteredLicenseTerms() external view returns (uint256) {
        return _count;
    }

    function getLicenseTermsId(PILTerms calldata terms) external view returns (uint256 selectedLicenseTermsId) {
        return _idByHash[keccak256(abi.encode(terms))];
    }

    /// @notice The terms with this id (all-zero terms for an unknown id, as on Story).
    function getLicenseTerms(uint256 selectedLicenseTermsId) external view returns (PILTerms memory terms) {
        return _terms[selectedLicenseTermsId];
    }

    function getLicenseTermsURI(uint256 licenseTermsId) external view returns (string memory) {
        return _terms[licenseTermsId].uri;
    }

    function getRoyaltyPolicy(uint256 licenseTermsId)
        external
        view
        returns (address royaltyPolicy, uint32 royaltyPercent, uint256 mintingFee, address currency)
    {
        PILTerms storage terms = _terms[licenseTermsId];
        return (terms.royaltyPolicy, terms.commercialRevShare, terms.defaultMintingFee, terms.currency);
    }

    function isLicenseTransferable(uint256 licenseTermsId) external view returns (bool) {
        return _terms[licenseTermsId].transferable;
    }

    function allowDerivativeRegistration(uint256 licenseTermsId) external view returns (bool) {
        return _terms[licenseTermsId].derivativesAllowed;
    }

    function canOverrideRoyaltyPercent(uint256 licenseTermsId, uint32 newRoyaltyPercent) external view returns (bool) {
        if (licenseTermsId == 0) return false;
        PILTerms storage terms = _terms[licenseTermsId];
        return terms.commercialUse && (newRoyaltyPercent == 0 || newRoyaltyPercent >= terms.commercialRevShare);
    }

    /// @notice Groups are not part of this suite; the rule is Story's (no approval needed, a group-aware policy).
    function canAttachToGroupIp(uint256 licenseTermsId) external view returns (bool) {
        PILTerms storage terms = _terms[licenseTermsId];
        return !terms.derivativesApproval && terms.royaltyPolicy == address(0);
    }

    function getExpireTime(uint256 licenseTermsId, uint256 start) public view returns (uint256) {
        uint256 expiration = _terms[licenseTermsId].expiration;
        return expiration == 0 ? 0 : start + expiration;
    }

    /// @notice The earliest non-zero expiry among the terms, counted from `start` (0 = never).
    function getEarlierExpireTime(uint256[] calldata licenseTermsIds, uint256 start) external view returns (uint256) {
        uint256 earliest = 0;
        for (uint256 i = 0; i < licenseTermsIds.length; i++) {
            uint256 expiry = getExpireTime(licenseTermsIds[i], start);
            if (expiry != 0 && (earliest == 0 || expiry < earliest)) earliest = expiry;
        }
        return earliest;
    }

    function verifyMintLicenseToken(uint256 licenseTermsId, address, address licensorIpId, uint256)
        external
        view
        returns (bool)
    {
        if (!exists(licenseTermsId)) return false;
        ILicenseRegistryCore registry = ILicenseRegistryCore(LICENSE_REGISTRY);
        if (registry.isDerivativeIp(licensorIpId)) {
            if (!registry.hasIpAttachedLicenseTerms(licensorIpId, address(this), licenseTermsId)) return false;
            if (!_terms[licenseTermsId].derivativesReciprocal) return false;
        }
        return true;
    }

    function verifyRegisterDerivative(address childIpId, address parentIpId, uint256 licenseTermsId, address)
        public
        view
        returns (bool)
    {
        PILTerms storage terms = _terms[licenseTermsId];
        if (!terms.derivativesAllowed) return false;
        if (ILicenseRegistryCore(LICENSE_REGISTRY).isDerivativeIp(parentIpId) && !terms.derivativesReciprocal) {
            return false;
        }
        if (terms.derivativesApproval && !isDerivativeApproved(parentIpId, licenseTermsId, childIpId)) return false;
        return true;
    }

    function verifyCompatibleLicenses(uint256[] calldata licenseTermsIds) public view returns (bool) {
        if (licenseTermsIds.length < 2) return true;
        bool commercial = _terms[licenseTermsIds[0]].commercialUse;
        bool reciprocal = _terms[licenseTermsIds[0]].derivativesReciprocal;
        for (uint256 i = 1; i < licenseTermsIds.length; i++) {
            PILTerms storage terms = _terms[licenseTermsIds[i]];
            if (terms.commercialUse != commercial || terms.derivativesReciprocal != reciprocal) return false;
            if (reciprocal && licenseTermsIds[i] != licenseTermsIds[0]) return false;
        }
        return true;
    }

    function verifyRegisterDerivativeForAllParents(
        address childIpId,
        address[] calldata parentIpIds,
        uint256[] calldata licenseTermsIds,
        address caller
    ) external view returns (bool) {
        if (!verifyCompatibleLicenses(licenseTermsIds)) return false;
        for (uint256 i = 0; i < licenseTermsIds.length; i++) {
            if (!verifyRegisterDerivative(childIpId, parentIpIds[i], licenseTermsIds[i], caller)) return false;
        }
        return true;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7;
    }

    // --- validation -------------------------------------------------------------------------------------------------
    function _validate(PILTerms calldata terms) private view {
        IRoyaltyModuleCore royalty = IRoyaltyModuleCore(ROYALTY_MODULE);
        if (
            terms.royaltyPolicy != address(0) && !royalty.isWhitelistedRoyaltyPolicy(terms.royaltyPolicy)
                && !royalty.isRegisteredExternalRoyaltyPolicy(terms.royaltyPolicy)
        ) revert PILicenseTemplate__RoyaltyPolicyNotWhitelisted();
        if (terms.currency != address(0) && !royalty.isWhitelistedRoyaltyToken(terms.currency)) {
            revert PILicenseTemplate__CurrencyTokenNotWhitelisted();
        }
        if (terms.royaltyPolicy != address(0) && terms.currency == address(0)) {
            revert PILicenseTemplate__RoyaltyPolicyRequiresCurrencyToken();
        }
        if (terms.defaultMintingFee > 0 && terms.royaltyPolicy == address(0)) {
            revert PILicenseTemplate__MintingFeeRequiresRoyaltyPolicy();
        }
        if (terms.commercialRevShare > STORY_MAX_PERCENT) revert PILicenseTemplate__RevShareTooHigh(terms.commercialRevShare);
        _validateCommercialUse(terms);
        _validateDerivatives(terms);
    }

    function _validateCommercialUse(PILTerms calldata terms) private pure {
        if (!terms.commercialUse) {
            if (terms.commercialAttribution) revert PILicenseTemplate__CommercialDisabled_CantAddAttribution();
            if (terms.commercializerChecker != address(0)) {
                revert PILicenseTemplate__CommercialDisabled_CantAddCommercializers();
            }
            if (terms.commercialRevShare > 0) revert PILicenseTemplate__CommercialDisabled_CantAddRevShare();
            if (terms.commercialRevCeiling > 0) revert PILicenseTemplate__CommercialDisabled_CantAddRevCeiling();
            if (terms.derivativeRevCeiling > 0) {
                revert PILicenseTemplate__CommercialDisabled_CantAddDerivativeRevCeiling();
            }
            if (terms.royaltyPolicy != address(0)) revert PILicenseTemplate__CommercialDisabled_CantAddRoyaltyPolicy();
        } else {
            if (terms.royaltyPolicy == address(0)) revert PILicenseTemplate__CommercialEnabled_RoyaltyPolicyRequired();
            if (terms.commercializerChecker != address(0)) {
                revert PILicenseTemplate__CommercializerCheckerDoesNotSupportHook(terms.commercializerChecker);
            }
        }
    }

    function _validateDerivatives(PILTerms calldata terms) private pure {
        if (terms.derivativesAllowed) return;
        if (terms.derivativesAttribution) revert PILicenseTemplate__DerivativesDisabled_CantAddAttribution();
        if (terms.derivativesApproval) revert PILicenseTemplate__DerivativesDisabled_CantAddApproval();
        if (terms.derivativesReciprocal) revert PILicenseTemplate__DerivativesDisabled_CantAddReciprocal();
        if (terms.derivativeRevCeiling > 0) revert PILicenseTemplate__DerivativesDisabled_CantAddDerivativeRevCeiling();
    }

    function _approvalKey(address parentIpId, uint256 licenseTermsId, address childIpId)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(parentIpId, licenseTermsId, childIpId));
    }
}
