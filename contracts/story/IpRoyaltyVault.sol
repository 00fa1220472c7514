// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IIPAccountOwner} from "./StoryInterfaces.sol";

/// @title IpRoyaltyVault — holds the revenue (royalties and minting fees) paid to one IP asset.
/// @notice Deployed by the RoyaltyModule the first time an IP is paid. Whoever owns the IP (the holder of its NFT)
///         at claim time may pull the whole balance of a token to any address: pull payments, so a payer never
///         sends funds to an arbitrary account.
contract IpRoyaltyVault is ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice The IP asset this vault belongs to.
    address public immutable ipId;
    /// @notice The royalty module that created the vault.
    address public immutable royaltyModule;

    event RevenueTokenClaimed(address claimer, address token, uint256 amount);

    error IpRoyaltyVault__NotIpOwner(address caller);
    error IpRoyaltyVault__NothingToClaim(address token);
    error IpRoyaltyVault__ZeroAddress();

    constructor(address ipId_) {
        ipId = ipId_;
        royaltyModule = msg.sender;
    }

    /// @notice How much of `token` the vault holds for the IP.
    function claimableRevenue(address token) external view returns (uint256) {
        return IERC20(token).balanceOf(address(this));
    }

    /// @notice The IP owner withdraws the vault's whole balance of `token` to `to`.
    function claimRevenue(address token, address to) external nonReentrant returns (uint256 amount) {
        if (msg.sender != IIPAccountOwner(ipId).owner()) revert IpRoyaltyVault__NotIpOwner(msg.sender);
        if (to == address(0)) revert IpRoyaltyVault__ZeroAddress();
        amount = IERC20(token).balanceOf(address(this));
        if (amount == 0) revert IpRoyaltyVault__NothingToClaim(token);
        emit RevenueTokenClaimed(to, token, amount);
        IERC20(token).safeTransfer(to, amount);
    }
}
