// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";

interface IMarketplaceForAttack {
    function buy(uint256 tokenId) external payable returns (uint256);
    function withdraw() external returns (uint256);
}

/// @title Tests only: a buyer whose refund hook re-enters the marketplace.
/// @notice `attack` overpays so the marketplace refunds it; on receiving the refund it calls back into `buy`
///         (mode 1) or `withdraw` (mode 2). A safe marketplace makes the re-entrant call revert, which bubbles up and
///         undoes the whole purchase. It accepts license tokens (ERC-721) so only the re-entry can make it fail.
contract ReentrantBuyer is IERC721Receiver {
    IMarketplaceForAttack public immutable market;
    uint8 public mode;
    uint256 private _tokenId;
    uint256 public reentries;

    constructor(IMarketplaceForAttack market_) {
        market = market_;
    }

    function attack(uint256 tokenId, uint8 mode_) external payable {
        mode = mode_;
        _tokenId = tokenId;
        market.buy{value: msg.value}(tokenId);
    }

    receive() external payable {
        if (mode == 1) {
            mode = 0;
            reentries += 1;
            market.buy{value: msg.value}(_tokenId);
        } else if (mode == 2) {
            mode = 0;
            reentries += 1;
            market.withdraw();
        }
    }

    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return IERC721Receiver.onERC721Received.selector;
    }
}
