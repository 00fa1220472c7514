// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only contract account that answers `isValidSignature` wrongly, one way per `mode`:
/// 0 another bytes4 than the magic value, 1 a revert with a custom error, 2 no return data at all,
/// 3 a 32-byte word that is not an ABI `bytes4` (the number 1).
contract FaultyWallet {
    error NotMySignature(bytes32 hash);

    uint8 public immutable mode;

    constructor(uint8 mode_) {
        mode = mode_;
    }

    function isValidSignature(bytes32 hash, bytes calldata) external view returns (bytes4) {
        if (mode == 1) revert NotMySignature(hash);
        if (mode == 2) {
            assembly {
                return(0, 0)
            }
        }
        if (mode == 3) {
            assembly {
                mstore(0, 1)
                return(0, 32)
            }
        }
        return 0xdeadbeef;
    }
}
