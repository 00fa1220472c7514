// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Same contract name as Second.sol: compiling both must fail with a clear CompilerError.
contract Twin {
    uint256 public value = 1;
}
