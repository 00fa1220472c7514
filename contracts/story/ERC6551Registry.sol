// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";

/// @title ERC6551Registry — the ERC-6551 token-bound account registry, written from the EIP's specification.
/// @notice Interface and account derivation are exactly those of EIP-6551 (v0.3.1): an account is the CREATE2
///         deployment, by this registry, of the 173-byte ERC-1167-style proxy
///         `3d60ad80600a3d3981f3363d3d373d3d3d363d73 <implementation> 5af43d82803e903d91602b57fd5bf3` followed by
///         `abi.encode(salt, chainId, tokenContract, tokenId)`, with `salt` as the CREATE2 salt. The registry has no
///         storage and no immutables, so its runtime code can be placed at the canonical address
///         0x000000006551c19487814612e58FE06813775758 with `anvil_setCode` and then derives the same account
///         addresses as the canonical deployment on every chain.
contract ERC6551Registry {
    /// @notice Emitted when an account is deployed (not when {createAccount} finds it already deployed).
    event ERC6551AccountCreated(
        address account,
        address indexed implementation,
        bytes32 salt,
        uint256 chainId,
        address indexed tokenContract,
        uint256 indexed tokenId
    );

    /// @notice CREATE2 failed (e.g. out of gas).
    error AccountCreationFailed();

    /// @notice Deploys the token-bound account, or returns it unchanged when it already exists.
    function createAccount(
        address implementation,
        bytes32 salt,
        uint256 chainId,
        address tokenContract,
        uint256 tokenId
    ) external returns (address) {
        bytes memory code = _creationCode(implementation, salt, chainId, tokenContract, tokenId);
        address predicted = Create2.computeAddress(salt, keccak256(code));
        if (predicted.code.length != 0) return predicted;
        emit ERC6551AccountCreated(predicted, implementation, salt, chainId, tokenContract, tokenId);
        address deployed;
        assembly {
            deployed := create2(0, add(code, 0x20), mload(code), salt)
        }
        if (deployed == address(0)) revert AccountCreationFailed();
        return deployed;
    }

    /// @notice The account address for these parameters, deployed or not.
    function account(
        address implementation,
        bytes32 salt,
        uint256 chainId,
        address tokenContract,
        uint256 tokenId
    ) external view returns (address) {
        bytes32 codeHash = keccak256(_creationCode(implementation, salt, chainId, tokenContract, tokenId));
        return Create2.computeAddress(salt, codeHash);
    }

    function _creationCode(
        address implementation,
        bytes32 salt,
        uint256 chainId,
        address tokenContract,
        uint256 tokenId
    ) private pure returns (bytes memory) {
        return abi.encodePacked(
            hex"3d60ad80600a3d3981f3363d3d373d3d3d363d73",
            implementation,
            hex"5af43d82803e903d91602b57fd5bf3",
            abi.encode(salt, chainId, tokenContract, tokenId)
        );
    }
}
