// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title StoryUnsupported — placed at the addresses of Story contracts this suite does not implement.
/// @notice Every call (any selector, any value) reverts with `StoryCompat__Unsupported(contractName, selector)`, so
///         a client that reaches, e.g., the DisputeModule gets a clear error instead of an empty address that
///         silently "succeeds". `contractName` is the Story contract's name, left-aligned in a bytes32.
contract StoryUnsupported {
    /// @dev The Story contract this address stands for (private: no call to this address succeeds).
    bytes32 private immutable _CONTRACT_NAME;

    error StoryCompat__Unsupported(bytes32 contractName, bytes4 selector);

    constructor(bytes32 contractName) {
        _CONTRACT_NAME = contractName;
    }

    fallback() external payable {
        revert StoryCompat__Unsupported(_CONTRACT_NAME, msg.sig);
    }
}
