// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockERC20 — an open-mint test currency for license minting fees and royalties on local chains.
/// @notice Anyone may mint: it stands in for Story's test token (MERC20) on the local/story-compat devnet and must
///         never be deployed where its balances mean anything. name()/symbol() are constants so the runtime code can
///         be placed at a fixed address with `anvil_setCode`.
contract MockERC20 is ERC20 {
    event Minted(address indexed to, uint256 amount);

    constructor() ERC20("MockERC20", "MERC20") {}

    function name() public pure override returns (string memory) {
        return "MockERC20";
    }

    function symbol() public pure override returns (string memory) {
        return "MERC20";
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
        emit Minted(to, amount);
    }

    /// @notice Burns the caller's own tokens (Aeneid's MockERC20 interface; `from` must be the caller).
    function burn(address from, uint256 amount) external {
        if (from != msg.sender) revert ERC20InvalidSender(from);
        _burn(from, amount);
    }
}
