// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBeacon} from "@openzeppelin/contracts/proxy/beacon/IBeacon.sol";

/// @title SPGNFTBeacon — the beacon every SPG NFT collection proxies through (Story's `spgnftBeacon`).
/// @notice `implementation()` is the SPGNFT implementation at Story's address; `owner()` the deployer. The
///         implementation is fixed in this suite: `upgradeTo`, `transferOwnership` and `renounceOwnership` revert with `SPGNFTBeacon__Fixed`.
contract SPGNFTBeacon is IBeacon {
    address private immutable _implementation;
    address private immutable _owner;

    error SPGNFTBeacon__Fixed();

    constructor(address implementation_) {
        _implementation = implementation_;
        _owner = msg.sender;
    }

    function implementation() external view returns (address) {
        return _implementation;
    }

    function owner() external view returns (address) {
        return _owner;
    }

    function upgradeTo(address) external pure {
        revert SPGNFTBeacon__Fixed();
    }

    function transferOwnership(address) external pure {
        revert SPGNFTBeacon__Fixed();
    }

    function renounceOwnership() external pure {
        revert SPGNFTBeacon__Fixed();
    }
}
