// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {ERC6551Registry} from "./ERC6551Registry.sol";

/// @title IPAssetRegistry — registers ERC-721 tokens as IP assets; an IP's id is its ERC-6551 account address.
/// @notice ABI-compatible with Story Protocol's IPAssetRegistry for the calls the SDKs make: `register(chainid,
///         tokenContract, tokenId)`, `ipId`, `ipAccount`, `isRegistered`, `totalSupply`, and the `IPRegistered` /
///         `IPAccountRegistered` events with Story's indexed fields. Registration is permissionless, as on Story:
///         the IP belongs to whoever holds the NFT, so registering someone else's token gives the caller nothing.
/// @dev ipId = ERC6551Registry.account(IP_ACCOUNT_IMPL, IP_ACCOUNT_SALT = 0, chainId, tokenContract, tokenId).
///      Wiring is immutable (in the runtime code), there is no other state than the registrations, so the code can
///      be placed at Story's address with `anvil_setCode` unchanged.
contract IPAssetRegistry {
    /// @notice The ERC-6551 registry that deploys IP accounts.
    address public immutable ERC6551_PUBLIC_REGISTRY;
    /// @notice The ERC-6551 implementation every IP account proxies to.
    address public immutable IP_ACCOUNT_IMPL;
    /// @notice The ERC-6551 salt of every IP account (zero, as on Story).
    bytes32 public constant IP_ACCOUNT_SALT = bytes32(0);

    uint256 private _totalSupply;
    mapping(address ipId => uint256 registrationDate) private _registrationDate;

    event IPAccountRegistered(
        address indexed account,
        address indexed implementation,
        uint256 indexed chainId,
        address tokenContract,
        uint256 tokenId
    );

    event IPRegistered(
        address ipId,
        uint256 indexed chainId,
        address indexed tokenContract,
        uint256 indexed tokenId,
        string name,
        string uri,
        uint256 registrationDate
    );

    error IPAssetRegistry__AlreadyRegistered();
    error IPAssetRegistry__UnsupportedChain(uint256 chainId);
    error IPAssetRegistry__InvalidToken(address tokenContract, uint256 tokenId);
    error IPAccountRegistry_ZeroERC6551Registry();
    error IPAccountRegistry_ZeroIpAccountImpl();

    constructor(address erc6551Registry, address ipAccountImpl) {
        if (erc6551Registry == address(0)) revert IPAccountRegistry_ZeroERC6551Registry();
        if (ipAccountImpl == address(0)) revert IPAccountRegistry_ZeroIpAccountImpl();
        ERC6551_PUBLIC_REGISTRY = erc6551Registry;
        IP_ACCOUNT_IMPL = ipAccountImpl;
    }

    /// @notice Registers an NFT of this chain as an IP asset and deploys its IP account.
    /// @return id The ipId (the IP account address).
    function register(uint256 chainid, address tokenContract, uint256 tokenId) external returns (address id) {
        if (chainid != block.chainid) revert IPAssetRegistry__UnsupportedChain(chainid);
        (string memory nftName, string memory uri) = _describe(tokenContract, tokenId);
        id = ipAccount(chainid, tokenContract, tokenId);
        if (_registrationDate[id] != 0) revert IPAssetRegistry__AlreadyRegistered();
        _registrationDate[id] = block.timestamp;
        _totalSupply += 1;
        ERC6551Registry(ERC6551_PUBLIC_REGISTRY).createAccount(
            IP_ACCOUNT_IMPL, IP_ACCOUNT_SALT, chainid, tokenContract, tokenId
        );
        emit IPAccountRegistered(id, IP_ACCOUNT_IMPL, chainid, tokenContract, tokenId);
        string memory name = string.concat(
            Strings.toString(chainid), ": ", nftName, " #", Strings.toString(tokenId)
        );
        emit IPRegistered(id, chainid, tokenContract, tokenId, name, uri, block.timestamp);
    }

    /// @notice The ipId of an NFT, registered or not.
    function ipId(uint256 chainId, address tokenContract, uint256 tokenId) external view returns (address) {
        return ipAccount(chainId, tokenContract, tokenId);
    }

    /// @notice The ERC-6551 account address of an NFT under this registry's implementation and salt.
    function ipAccount(uint256 chainId, address tokenContract, uint256 tokenId) public view returns (address) {
        return ERC6551Registry(ERC6551_PUBLIC_REGISTRY).account(
            IP_ACCOUNT_IMPL, IP_ACCOUNT_SALT, chainId, tokenContract, tokenId
        );
    }

    /// @notice The IP account implementation (Story's `getIPAccountImpl`).
    function getIPAccountImpl() external view returns (address) {
        return IP_ACCOUNT_IMPL;
    }

    function isRegistered(address id) external view returns (bool) {
        return _registrationDate[id] != 0;
    }

    /// @notice When the IP was registered (unix seconds), 0 when it is not.
    function registrationDate(address id) external view returns (uint256) {
        return _registrationDate[id];
    }

    function totalSupply() external view returns (uint256) {
        return _totalSupply;
    }

    /// @notice Story's pause flag: this suite is never paused.
    function paused() external pure returns (bool) {
        return false;
    }

    /// @notice Story's group registry view: this suite has no grouping module, so no IP is a group.
    function isRegisteredGroup(address) external pure returns (bool) {
        return false;
    }

    /// @notice Story's registration fee: registration is free in this suite.
    function getFeeAmount() external pure returns (uint96) {
        return 0;
    }

    /// @notice Story's registration fee token (none: registration is free).
    function getFeeToken() external pure returns (address) {
        return address(0);
    }

    /// @notice Story's registration fee treasury (none: registration is free).
    function getTreasury() external pure returns (address) {
        return address(0);
    }

    /// @dev The token must exist (ownerOf succeeds); name and tokenURI are optional ERC-721 metadata.
    function _describe(address tokenContract, uint256 tokenId)
        private
        view
        returns (string memory nftName, string memory uri)
    {
        if (tokenContract.code.length == 0) revert IPAssetRegistry__InvalidToken(tokenContract, tokenId);
        try IERC721(tokenContract).ownerOf(tokenId) returns (address holder) {
            if (holder == address(0)) revert IPAssetRegistry__InvalidToken(tokenContract, tokenId);
        } catch {
            revert IPAssetRegistry__InvalidToken(tokenContract, tokenId);
        }
        try IERC721Metadata(tokenContract).name() returns (string memory value) {
            nftName = value;
        } catch {
            nftName = "";
        }
        try IERC721Metadata(tokenContract).tokenURI(tokenId) returns (string memory value) {
            uri = value;
        } catch {
            uri = "";
        }
    }
}
