// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControllerChecks, IIPAssetRegistryLookup} from "./StoryInterfaces.sol";

/// @title AccessControlled — the permission gate every module applies to calls made on an IP's behalf.
/// @notice A call about `ipId` passes when it comes from the IP account itself (the owner called through
///         `IPAccount.execute`), or when the AccessController allows `msg.sender` to call this function of this
///         module for that IP: the owner always is, operators when the owner granted them (persistently with
///         `setPermission`, or for one transaction with `setTransientPermission` signed through `executeWithSig`).
abstract contract AccessControlled {
    address public immutable ACCESS_CONTROLLER;
    address public immutable IP_ASSET_REGISTRY;

    error AccessControlled__NotIpAccount(address ipAccount);

    constructor(address accessController, address ipAssetRegistry) {
        ACCESS_CONTROLLER = accessController;
        IP_ASSET_REGISTRY = ipAssetRegistry;
    }

    modifier verifyPermission(address ipId) {
        _verifyPermission(ipId);
        _;
    }

    function _verifyPermission(address ipId) internal view {
        if (!IIPAssetRegistryLookup(IP_ASSET_REGISTRY).isRegistered(ipId)) revert AccessControlled__NotIpAccount(ipId);
        if (msg.sender != ipId) {
            IAccessControllerChecks(ACCESS_CONTROLLER).checkPermission(ipId, msg.sender, address(this), msg.sig);
        }
    }

    /// @dev Whether `msg.sender` may act for `ipId` on this module's current function (no revert).
    function _hasPermission(address ipId) internal view returns (bool) {
        if (msg.sender == ipId) return true;
        try IAccessControllerChecks(ACCESS_CONTROLLER).checkPermission(ipId, msg.sender, address(this), msg.sig) {
            return true;
        } catch {
            return false;
        }
    }
}
