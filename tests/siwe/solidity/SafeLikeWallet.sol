// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice Test-only contract account in the manner of a Safe: a set of owners and a threshold, and EIP-1271
/// `isValidSignature(hash, signatures)` where `signatures` are `threshold` 65-byte ECDSA signatures (r, s, v) of
/// `hash` by distinct owners, in ascending order of owner address. (A real Safe has its owners sign its EIP-712
/// SafeMessage wrapping `hash`; the verifier's side, one `isValidSignature` call, is the same.)
contract SafeLikeWallet {
    bytes4 internal constant MAGIC_VALUE = 0x1626ba7e;
    bytes4 internal constant INVALID = 0xffffffff;

    error BadThreshold(uint256 owners, uint256 threshold);
    error DuplicateOwner(address owner);

    mapping(address => bool) public isOwner;
    uint256 public immutable threshold;
    uint256 public immutable ownerCount;

    constructor(address[] memory owners, uint256 threshold_) {
        if (threshold_ == 0 || threshold_ > owners.length) revert BadThreshold(owners.length, threshold_);
        for (uint256 i = 0; i < owners.length; i++) {
            if (owners[i] == address(0) || isOwner[owners[i]]) revert DuplicateOwner(owners[i]);
            isOwner[owners[i]] = true;
        }
        threshold = threshold_;
        ownerCount = owners.length;
    }

    function isValidSignature(bytes32 hash, bytes calldata signatures) external view returns (bytes4) {
        if (signatures.length != threshold * 65) return INVALID;
        address last = address(0);
        for (uint256 i = 0; i < threshold; i++) {
            bytes calldata one = signatures[i * 65:(i + 1) * 65];
            (address signer, ECDSA.RecoverError status,) =
                ECDSA.tryRecover(hash, uint8(one[64]), bytes32(one[0:32]), bytes32(one[32:64]));
            if (status != ECDSA.RecoverError.NoError || !isOwner[signer] || signer <= last) return INVALID;
            last = signer;
        }
        return MAGIC_VALUE;
    }
}
