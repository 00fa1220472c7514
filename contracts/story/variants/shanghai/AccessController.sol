// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IIPAccountOwner, IIPAssetRegistryLookup, IModuleRegistryLookup} from "./StoryInterfaces.sol";
import {StoryDeployable} from "./StoryDeployable.sol";
import {AccessPermission, Permission} from "./StoryTypes.sol";

/// @title AccessController (Shanghai build) — who may act for an IP account, with Story's selectors, events and
///        errors, for chains without EIP-1153 transient storage (Ganache).
/// @notice Compiled instead of `contracts/story/AccessController.sol` for the Shanghai artifact set (same source
///         path, same name, same ABI). Permanent permissions are identical. Transient
///         permissions live in regular storage, in a table scoped to `(block.number, tx.origin)`: they are visible to
///         every transaction of the same origin in the same block and vanish at the next block. While any transient permission
///         is set in a scope, checks in that scope consult only the transient table (as on Story).
/// @dev Pre-Cancun there is no transaction id, so a scope is a (block, origin) pair: two transactions of one sender
///      in one block share it. Ganache mines each transaction in its own block by default, where this is exactly
///      one transaction. Reading `tx.origin` only scopes the table; it never authorizes anything.
contract AccessController is StoryDeployable {
    address public IP_ASSET_REGISTRY;
    address public MODULE_REGISTRY;

    mapping(bytes32 key => uint8 permission) private _permissions;
    /// @dev the "transient" table: permission by (scope, key)
    mapping(bytes32 slot => uint8 permission) private _transientPermissions;
    /// @dev per scope (block, origin): whether a transient permission was set (checks then consult only that table)
    mapping(bytes32 scope => bool inUse) private _transientInUseBy;

    event PermissionSet(
        address ipAccountOwner,
        address indexed ipAccount,
        address indexed signer,
        address indexed to,
        bytes4 func,
        uint8 permission
    );
    event TransientPermissionSet(
        address ipAccountOwner,
        address indexed ipAccount,
        address indexed signer,
        address indexed to,
        bytes4 func,
        uint8 permission
    );

    error AccessController__IPAccountIsZeroAddress();
    error AccessController__SignerIsZeroAddress();
    error AccessController__IPAccountIsNotValid(address ipAccount);
    error AccessController__PermissionIsNotValid();
    error AccessController__CallerIsNotIPAccountOrOwner();
    error AccessController__OwnerIsIPAccount(address ipAccount, address owner);
    error AccessController__ToAndFuncAreZeroAddressShouldCallSetAllPermissions();
    error AccessController__BothCallerAndRecipientAreNotRegisteredModule(address signer, address to);
    error AccessController__PermissionDenied(address ipAccount, address signer, address to, bytes4 func);

    /// @notice One-time setup by the deployer: the registries permissions are checked against.
    function initialize(address ipAssetRegistry, address moduleRegistry) external {
        _initializeOnce(msg.sender);
        IP_ASSET_REGISTRY = ipAssetRegistry;
        MODULE_REGISTRY = moduleRegistry;
    }

    /// @notice Story's pause flag: this suite is never paused.
    function paused() external pure returns (bool) {
        return false;
    }

    function setPermission(address ipAccount, address signer, address to, bytes4 func, uint8 permission) external {
        if (to == address(0) && func != bytes4(0)) {
            revert AccessController__ToAndFuncAreZeroAddressShouldCallSetAllPermissions();
        }
        _setPermission(ipAccount, signer, to, func, permission, false);
    }

    function setTransientPermission(address ipAccount, address signer, address to, bytes4 func, uint8 permission)
        external
    {
        if (to == address(0) && func != bytes4(0)) {
            revert AccessController__ToAndFuncAreZeroAddressShouldCallSetAllPermissions();
        }
        _setPermission(ipAccount, signer, to, func, permission, true);
    }

    function setBatchPermissions(Permission[] memory permissions) external {
        for (uint256 i = 0; i < permissions.length; i++) {
            Permission memory p = permissions[i];
            _setPermission(p.ipAccount, p.signer, p.to, p.func, p.permission, false);
        }
    }

    function setBatchTransientPermissions(Permission[] memory permissions) external {
        for (uint256 i = 0; i < permissions.length; i++) {
            Permission memory p = permissions[i];
            _setPermission(p.ipAccount, p.signer, p.to, p.func, p.permission, true);
        }
    }

    function setAllPermissions(address ipAccount, address signer, uint8 permission) external {
        _setPermission(ipAccount, signer, address(0), bytes4(0), permission, false);
    }

    function setAllTransientPermissions(address ipAccount, address signer, uint8 permission) external {
        _setPermission(ipAccount, signer, address(0), bytes4(0), permission, true);
    }

    /// @notice Reverts unless `signer` may call `func` of `to` for `ipAccount`.
    function checkPermission(address ipAccount, address signer, address to, bytes4 func) external view {
        if (!IIPAssetRegistryLookup(IP_ASSET_REGISTRY).isRegistered(ipAccount)) {
            revert AccessController__IPAccountIsNotValid(ipAccount);
        }
        if (IIPAccountOwner(ipAccount).owner() == signer) return;
        IModuleRegistryLookup modules = IModuleRegistryLookup(MODULE_REGISTRY);
        if (to != address(this) && !modules.isRegistered(to) && !modules.isRegistered(signer)) {
            revert AccessController__BothCallerAndRecipientAreNotRegisteredModule(signer, to);
        }
        bool transient_ = _transientInUse();
        uint8 permission = _get(ipAccount, signer, to, func, transient_);
        if (permission == AccessPermission.ALLOW) return;
        if (permission == AccessPermission.ABSTAIN) {
            permission = _get(ipAccount, signer, to, bytes4(0), transient_);
            if (permission == AccessPermission.ALLOW) return;
            if (permission == AccessPermission.ABSTAIN) {
                if (_get(ipAccount, signer, address(0), bytes4(0), transient_) == AccessPermission.ALLOW) return;
            }
        }
        revert AccessController__PermissionDenied(ipAccount, signer, to, func);
    }

    /// @notice The permission in force (the transient table while one is in use in this transaction).
    function getPermission(address ipAccount, address signer, address to, bytes4 func) external view returns (uint8) {
        return _get(ipAccount, signer, to, func, _transientInUse());
    }

    function getPermanentPermission(address ipAccount, address signer, address to, bytes4 func)
        external
        view
        returns (uint8)
    {
        return _get(ipAccount, signer, to, func, false);
    }

    function getTransientPermission(address ipAccount, address signer, address to, bytes4 func)
        external
        view
        returns (uint8)
    {
        return _get(ipAccount, signer, to, func, true);
    }

    function _setPermission(
        address ipAccount,
        address signer,
        address to,
        bytes4 func,
        uint8 permission,
        bool transient_
    ) private {
        if (ipAccount == address(0)) revert AccessController__IPAccountIsZeroAddress();
        if (signer == address(0)) revert AccessController__SignerIsZeroAddress();
        IIPAssetRegistryLookup registry = IIPAssetRegistryLookup(IP_ASSET_REGISTRY);
        if (!registry.isRegistered(ipAccount)) revert AccessController__IPAccountIsNotValid(ipAccount);
        if (permission > AccessPermission.DENY) revert AccessController__PermissionIsNotValid();
        address owner = IIPAccountOwner(ipAccount).owner();
        if (msg.sender != ipAccount && msg.sender != owner) revert AccessController__CallerIsNotIPAccountOrOwner();
        if (registry.isRegistered(owner)) revert AccessController__OwnerIsIPAccount(ipAccount, owner);
        bytes32 key = _key(owner, ipAccount, signer, to, func);
        if (transient_) {
            bytes32 scope = _scope();
            _transientInUseBy[scope] = true;
            _transientPermissions[keccak256(abi.encode(scope, key))] = permission;
            emit TransientPermissionSet(owner, ipAccount, signer, to, func, permission);
        } else {
            _permissions[key] = permission;
            emit PermissionSet(owner, ipAccount, signer, to, func, permission);
        }
    }

    function _get(address ipAccount, address signer, address to, bytes4 func, bool transient_)
        private
        view
        returns (uint8 permission)
    {
        bytes32 key = _key(IIPAccountOwner(ipAccount).owner(), ipAccount, signer, to, func);
        if (!transient_) return _permissions[key];
        return _transientPermissions[keccak256(abi.encode(_scope(), key))];
    }

    function _transientInUse() private view returns (bool) {
        return _transientInUseBy[_scope()];
    }

    /// @dev this block and this transaction's origin: the nearest thing to "this transaction" before Cancun
    function _scope() private view returns (bytes32) {
        return keccak256(abi.encode(block.number, tx.origin));
    }

    function _key(address owner, address ipAccount, address signer, address to, bytes4 func)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(owner, ipAccount, signer, to, func));
    }
}
