// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {SafeLikeWallet} from "./SafeLikeWallet.sol";

/// @notice Test-only CREATE2 factory of SafeLikeWallet: a wallet's address is known before it is deployed
/// (the counterfactual wallets EIP-6492 signatures come from).
contract WalletFactory {
    event Deployed(address wallet);

    function deploy(address[] calldata owners, uint256 threshold, bytes32 salt) external returns (address wallet) {
        wallet = address(new SafeLikeWallet{salt: salt}(owners, threshold));
        emit Deployed(wallet);
    }

    function predict(address[] calldata owners, uint256 threshold, bytes32 salt) external view returns (address) {
        bytes memory init = abi.encodePacked(type(SafeLikeWallet).creationCode, abi.encode(owners, threshold));
        bytes32 digest = keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, keccak256(init)));
        return address(uint160(uint256(digest)));
    }
}
