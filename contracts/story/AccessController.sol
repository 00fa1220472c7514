// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IIPAccountOwner, IIPAssetRegistryLookup, IModuleRegistryLookup} from "./StoryInterfaces.sol";
import {StoryDeployable} from "./StoryDeployable.sol";
import {AccessPermission, Permission} from "./StoryTypes.sol";

/// @title AccessController — who may act for an IP account, with Story's selectors, events and errors.
/// @notice A permission is `(ipAccount, signer, to, func) -> ABSTAIN | ALLOW | DENY`, keyed by the IP's current
///         owner too, so a new owner starts with no delegations. `func == 0` is every function of `to`; `to == 0`
///         and `func == 0` is everything. Only the IP account itself (i.e. its owner through `execute`) or the
///         owner may set them. Transient permissions live in EIP-1153 transient storage and vanish at the end of
///         the transaction: the periphery has the owner sign a `setTransientPermission` executed through
///         `IPAccount.executeWithSig`, then uses it in the same transaction. While any transient permission is set
///         in a transaction, checks consult only the transient table (as on Story).
///         `checkPermission` reverts `AccessController__PermissionDenied` unless the signer is the owner or an
///         ALLOW applies (function level first, then module level, then the signer's wildcard).
/// @dev Needs a Cancun EVM (TSTORE/TLOAD). The registries are set by the deployer's one-time `initialize` (they are
///      deployed after this contract, which the IP account implementation names as an immutable).
contract AccessController is StoryDeployable {
    address public IP_ASSET_REGISTRY;
    address public MODULE_REGISTRY;

    /// @dev transient-storage slot of the "a transient permission was set in this transaction" flag
    bytes32 private constant _TRANSIENT_FLAG_SLOT = keccak256("anacostia.story.AccessController.transientFlag");
    /// @dev domain separator of the transient permission slots
    bytes32 private constant _TRANSIENT_PERMISSION_DOMAIN = keccak256("anacostia.story.AccessController.permission");

    mapping(bytes32 key => uint8 permission) private _permissions;

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
            bytes32 flagSlot = _TRANSIENT_FLAG_SLOT;
            bytes32 slot = keccak256(abi.encode(_TRANSIENT_PERMISSION_DOMAIN, key));
            assembly {
                tstore(flagSlot, 1)
                tstore(slot, permission)
            }
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
        bytes32 slot = keccak256(abi.encode(_TRANSIENT_PERMISSION_DOMAIN, key));
        uint256 value;
        assembly {
            value := tload(slot)
        }
        return uint8(value);
    }

    function _transientInUse() private view returns (bool inUse) {
        bytes32 flagSlot = _TRANSIENT_FLAG_SLOT;
        assembly {
            inUse := tload(flagSlot)
        }
    }

    function _key(address owner, address ipAccount, address signer, address to, bytes4 func)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(owner, ipAccount, signer, to, func));
    }
}
