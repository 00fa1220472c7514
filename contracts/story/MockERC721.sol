// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @title MockERC721 — an open-mint ERC-721 to register as IP assets in tests and demos on local chains.
/// @notice Ids start at 0; tokenURI is `ipfs://mock/<id>`. Never deploy it where ownership means anything.
contract MockERC721 is ERC721 {
    uint256 private _next;

    event Minted(address indexed to, uint256 indexed tokenId);

    constructor() ERC721("MockERC721", "MNFT") {}

    function mint(address to) external returns (uint256 tokenId) {
        tokenId = _next++;
        _mint(to, tokenId);
        emit Minted(to, tokenId);
    }

    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        return string.concat("ipfs://mock/", Strings.toString(tokenId));
    }
}
