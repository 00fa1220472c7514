// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PILTerms} from "./PILTerms.sol";

/// @title PILicenseTemplate — registry of Programmable IP License terms, ABI-compatible with Story's template.
/// @notice `registerLicenseTerms(PILTerms)` deduplicates by the keccak256 of the ABI-encoded terms: registering
///         identical terms again returns the existing id and emits nothing. Ids start at 1 (0 means "none").
///         Terms are validated the way Story's PIL documents them (non-commercial terms carry no revenue share,
///         no attribution, no ceiling; terms without derivatives carry no derivative options; a minting fee needs a
///         currency). Registration is permissionless: terms are shared, anyone may attach existing ids.
contract PILicenseTemplate {
    /// @notice 100% in `commercialRevShare` units (Story's precision).
    uint32 public constant MAX_REVENUE_SHARE = 100_000_000;

    uint256 private _count;
    mapping(uint256 licenseTermsId => PILTerms) private _terms;
    mapping(bytes32 termsHash => uint256 licenseTermsId) private _idByHash;

    event LicenseTermsRegistered(uint256 indexed licenseTermsId, address indexed licenseTemplate, bytes licenseTerms);

    error PILicenseTemplate__CommercialDisabled_CantAddAttribution();
    error PILicenseTemplate__CommercialDisabled_CantAddCommercializers();
    error PILicenseTemplate__CommercialDisabled_CantAddRevShare();
    error PILicenseTemplate__CommercialDisabled_CantAddRevCeiling();
    error PILicenseTemplate__CommercialDisabled_CantAddDerivRevCeiling();
    error PILicenseTemplate__CommercialDisabled_CantAddRoyaltyPolicy();
    error PILicenseTemplate__DerivativesDisabled_CantAddAttribution();
    error PILicenseTemplate__DerivativesDisabled_CantAddApproval();
    error PILicenseTemplate__DerivativesDisabled_CantAddReciprocal();
    error PILicenseTemplate__DerivativesDisabled_CantAddDerivativeRevCeiling();
    error PILicenseTemplate__CurrencyTokenNotSet();
    error PILicenseTemplate__RevShareTooHigh(uint32 commercialRevShare);
    error PILicenseTemplate__LicenseTermsNotFound(uint256 licenseTermsId);

    /// @notice Registers terms (or finds identical ones) and returns their id.
    function registerLicenseTerms(PILTerms calldata terms) external returns (uint256 selectedLicenseTermsId) {
        _validate(terms);
        bytes memory encoded = abi.encode(terms);
        bytes32 termsHash = keccak256(encoded);
        selectedLicenseTermsId = _idByHash[termsHash];
        if (selectedLicenseTermsId != 0) return selectedLicenseTermsId;
        selectedLicenseTermsId = ++_count;
        _idByHash[termsHash] = selectedLicenseTermsId;
        _terms[selectedLicenseTermsId] = terms;
        emit LicenseTermsRegistered(selectedLicenseTermsId, address(this), encoded);
    }

    /// @notice The id of identical registered terms, 0 when none.
    function getLicenseTermsId(PILTerms calldata terms) external view returns (uint256 selectedLicenseTermsId) {
        return _idByHash[keccak256(abi.encode(terms))];
    }

    /// @notice The registered terms with this id.
    function getLicenseTerms(uint256 selectedLicenseTermsId) external view returns (PILTerms memory terms) {
        if (!exists(selectedLicenseTermsId)) revert PILicenseTemplate__LicenseTermsNotFound(selectedLicenseTermsId);
        return _terms[selectedLicenseTermsId];
    }

    function exists(uint256 licenseTermsId) public view returns (bool) {
        return licenseTermsId != 0 && licenseTermsId <= _count;
    }

    function totalRegisteredLicenseTerms() external view returns (uint256) {
        return _count;
    }

    /// @notice The template's name, as Story's template reports it.
    function name() external pure returns (string memory) {
        return "pil";
    }

    /// @notice Story's ILicenseTemplate view: royalty policy, revenue share, minting fee and currency of the terms.
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

    function getLicenseTermsURI(uint256 licenseTermsId) external view returns (string memory) {
        return _terms[licenseTermsId].uri;
    }

    function _validate(PILTerms calldata terms) private pure {
        if (terms.commercialRevShare > MAX_REVENUE_SHARE) {
            revert PILicenseTemplate__RevShareTooHigh(terms.commercialRevShare);
        }
        if (terms.defaultMintingFee > 0 && terms.currency == address(0)) {
            revert PILicenseTemplate__CurrencyTokenNotSet();
        }
        if (!terms.commercialUse) {
            if (terms.commercialAttribution) revert PILicenseTemplate__CommercialDisabled_CantAddAttribution();
            if (terms.commercializerChecker != address(0)) {
                revert PILicenseTemplate__CommercialDisabled_CantAddCommercializers();
            }
            if (terms.commercialRevShare > 0) revert PILicenseTemplate__CommercialDisabled_CantAddRevShare();
            if (terms.commercialRevCeiling > 0) revert PILicenseTemplate__CommercialDisabled_CantAddRevCeiling();
            if (terms.derivativeRevCeiling > 0) revert PILicenseTemplate__CommercialDisabled_CantAddDerivRevCeiling();
            if (terms.royaltyPolicy != address(0)) revert PILicenseTemplate__CommercialDisabled_CantAddRoyaltyPolicy();
        }
        if (!terms.derivativesAllowed) {
            if (terms.derivativesAttribution) revert PILicenseTemplate__DerivativesDisabled_CantAddAttribution();
            if (terms.derivativesApproval) revert PILicenseTemplate__DerivativesDisabled_CantAddApproval();
            if (terms.derivativesReciprocal) revert PILicenseTemplate__DerivativesDisabled_CantAddReciprocal();
            if (terms.derivativeRevCeiling > 0) {
                revert PILicenseTemplate__DerivativesDisabled_CantAddDerivativeRevCeiling();
            }
        }
    }
}
