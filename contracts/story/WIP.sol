// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title WIP — Wrapped IP: the native token as an ERC-20, 1:1, with Story's WIP interface.
/// @notice `deposit()` (or a plain transfer of the native token) mints WIP to the sender; `withdraw(amount)` burns
///         it and sends the native token back. WIP cannot be sent to itself or to the zero address. EIP-2612
///         `permit` approvals (domain "Wrapped IP", version "1").
/// @dev Names are constants and the EIP-712 domain lives in immutables (no constructor storage), so the runtime code
///      can be placed at Story's WIP address 0x1514000000000000000000000000000000000000 with `anvil_setCode`.
contract WIP is ERC20Permit {
    event Deposit(address indexed from, uint256 amount);
    event Withdrawal(address indexed to, uint256 amount);

    error WIP__IPTransferFailed();

    constructor() ERC20("Wrapped IP", "WIP") ERC20Permit("Wrapped IP") {}

    receive() external payable {
        deposit();
    }

    function name() public pure override returns (string memory) {
        return "Wrapped IP";
    }

    function symbol() public pure override returns (string memory) {
        return "WIP";
    }

    function deposit() public payable {
        _mint(msg.sender, msg.value);
        emit Deposit(msg.sender, msg.value);
    }

    function withdraw(uint256 value) external {
        _burn(msg.sender, value);
        emit Withdrawal(msg.sender, value);
        (bool ok,) = msg.sender.call{value: value}("");
        if (!ok) revert WIP__IPTransferFailed();
    }

    function _update(address from, address to, uint256 value) internal override {
        if (to == address(this)) revert ERC20InvalidReceiver(to);
        super._update(from, to, value);
    }
}
