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

    /// @dev Gas for a permission check that must not revert: a few storage reads and the NFT's ownerOf. Bounded, so
    ///      a check that fails hard (e.g. transient storage on a pre-Cancun node) cannot consume the caller's gas.
    uint256 private constant _PERMISSION_CHECK_GAS = 200_000;

    /// @dev Whether `msg.sender` may act for `ipId` on this module's current function (no revert).
    function _hasPermission(address ipId) internal view returns (bool) {
        if (msg.sender == ipId) return true;
        IAccessControllerChecks controller = IAccessControllerChecks(ACCESS_CONTROLLER);
        try controller.checkPermission{gas: _PERMISSION_CHECK_GAS}(ipId, msg.sender, address(this), msg.sig) {
            return true;
        } catch {
            return false;
        }
    }
}
