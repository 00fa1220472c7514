// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @title IPAccountImpl — the ERC-6551 account implementation behind every IP asset (its address is the ipId).
/// @notice Runs behind the registry's ERC-1167-style proxy via DELEGATECALL, so it reads the bound token from the
///         proxy's code footer (`salt, chainId, tokenContract, tokenId` after the 45-byte proxy) and keeps its own
///         state (the execution counter) in the account's storage. The owner of the IP is whoever holds the NFT on
///         this chain; only that owner can make the account call out (e.g. the licensing module on the IP's behalf).
/// @dev Holds no immutables and no constructor state, so its runtime code can be placed at Story's
///      IP account implementation address with `anvil_setCode`.
contract IPAccountImpl is IERC165, IERC721Receiver {
    /// @dev ERC-6551 interface ids (from the EIP).
    bytes4 private constant _ERC6551_ACCOUNT_ID = 0x6faff5f1;
    bytes4 private constant _ERC6551_EXECUTABLE_ID = 0x51945447;

    uint256 private _state;

    /// @notice Emitted after every successful outgoing call.
    event Executed(address indexed to, uint256 value, bytes data, uint256 nonce);

    error IPAccount__InvalidSigner(address caller);
    error IPAccount__UnsupportedOperation(uint8 operation);

    receive() external payable {}

    /// @notice The bound token: (chainId, tokenContract, tokenId) from the proxy's code footer.
    function token() public view returns (uint256 chainId, address tokenContract, uint256 tokenId) {
        bytes memory footer = new bytes(0x60);
        assembly {
            extcodecopy(address(), add(footer, 0x20), 0x4d, 0x60)
        }
        return abi.decode(footer, (uint256, address, uint256));
    }

    /// @notice The holder of the bound NFT, or address(0) when it lives on another chain.
    function owner() public view returns (address) {
        (uint256 chainId, address tokenContract, uint256 tokenId) = token();
        if (chainId != block.chainid) return address(0);
        return IERC721(tokenContract).ownerOf(tokenId);
    }

    /// @notice ERC-6551 state: changes on every execution.
    function state() external view returns (uint256) {
        return _state;
    }

    /// @notice ERC-6551: the magic value when `signer` may act for this account.
    function isValidSigner(address signer, bytes calldata) external view returns (bytes4) {
        return signer == owner() ? this.isValidSigner.selector : bytes4(0);
    }

    /// @notice Story-style call out of the account (operation CALL), by the IP owner.
    function execute(address to, uint256 value, bytes calldata data) external payable returns (bytes memory) {
        return _call(to, value, data);
    }

    /// @notice ERC-6551 executable interface; only operation 0 (CALL) is supported.
    function execute(address to, uint256 value, bytes calldata data, uint8 operation)
        external
        payable
        returns (bytes memory)
    {
        if (operation != 0) revert IPAccount__UnsupportedOperation(operation);
        return _call(to, value, data);
    }

    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return IERC721Receiver.onERC721Received.selector;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == _ERC6551_ACCOUNT_ID
            || interfaceId == _ERC6551_EXECUTABLE_ID || interfaceId == type(IERC721Receiver).interfaceId;
    }

    function _call(address to, uint256 value, bytes calldata data) private returns (bytes memory) {
        if (msg.sender != owner()) revert IPAccount__InvalidSigner(msg.sender);
        uint256 nonce = ++_state;
        (bool ok, bytes memory result) = to.call{value: value}(data);
        if (!ok) {
            // Bubble the callee's revert data unchanged, so callers decode the module's own custom error.
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
        emit Executed(to, value, data, nonce);
        return result;
    }
}
