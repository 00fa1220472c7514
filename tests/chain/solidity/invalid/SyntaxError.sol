// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Deliberately broken (a missing semicolon): the compiler error test expects CompilerError.
contract SyntaxError {
    uint256 public value = 1
}
