// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {IIPAssetRegistryLookup, ILicenseTemplateCore} from "./StoryInterfaces.sol";
import {StoryDeployable} from "./StoryDeployable.sol";
import {LicensingConfig} from "./StoryTypes.sol";

/// @title LicenseRegistry — license terms attached to IPs, their licensing configurations and the derivative graph.
/// @notice Story's registry semantics (v1.3): an IP uses one license template; terms are attached once each; a
///         derivative inherits its parents' terms and can attach no others
///         (`LicensingModule__DerivativesCannotAddLicenseTerms`); a derivative must be fresh (no terms, no children,
///         no parents yet); an IP expires at the earliest expiry of its parents and licenses. Per-IP licensing
///         configurations (fee override, revenue-share override, hook, disabled) are stored here and read by the
///         LicensingModule. Writes come from the LicensingModule only (LICENSING_MODULE_ROLE); templates and the
///         default terms are set by DEFAULT_ADMIN_ROLE. The graph keeps every IP's ancestor set, so ancestor
///         checks and counts need no graph precompile.
contract LicenseRegistry is AccessControl, StoryDeployable {
    using EnumerableSet for EnumerableSet.AddressSet;
    using EnumerableSet for EnumerableSet.UintSet;

    bytes32 public constant LICENSING_MODULE_ROLE = keccak256("LICENSING_MODULE_ROLE");
    uint256 public constant MAX_PARENTS = 16;
    uint256 public constant MAX_ANCESTORS = 1024;

    address public IP_ASSET_REGISTRY;

    address private _defaultLicenseTemplate;
    uint256 private _defaultLicenseTermsId;
    mapping(address licenseTemplate => bool) private _templates;
    mapping(address ipId => address licenseTemplate) private _licenseTemplates;
    mapping(address ipId => EnumerableSet.UintSet) private _attachedTerms;
    mapping(bytes32 ipLicenseHash => LicensingConfig) private _configs;
    mapping(address childIpId => EnumerableSet.AddressSet) private _parents;
    mapping(address parentIpId => EnumerableSet.AddressSet) private _children;
    mapping(address ipId => EnumerableSet.AddressSet) private _ancestors;
    mapping(address childIpId => mapping(address parentIpId => uint256 licenseTermsId)) private _parentTerms;
    mapping(address ipId => uint256 expireTime) private _expireTimes;

    event LicenseTemplateRegistered(address indexed licenseTemplate);
    event DefaultLicenseTermsSet(address licenseTemplate, uint256 licenseTermsId);
    event LicensingConfigSetForLicense(
        address indexed ipId,
        address indexed licenseTemplate,
        uint256 indexed licenseTermsId,
        LicensingConfig licensingConfig
    );
    event ExpirationTimeSet(address indexed ipId, uint256 expireTime);
    /// @notice Terms were recorded for an IP (attached, or inherited by a derivative).
    event LicenseTermsAttachedToIp(address indexed ipId, address indexed licenseTemplate, uint256 licenseTermsId);
    /// @notice A derivative was linked to its parents (the LicensingModule's DerivativeRegistered has the details).
    event DerivativeLinked(address indexed childIpId, address[] parentIpIds);

    error LicenseRegistry__UnregisteredLicenseTemplate(address licenseTemplate);
    error LicenseRegistry__ZeroLicenseTemplate();
    error LicenseRegistry__LicenseTermsNotExists(address licenseTemplate, uint256 licenseTermsId);
    error LicenseRegistry__LicenseTermsAlreadyAttached(address ipId, address licenseTemplate, uint256 licenseTermsId);
    error LicenseRegistry__UnmatchedLicenseTemplate(address ipId, address licenseTemplate, address newLicenseTemplate);
    error LicenseRegistry__IpExpired(address ipId);
    error LicenseRegistry__ParentIpExpired(address ipId);
    error LicenseRegistry__LicensorIpHasNoLicenseTerms(address ipId, address licenseTemplate, uint256 licenseTermsId);
    error LicenseRegistry__TooManyParents(address childIpId, uint256 parentsCount, uint256 maxParents);
    error LicenseRegistry__TooManyAncestors(address childIpId, uint256 ancestorsCount, uint256 maxAncestors);
    error LicenseRegistry__DerivativeAlreadyRegistered(address childIpId);
    error LicenseRegistry__DerivativeIpAlreadyHasChild(address childIpId);
    error LicenseRegistry__DerivativeIpAlreadyHasLicense(address childIpId);
    error LicenseRegistry__DerivativeIsParent(address ipId);
    error LicenseRegistry__DuplicateParentIp(address ipId, address parentIpId);
    error LicenseRegistry__ParentIpNotRegistered(address parentIpId);
    error LicenseRegistry__ParentIpUnmatchedLicenseTemplate(address ipId, address licenseTemplate);
    error LicenseRegistry__ParentIpHasNoLicenseTerms(address ipId, uint256 licenseTermsId);
    error LicenseRegistry__IndexOutOfBounds(address ipId, uint256 index, uint256 length);
    error LicensingModule__LicenseTermsNotFound(address licenseTemplate, uint256 licenseTermsId);
    error LicensingModule__DerivativesCannotAddLicenseTerms();

    /// @notice One-time setup by the deployer: admin, registries, the licensing module, the template and the
    ///         default terms (0: none).
    function initialize(
        address admin,
        address ipAssetRegistry,
        address licensingModule,
        address licenseTemplate,
        uint256 defaultTermsId
    ) external {
        _initializeOnce(admin);
        IP_ASSET_REGISTRY = ipAssetRegistry;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(LICENSING_MODULE_ROLE, licensingModule);
        _registerTemplate(licenseTemplate);
        if (defaultTermsId != 0) _setDefault(licenseTemplate, defaultTermsId);
    }

    function registerLicenseTemplate(address licenseTemplate) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _registerTemplate(licenseTemplate);
    }

    function setDefaultLicenseTerms(address licenseTemplate, uint256 licenseTermsId)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _setDefault(licenseTemplate, licenseTermsId);
    }

    // --- writes (licensing module) ----------------------------------------------------------------------------------
    function setLicensingConfigForLicense(
        address ipId,
        address licenseTemplate,
        uint256 licenseTermsId,
        LicensingConfig calldata licensingConfig
    ) external onlyRole(LICENSING_MODULE_ROLE) {
        if (!_templates[licenseTemplate]) revert LicenseRegistry__UnregisteredLicenseTemplate(licenseTemplate);
        _configs[_ipLicenseHash(ipId, licenseTemplate, licenseTermsId)] = licensingConfig;
        emit LicensingConfigSetForLicense(ipId, licenseTemplate, licenseTermsId, licensingConfig);
    }

    function attachLicenseTermsToIp(address ipId, address licenseTemplate, uint256 licenseTermsId)
        external
        onlyRole(LICENSING_MODULE_ROLE)
    {
        if (!_exists(licenseTemplate, licenseTermsId)) {
            revert LicensingModule__LicenseTermsNotFound(licenseTemplate, licenseTermsId);
        }
        if (_isExpiredNow(ipId)) revert LicenseRegistry__IpExpired(ipId);
        if (_hasAttached(ipId, licenseTemplate, licenseTermsId)) {
            revert LicenseRegistry__LicenseTermsAlreadyAttached(ipId, licenseTemplate, licenseTermsId);
        }
        if (_parents[ipId].length() != 0) revert LicensingModule__DerivativesCannotAddLicenseTerms();
        address current = _licenseTemplates[ipId];
        if (current != address(0) && current != licenseTemplate) {
            revert LicenseRegistry__UnmatchedLicenseTemplate(ipId, current, licenseTemplate);
        }
        _licenseTemplates[ipId] = licenseTemplate;
        _attachedTerms[ipId].add(licenseTermsId);
        emit LicenseTermsAttachedToIp(ipId, licenseTemplate, licenseTermsId);
    }

    /// @notice Links `childIpId` to its parents under `licenseTermsIds` (which the child inherits).
    function registerDerivativeIp(
        address childIpId,
        address[] calldata parentIpIds,
        address licenseTemplate,
        uint256[] calldata licenseTermsIds,
        bool isUsingLicenseToken
    ) external onlyRole(LICENSING_MODULE_ROLE) {
        if (parentIpIds.length > MAX_PARENTS) {
            revert LicenseRegistry__TooManyParents(childIpId, parentIpIds.length, MAX_PARENTS);
        }
        if (_parents[childIpId].length() != 0) revert LicenseRegistry__DerivativeAlreadyRegistered(childIpId);
        if (_children[childIpId].length() != 0) revert LicenseRegistry__DerivativeIpAlreadyHasChild(childIpId);
        if (_attachedTerms[childIpId].length() != 0) revert LicenseRegistry__DerivativeIpAlreadyHasLicense(childIpId);
        uint256 earliest = 0;
        for (uint256 i = 0; i < parentIpIds.length; i++) {
            address parent = parentIpIds[i];
            _verifyParent(parent, childIpId, licenseTemplate, licenseTermsIds[i], isUsingLicenseToken);
            if (!_parents[childIpId].add(parent)) revert LicenseRegistry__DuplicateParentIp(childIpId, parent);
            _children[parent].add(childIpId);
            _parentTerms[childIpId][parent] = licenseTermsIds[i];
            if (_attachedTerms[childIpId].add(licenseTermsIds[i])) {
                emit LicenseTermsAttachedToIp(childIpId, licenseTemplate, licenseTermsIds[i]);
            }
            _addAncestors(childIpId, parent);
            earliest = _earliest(earliest, _expireTimes[parent]);
        }
        uint256 ancestors = _ancestors[childIpId].length();
        if (ancestors > MAX_ANCESTORS) revert LicenseRegistry__TooManyAncestors(childIpId, ancestors, MAX_ANCESTORS);
        _licenseTemplates[childIpId] = licenseTemplate;
        earliest = _earliest(
            earliest, ILicenseTemplateCore(licenseTemplate).getEarlierExpireTime(licenseTermsIds, block.timestamp)
        );
        if (earliest != 0) {
            _expireTimes[childIpId] = earliest;
            emit ExpirationTimeSet(childIpId, earliest);
        }
        emit DerivativeLinked(childIpId, parentIpIds);
    }

    /// @notice Fixes the template of an IP the first time its owner mints a license under it.
    function initializeLicenseTemplate(address ipId, address licenseTemplate) external onlyRole(LICENSING_MODULE_ROLE) {
        if (licenseTemplate == address(0)) revert LicenseRegistry__ZeroLicenseTemplate();
        if (!_templates[licenseTemplate]) revert LicenseRegistry__UnregisteredLicenseTemplate(licenseTemplate);
        if (_licenseTemplates[ipId] == address(0)) _licenseTemplates[ipId] = licenseTemplate;
    }

    // --- checks -----------------------------------------------------------------------------------------------------
    /// @notice Reverts unless a license of these terms may be minted for `licensorIpId`; returns its configuration.
    ///         The IP owner may mint any existing terms of the IP's template; others only attached terms.
    function verifyMintLicenseToken(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        bool isMintedByIpOwner
    ) external view returns (LicensingConfig memory) {
        if (_isExpiredNow(licensorIpId)) revert LicenseRegistry__ParentIpExpired(licensorIpId);
        if (isMintedByIpOwner) {
            if (!_exists(licenseTemplate, licenseTermsId)) {
                revert LicenseRegistry__LicenseTermsNotExists(licenseTemplate, licenseTermsId);
            }
            address current = _licenseTemplates[licensorIpId];
            if (current != address(0) && current != licenseTemplate) {
                revert LicenseRegistry__UnmatchedLicenseTemplate(licensorIpId, current, licenseTemplate);
            }
        } else if (!_hasAttached(licensorIpId, licenseTemplate, licenseTermsId)) {
            revert LicenseRegistry__LicensorIpHasNoLicenseTerms(licensorIpId, licenseTemplate, licenseTermsId);
        }
        return getLicensingConfig(licensorIpId, licenseTemplate, licenseTermsId);
    }

    // --- views ------------------------------------------------------------------------------------------------------
    function isRegisteredLicenseTemplate(address licenseTemplate) external view returns (bool) {
        return _templates[licenseTemplate];
    }

    function exists(address licenseTemplate, uint256 licenseTermsId) external view returns (bool) {
        return _exists(licenseTemplate, licenseTermsId);
    }

    function hasIpAttachedLicenseTerms(address ipId, address licenseTemplate, uint256 licenseTermsId)
        external
        view
        returns (bool)
    {
        return _hasAttached(ipId, licenseTemplate, licenseTermsId);
    }

    function getAttachedLicenseTerms(address ipId, uint256 index)
        external
        view
        returns (address licenseTemplate, uint256 licenseTermsId)
    {
        uint256 length = _attachedTerms[ipId].length();
        if (index >= length) revert LicenseRegistry__IndexOutOfBounds(ipId, index, length);
        return (_licenseTemplates[ipId], _attachedTerms[ipId].at(index));
    }

    function getAttachedLicenseTermsCount(address ipId) external view returns (uint256) {
        return _attachedTerms[ipId].length();
    }

    function getLicensingConfig(address ipId, address licenseTemplate, uint256 licenseTermsId)
        public
        view
        returns (LicensingConfig memory config)
    {
        if (!_templates[licenseTemplate]) revert LicenseRegistry__UnregisteredLicenseTemplate(licenseTemplate);
        config = _configs[_ipLicenseHash(ipId, licenseTemplate, licenseTermsId)];
        if (!config.isSet) config = LicensingConfig(false, 0, address(0), "", 0, false, 0, address(0));
    }

    /// @notice The revenue share of these terms for `ipId`: the configured override, else the terms' own.
    function getRoyaltyPercent(address ipId, address licenseTemplate, uint256 licenseTermsId)
        external
        view
        returns (uint32 royaltyPercent)
    {
        (, royaltyPercent,,) = ILicenseTemplateCore(licenseTemplate).getRoyaltyPolicy(licenseTermsId);
        LicensingConfig memory config = getLicensingConfig(ipId, licenseTemplate, licenseTermsId);
        if (config.isSet && config.commercialRevShare > 0) royaltyPercent = config.commercialRevShare;
    }

    function getDefaultLicenseTerms() external view returns (address licenseTemplate, uint256 licenseTermsId) {
        return (_defaultLicenseTemplate, _defaultLicenseTermsId);
    }

    function isDefaultLicense(address licenseTemplate, uint256 licenseTermsId) external view returns (bool) {
        return licenseTemplate == _defaultLicenseTemplate && licenseTermsId == _defaultLicenseTermsId;
    }

    function isDerivativeIp(address ipId) external view returns (bool) {
        return _parents[ipId].length() != 0;
    }

    function hasDerivativeIps(address ipId) external view returns (bool) {
        return _children[ipId].length() != 0;
    }

    function isParentIp(address parentIpId, address childIpId) external view returns (bool) {
        return _parents[childIpId].contains(parentIpId);
    }

    function getParentIp(address childIpId, uint256 index) external view returns (address parentIpId) {
        uint256 length = _parents[childIpId].length();
        if (index >= length) revert LicenseRegistry__IndexOutOfBounds(childIpId, index, length);
        return _parents[childIpId].at(index);
    }

    function getParentIpCount(address childIpId) external view returns (uint256) {
        return _parents[childIpId].length();
    }

    function getDerivativeIp(address parentIpId, uint256 index) external view returns (address childIpId) {
        uint256 length = _children[parentIpId].length();
        if (index >= length) revert LicenseRegistry__IndexOutOfBounds(parentIpId, index, length);
        return _children[parentIpId].at(index);
    }

    function getDerivativeIpCount(address parentIpId) external view returns (uint256) {
        return _children[parentIpId].length();
    }

    function getParentLicenseTerms(address childIpId, address parentIpId)
        external
        view
        returns (address licenseTemplate, uint256 licenseTermsId)
    {
        return (_licenseTemplates[parentIpId], _parentTerms[childIpId][parentIpId]);
    }

    function getAncestorsCount(address ipId) external view returns (uint256) {
        return _ancestors[ipId].length();
    }

    /// @notice Whether `ancestorIpId` is a parent, grandparent, ... of `ipId`.
    function isAncestorIp(address ancestorIpId, address ipId) external view returns (bool) {
        return _ancestors[ipId].contains(ancestorIpId);
    }

    function getExpireTime(address ipId) external view returns (uint256) {
        return _expireTimes[ipId];
    }

    function isExpiredNow(address ipId) external view returns (bool) {
        return _isExpiredNow(ipId);
    }

    // --- internals --------------------------------------------------------------------------------------------------
    function _verifyParent(
        address parent,
        address childIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        bool isUsingLicenseToken
    ) private view {
        if (!IIPAssetRegistryLookup(IP_ASSET_REGISTRY).isRegistered(parent)) {
            revert LicenseRegistry__ParentIpNotRegistered(parent);
        }
        if (parent == childIpId) revert LicenseRegistry__DerivativeIsParent(childIpId);
        if (_isExpiredNow(parent)) revert LicenseRegistry__ParentIpExpired(parent);
        address parentTemplate = _licenseTemplates[parent];
        bool mismatch = isUsingLicenseToken
            ? parentTemplate != address(0) && parentTemplate != licenseTemplate
            : parentTemplate != licenseTemplate;
        if (mismatch) revert LicenseRegistry__ParentIpUnmatchedLicenseTemplate(parent, licenseTemplate);
        if (!isUsingLicenseToken && !_attachedTerms[parent].contains(licenseTermsId)) {
            revert LicenseRegistry__ParentIpHasNoLicenseTerms(parent, licenseTermsId);
        }
    }

    function _addAncestors(address childIpId, address parent) private {
        EnumerableSet.AddressSet storage ancestors = _ancestors[childIpId];
        ancestors.add(parent);
        EnumerableSet.AddressSet storage inherited = _ancestors[parent];
        uint256 count = inherited.length();
        for (uint256 j = 0; j < count; j++) {
            ancestors.add(inherited.at(j));
        }
    }

    function _registerTemplate(address licenseTemplate) private {
        if (licenseTemplate == address(0)) revert LicenseRegistry__ZeroLicenseTemplate();
        if (_templates[licenseTemplate]) return;
        _templates[licenseTemplate] = true;
        emit LicenseTemplateRegistered(licenseTemplate);
    }

    function _setDefault(address licenseTemplate, uint256 licenseTermsId) private {
        if (licenseTemplate == address(0)) revert LicenseRegistry__ZeroLicenseTemplate();
        if (!_exists(licenseTemplate, licenseTermsId)) {
            revert LicenseRegistry__LicenseTermsNotExists(licenseTemplate, licenseTermsId);
        }
        _defaultLicenseTemplate = licenseTemplate;
        _defaultLicenseTermsId = licenseTermsId;
        emit DefaultLicenseTermsSet(licenseTemplate, licenseTermsId);
    }

    function _exists(address licenseTemplate, uint256 licenseTermsId) private view returns (bool) {
        return _templates[licenseTemplate] && ILicenseTemplateCore(licenseTemplate).exists(licenseTermsId);
    }

    function _hasAttached(address ipId, address licenseTemplate, uint256 licenseTermsId) private view returns (bool) {
        return _licenseTemplates[ipId] == licenseTemplate && _attachedTerms[ipId].contains(licenseTermsId);
    }

    function _isExpiredNow(address ipId) private view returns (bool) {
        uint256 expireTime = _expireTimes[ipId];
        return expireTime != 0 && expireTime < block.timestamp;
    }

    function _earliest(uint256 a, uint256 b) private pure returns (uint256) {
        if (a == 0) return b;
        if (b == 0) return a;
        return a < b ? a : b;
    }

    function _ipLicenseHash(address ipId, address licenseTemplate, uint256 licenseTermsId)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(ipId, licenseTemplate, licenseTermsId));
    }
}
