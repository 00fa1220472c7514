// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

import {StoryDeployable} from "./StoryDeployable.sol";

/// @title LicenseRegistry — which license terms each IP has attached, and the parent/derivative graph.
/// @notice Exposes the views Story's SDKs read (`exists`, `hasIpAttachedLicenseTerms`, `getAttachedLicenseTerms`,
///         `getAttachedLicenseTermsCount`, `isDerivativeIp`, `getParentIp`, ...) with Story's selectors. Writes are
///         reserved to LICENSING_MODULE_ROLE (the LicensingModule, which also emits Story's user-facing events);
///         templates are registered by DEFAULT_ADMIN_ROLE.
contract LicenseRegistry is AccessControl, StoryDeployable {
    bytes32 public constant LICENSING_MODULE_ROLE = keccak256("LICENSING_MODULE_ROLE");

    struct AttachedTerms {
        address licenseTemplate;
        uint256 licenseTermsId;
    }

    mapping(address licenseTemplate => bool) private _templates;
    mapping(address ipId => AttachedTerms[]) private _attached;
    mapping(address ipId => mapping(bytes32 key => bool)) private _isAttached;
    mapping(address childIpId => address[]) private _parents;
    mapping(address parentIpId => address[]) private _derivatives;
    mapping(address parentIpId => mapping(address childIpId => bool)) private _isParent;

    event LicenseTemplateRegistered(address indexed licenseTemplate);
    /// @notice Terms were recorded for an IP (by attachment, or inherited by a derivative).
    event LicenseTermsAttachedToIp(address indexed ipId, address indexed licenseTemplate, uint256 licenseTermsId);
    /// @notice A derivative was linked to its parents (the LicensingModule's DerivativeRegistered has the details).
    event DerivativeLinked(address indexed childIpId, address[] parentIpIds);

    error LicenseRegistry__UnregisteredLicenseTemplate(address licenseTemplate);
    error LicenseRegistry__LicenseTermsAlreadyAttached(address ipId, address licenseTemplate, uint256 licenseTermsId);
    error LicenseRegistry__DerivativeAlreadyRegistered(address childIpId);
    error LicenseRegistry__NoParentIp();
    error LicenseRegistry__LengthMismatch();
    error LicenseRegistry__IndexOutOfBounds(address ipId, uint256 index, uint256 length);

    /// @notice One-time setup by the deployer: admin, the licensing module, and the first template.
    function initialize(address admin, address licensingModule, address licenseTemplate) external {
        _initializeOnce(admin);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(LICENSING_MODULE_ROLE, licensingModule);
        _registerTemplate(licenseTemplate);
    }

    function registerLicenseTemplate(address licenseTemplate) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _registerTemplate(licenseTemplate);
    }

    function isRegisteredLicenseTemplate(address licenseTemplate) public view returns (bool) {
        return _templates[licenseTemplate];
    }

    /// @notice Records that `ipId` offers `licenseTermsId` of `licenseTemplate` (licensing module only).
    function attachLicenseTermsToIp(address ipId, address licenseTemplate, uint256 licenseTermsId)
        external
        onlyRole(LICENSING_MODULE_ROLE)
    {
        _attach(ipId, licenseTemplate, licenseTermsId);
    }

    /// @notice Links a derivative to its parents and attaches the parents' terms to it (licensing module only).
    function registerDerivativeIp(
        address childIpId,
        address[] calldata parentIpIds,
        address licenseTemplate,
        uint256[] calldata licenseTermsIds
    ) external onlyRole(LICENSING_MODULE_ROLE) {
        if (parentIpIds.length == 0) revert LicenseRegistry__NoParentIp();
        if (parentIpIds.length != licenseTermsIds.length) revert LicenseRegistry__LengthMismatch();
        if (_parents[childIpId].length != 0) revert LicenseRegistry__DerivativeAlreadyRegistered(childIpId);
        for (uint256 i = 0; i < parentIpIds.length; i++) {
            address parent = parentIpIds[i];
            if (!_isParent[parent][childIpId]) {
                _isParent[parent][childIpId] = true;
                _parents[childIpId].push(parent);
                _derivatives[parent].push(childIpId);
            }
            if (!_isAttached[childIpId][_key(licenseTemplate, licenseTermsIds[i])]) {
                _attach(childIpId, licenseTemplate, licenseTermsIds[i]);
            }
        }
        emit DerivativeLinked(childIpId, parentIpIds);
    }

    // --- views the SDKs use -----------------------------------------------------------------------------------------
    function exists(address licenseTemplate, uint256 licenseTermsId) external view returns (bool) {
        if (!_templates[licenseTemplate]) return false;
        (bool ok, bytes memory result) =
            licenseTemplate.staticcall(abi.encodeWithSignature("exists(uint256)", licenseTermsId));
        return ok && result.length == 32 && abi.decode(result, (bool));
    }

    function hasIpAttachedLicenseTerms(address ipId, address licenseTemplate, uint256 licenseTermsId)
        external
        view
        returns (bool)
    {
        return _isAttached[ipId][_key(licenseTemplate, licenseTermsId)];
    }

    function getAttachedLicenseTerms(address ipId, uint256 index)
        external
        view
        returns (address licenseTemplate, uint256 licenseTermsId)
    {
        AttachedTerms[] storage list = _attached[ipId];
        if (index >= list.length) revert LicenseRegistry__IndexOutOfBounds(ipId, index, list.length);
        return (list[index].licenseTemplate, list[index].licenseTermsId);
    }

    function getAttachedLicenseTermsCount(address ipId) external view returns (uint256) {
        return _attached[ipId].length;
    }

    function isDerivativeIp(address ipId) external view returns (bool) {
        return _parents[ipId].length != 0;
    }

    function hasDerivativeIps(address ipId) external view returns (bool) {
        return _derivatives[ipId].length != 0;
    }

    function isParentIp(address parentIpId, address childIpId) external view returns (bool) {
        return _isParent[parentIpId][childIpId];
    }

    function getParentIp(address childIpId, uint256 index) external view returns (address parentIpId) {
        address[] storage list = _parents[childIpId];
        if (index >= list.length) revert LicenseRegistry__IndexOutOfBounds(childIpId, index, list.length);
        return list[index];
    }

    function getParentIpCount(address childIpId) external view returns (uint256) {
        return _parents[childIpId].length;
    }

    function getDerivativeIp(address parentIpId, uint256 index) external view returns (address childIpId) {
        address[] storage list = _derivatives[parentIpId];
        if (index >= list.length) revert LicenseRegistry__IndexOutOfBounds(parentIpId, index, list.length);
        return list[index];
    }

    function getDerivativeIpCount(address parentIpId) external view returns (uint256) {
        return _derivatives[parentIpId].length;
    }

    // --- internals --------------------------------------------------------------------------------------------------
    function _registerTemplate(address licenseTemplate) private {
        if (licenseTemplate == address(0) || _templates[licenseTemplate]) return;
        _templates[licenseTemplate] = true;
        emit LicenseTemplateRegistered(licenseTemplate);
    }

    function _attach(address ipId, address licenseTemplate, uint256 licenseTermsId) private {
        if (!_templates[licenseTemplate]) revert LicenseRegistry__UnregisteredLicenseTemplate(licenseTemplate);
        bytes32 key = _key(licenseTemplate, licenseTermsId);
        if (_isAttached[ipId][key]) {
            revert LicenseRegistry__LicenseTermsAlreadyAttached(ipId, licenseTemplate, licenseTermsId);
        }
        _isAttached[ipId][key] = true;
        _attached[ipId].push(AttachedTerms(licenseTemplate, licenseTermsId));
        emit LicenseTermsAttachedToIp(ipId, licenseTemplate, licenseTermsId);
    }

    function _key(address licenseTemplate, uint256 licenseTermsId) private pure returns (bytes32) {
        return keccak256(abi.encode(licenseTemplate, licenseTermsId));
    }
}
