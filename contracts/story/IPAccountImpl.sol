// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC1155Receiver} from "@openzeppelin/contracts/token/ERC1155/IERC1155Receiver.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

import {IAccessControllerChecks, IModuleRegistryLookup} from "./StoryInterfaces.sol";
import {Call} from "./StoryTypes.sol";

/// @title IPAccountImpl — the ERC-6551 account behind every IP asset (its address is the ipId), Story's interface.
/// @notice Runs behind the registry's ERC-1167-style proxy via DELEGATECALL, so it reads the bound token from the
///         proxy's code footer and keeps its state in the account's storage. The owner is whoever holds the NFT.
///         - `execute`, `execute(..., operation)`, `executeBatch`: call out as the account; the caller must pass
///           the AccessController's `checkPermission(account, caller, to, selector)` (the owner always does).
///         - `executeWithSig`: anyone submits a call the `signer` signed (EIP-712 domain "Story Protocol IP
///           Account" version "1", type `Execute(address to,uint256 value,bytes data,bytes32 nonce,uint256
///           deadline)`), where `nonce` is the account state after this call. That is how the periphery obtains
///           one-transaction permissions.
///         - `state()`: `keccak256(abi.encode(previousState, abi.encodeWithSignature("execute(address,uint256,
///           bytes)", to, value, data)))` after every execution, starting at zero (the nonce the SDKs predict).
///         - Namespaced storage (`setBytes`/`setBytes32` and their getters) writable by registered modules and the
///           license registry only, each under its own address.
/// @dev Immutables only (the wiring), so the runtime code can be placed at Story's implementation addresses.
contract IPAccountImpl is IERC165, IERC721Receiver, IERC1155Receiver {
    address public immutable ACCESS_CONTROLLER;
    address public immutable LICENSE_REGISTRY;
    address public immutable MODULE_REGISTRY;

    bytes32 private constant _EXECUTE_TYPEHASH =
        keccak256("Execute(address to,uint256 value,bytes data,bytes32 nonce,uint256 deadline)");
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant _NAME_HASH = keccak256("Story Protocol IP Account");
    bytes32 private constant _VERSION_HASH = keccak256("1");
    /// @dev ERC-6551 interface ids (from the EIP).
    bytes4 private constant _ERC6551_ACCOUNT_ID = 0x6faff5f1;
    bytes4 private constant _ERC6551_EXECUTABLE_ID = 0x51945447;

    bytes32 private _state;
    mapping(bytes32 namespace => mapping(bytes32 key => bytes value)) public bytesData;
    mapping(bytes32 namespace => mapping(bytes32 key => bytes32 value)) public bytes32Data;

    event Executed(address indexed to, uint256 value, bytes data, bytes32 nonce);
    event ExecutedWithSig(
        address indexed to,
        uint256 value,
        bytes data,
        bytes32 nonce,
        uint256 deadline,
        address indexed signer,
        bytes signature
    );

    error IPAccount__InvalidSigner();
    error IPAccount__ExpiredSignature();
    error IPAccount__InvalidSignature();
    error IPAccount__InvalidOperation();
    error IPAccount__InvalidCalldata();
    error IPAccountStorage__NotRegisteredModule(address module);
    error IPAccountStorage__InvalidBatchLengths();

    constructor(address accessController, address licenseRegistry, address moduleRegistry) {
        ACCESS_CONTROLLER = accessController;
        LICENSE_REGISTRY = licenseRegistry;
        MODULE_REGISTRY = moduleRegistry;
    }

    receive() external payable {}

    // --- ERC-6551 account -------------------------------------------------------------------------------------------
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

    /// @notice The account state: the nonce the next `executeWithSig` signature must commit to is derived from it.
    function state() public view returns (bytes32) {
        return _state;
    }

    /// @notice ERC-6551: the magic value when `signer` may act for this account; `data` is `abi.encode(to,
    ///         calldata)` of the intended call, or empty for "anything".
    function isValidSigner(address signer, bytes calldata data) external view returns (bytes4) {
        address to = address(0);
        bytes memory callData = "";
        if (data.length > 0) {
            if (data.length < 32) revert IPAccount__InvalidCalldata();
            (to, callData) = abi.decode(data, (address, bytes));
        }
        // ERC-6551 magic value: bytes4(keccak256("isValidSigner(address,bytes)"))
        return this.isValidSigner(signer, to, callData) ? bytes4(0x523e3260) : bytes4(0);
    }

    /// @notice True when the AccessController lets `signer` call `data`'s function of `to`; reverts otherwise.
    function isValidSigner(address signer, address to, bytes calldata data) public view returns (bool) {
        if (data.length > 0 && data.length < 4) revert IPAccount__InvalidCalldata();
        bytes4 selector = data.length >= 4 ? bytes4(data[:4]) : bytes4(0);
        IAccessControllerChecks(ACCESS_CONTROLLER).checkPermission(address(this), signer, to, selector);
        return true;
    }

    /// @notice ERC-1271 signatures of the account itself are disabled (as on Story).
    function isValidSignature(bytes32, bytes calldata) external pure returns (bytes4) {
        return 0xffffffff;
    }

    // --- execution --------------------------------------------------------------------------------------------------
    function execute(address to, uint256 value, bytes calldata data) external payable returns (bytes memory result) {
        result = _executeAs(msg.sender, to, value, data);
        emit Executed(to, value, data, _state);
    }

    /// @notice ERC-6551 executable interface; only operation 0 (CALL) is supported.
    function execute(address to, uint256 value, bytes calldata data, uint8 operation)
        external
        payable
        returns (bytes memory result)
    {
        if (operation != 0) revert IPAccount__InvalidOperation();
        result = _executeAs(msg.sender, to, value, data);
        emit Executed(to, value, data, _state);
    }

    /// @notice Several calls in order, each checked and counted like `execute`.
    function executeBatch(Call[] calldata calls, uint8 operation) external payable returns (bytes[] memory results) {
        if (operation != 0) revert IPAccount__InvalidOperation();
        results = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            results[i] = _executeAs(msg.sender, calls[i].target, calls[i].value, calls[i].data);
            emit Executed(calls[i].target, calls[i].value, calls[i].data, _state);
        }
    }

    /// @notice Executes a call `signer` signed (EIP-712, see the contract notes); anyone may submit it.
    function executeWithSig(
        address to,
        uint256 value,
        bytes calldata data,
        address signer,
        uint256 deadline,
        bytes calldata signature
    ) external payable returns (bytes memory result) {
        if (signer == address(0)) revert IPAccount__InvalidSigner();
        if (deadline < block.timestamp) revert IPAccount__ExpiredSignature();
        _advanceState(to, value, data);
        bytes32 structHash = keccak256(abi.encode(_EXECUTE_TYPEHASH, to, value, keccak256(data), _state, deadline));
        bytes32 digest = MessageHashUtils.toTypedDataHash(_domainSeparator(), structHash);
        if (!_isValidSignatureNow(signer, digest, signature)) revert IPAccount__InvalidSignature();
        result = _call(signer, to, value, data);
        emit ExecutedWithSig(to, value, data, _state, deadline, signer, signature);
    }

    /// @notice ERC-5267: the EIP-712 domain signatures are checked against.
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", "Story Protocol IP Account", "1", block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    // --- namespaced storage (Story's IPAccountStorage) ---------------------------------------------------------------
    function setBytes(bytes32 key, bytes calldata value) external onlyRegisteredModule {
        bytesData[_namespace(msg.sender)][key] = value;
    }

    function setBytesBatch(bytes32[] calldata keys, bytes[] calldata values) external onlyRegisteredModule {
        if (keys.length != values.length) revert IPAccountStorage__InvalidBatchLengths();
        for (uint256 i = 0; i < keys.length; i++) {
            bytesData[_namespace(msg.sender)][keys[i]] = values[i];
        }
    }

    function setBytes32(bytes32 key, bytes32 value) external onlyRegisteredModule {
        bytes32Data[_namespace(msg.sender)][key] = value;
    }

    function setBytes32Batch(bytes32[] calldata keys, bytes32[] calldata values) external onlyRegisteredModule {
        if (keys.length != values.length) revert IPAccountStorage__InvalidBatchLengths();
        for (uint256 i = 0; i < keys.length; i++) {
            bytes32Data[_namespace(msg.sender)][keys[i]] = values[i];
        }
    }

    function getBytes(bytes32 key) external view returns (bytes memory) {
        return bytesData[_namespace(msg.sender)][key];
    }

    function getBytes(bytes32 namespace, bytes32 key) external view returns (bytes memory) {
        return bytesData[namespace][key];
    }

    function getBytes32(bytes32 key) external view returns (bytes32) {
        return bytes32Data[_namespace(msg.sender)][key];
    }

    function getBytes32(bytes32 namespace, bytes32 key) external view returns (bytes32) {
        return bytes32Data[namespace][key];
    }

    function getBytesBatch(bytes32[] calldata namespaces, bytes32[] calldata keys)
        external
        view
        returns (bytes[] memory values)
    {
        if (namespaces.length != keys.length) revert IPAccountStorage__InvalidBatchLengths();
        values = new bytes[](keys.length);
        for (uint256 i = 0; i < keys.length; i++) {
            values[i] = bytesData[namespaces[i]][keys[i]];
        }
    }

    function getBytes32Batch(bytes32[] calldata namespaces, bytes32[] calldata keys)
        external
        view
        returns (bytes32[] memory values)
    {
        if (namespaces.length != keys.length) revert IPAccountStorage__InvalidBatchLengths();
        values = new bytes32[](keys.length);
        for (uint256 i = 0; i < keys.length; i++) {
            values[i] = bytes32Data[namespaces[i]][keys[i]];
        }
    }

    // --- receivers and introspection ----------------------------------------------------------------------------------
    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return IERC721Receiver.onERC721Received.selector;
    }

    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external pure returns (bytes4) {
        return IERC1155Receiver.onERC1155Received.selector;
    }

    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return IERC1155Receiver.onERC1155BatchReceived.selector;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == _ERC6551_ACCOUNT_ID
            || interfaceId == _ERC6551_EXECUTABLE_ID || interfaceId == type(IERC721Receiver).interfaceId
            || interfaceId == type(IERC1155Receiver).interfaceId;
    }

    // --- internals --------------------------------------------------------------------------------------------------
    modifier onlyRegisteredModule() {
        if (
            msg.sender != LICENSE_REGISTRY && !IModuleRegistryLookup(MODULE_REGISTRY).isRegistered(msg.sender)
        ) revert IPAccountStorage__NotRegisteredModule(msg.sender);
        _;
    }

    function _executeAs(address signer, address to, uint256 value, bytes calldata data)
        private
        returns (bytes memory)
    {
        _advanceState(to, value, data);
        return _call(signer, to, value, data);
    }

    function _call(address signer, address to, uint256 value, bytes calldata data) private returns (bytes memory) {
        if (!isValidSigner(signer, to, data)) revert IPAccount__InvalidSigner();
        (bool ok, bytes memory result) = to.call{value: value}(data);
        if (!ok) {
            // Bubble the callee's revert data unchanged, so callers decode the module's own custom error.
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
        return result;
    }

    function _advanceState(address to, uint256 value, bytes calldata data) private {
        _state = keccak256(
            abi.encode(_state, abi.encodeWithSignature("execute(address,uint256,bytes)", to, value, data))
        );
    }

    function _domainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(_DOMAIN_TYPEHASH, _NAME_HASH, _VERSION_HASH, block.chainid, address(this)));
    }

    function _namespace(address module) private pure returns (bytes32) {
        return bytes32(uint256(uint160(module)));
    }

    /// @dev An EOA's ECDSA signature, or a contract's ERC-1271 answer (OpenZeppelin's `SignatureChecker` for an
    ///      address signer, without its ERC-7913 part, whose `Bytes` library needs Cancun's MCOPY: this contract
    ///      ships in the Shanghai set too).
    function _isValidSignatureNow(address signer, bytes32 hash, bytes calldata signature) private view returns (bool) {
        if (signer.code.length == 0) {
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
            return err == ECDSA.RecoverError.NoError && recovered == signer;
        }
        (bool success, bytes memory result) =
            signer.staticcall(abi.encodeCall(IERC1271.isValidSignature, (hash, signature)));
        return success && result.length >= 32
            && abi.decode(result, (bytes32)) == bytes32(IERC1271.isValidSignature.selector);
    }
}
