// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title StoryDeployable — constructor-free wiring so the same runtime code can be placed at Story's fixed addresses.
/// @notice Every contract of the local Story suite keeps its wiring in immutables (set by the constructor, part of the
///         runtime code) and its roles in storage written by a one-time {_initializeOnce} step. The devnet deploys
///         each contract normally, copies the runtime code to the address Story's SDKs hard-code with
///         `anvil_setCode`, and runs the initializer there: the copy has empty storage, so it initializes exactly
///         like a fresh deployment. Only the account that deployed the code (an immutable) may initialize, and only
///         once per address, so no one can race the deployer.
abstract contract StoryDeployable {
    /// @notice The account that deployed this code; the only one allowed to initialize it.
    address public immutable DEPLOYER;

    bool private _initialized;

    /// @notice Emitted once, when the contract's roles and links are set.
    event StoryContractInitialized(address indexed admin);

    error StoryDeployable__NotDeployer(address caller);
    error StoryDeployable__AlreadyInitialized();

    constructor() {
        DEPLOYER = msg.sender;
    }

    /// @notice Whether {initialize} already ran at this address.
    function initialized() external view returns (bool) {
        return _initialized;
    }

    function _initializeOnce(address admin) internal {
        if (msg.sender != DEPLOYER) revert StoryDeployable__NotDeployer(msg.sender);
        if (_initialized) revert StoryDeployable__AlreadyInitialized();
        _initialized = true;
        emit StoryContractInitialized(admin);
    }
}
