// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";

/// @title SPGNFT — an NFT collection created through RegistrationWorkflows.createCollection (Story's SPG NFT).
/// @notice Token ids start at 1. Minting needs the collection open and, unless public minting is on, the MINTER
///         role; a non-zero mint fee is pulled from the payer in the fee token and withdrawn to the fee recipient
///         by anyone (`withdrawToken`). A metadata hash already used refuses a second mint unless duplicates are
///         allowed. The owner and Story's periphery workflows hold ADMIN (role 0) and MINTER (role 1);
///         `mintByPeriphery` is reserved to the workflows. tokenURI is baseURI + the token's URI (or id).
/// @dev Collections are beacon proxies of this implementation: the periphery addresses are immutables, everything
///      else is set by `initialize` (once).
contract SPGNFT is ERC721URIStorage, AccessControl {
    using SafeERC20 for IERC20;

    struct InitParams {
        string name;
        string symbol;
        string baseURI;
        string contractURI;
        uint32 maxSupply;
        uint256 mintFee;
        address mintFeeToken;
        address mintFeeRecipient;
        address owner;
        bool mintOpen;
        bool isPublicMinting;
    }

    bytes32 public constant MINTER_ROLE = bytes32(uint256(1));

    address public immutable DERIVATIVE_WORKFLOWS_ADDRESS;
    address public immutable GROUPING_WORKFLOWS_ADDRESS;
    address public immutable LICENSE_ATTACHMENT_WORKFLOWS_ADDRESS;
    address public immutable REGISTRATION_WORKFLOWS_ADDRESS;
    address public immutable ROYALTY_TOKEN_DISTRIBUTION_WORKFLOWS_ADDRESS;

    bool private _initialized;
    string private _name;
    string private _symbol;
    string private _base;
    string private _contractURI;
    uint32 private _maxSupply;
    uint32 private _totalSupply;
    uint256 private _mintFee;
    address private _mintFeeToken;
    address private _mintFeeRecipient;
    bool private _mintOpen;
    bool private _publicMinting;
    mapping(bytes32 nftMetadataHash => uint256 tokenId) private _tokenIdByHash;

    event ContractURIUpdated();

    error SPGNFT__AlreadyInitialized();
    error SPGNFT__ZeroAddressParam();
    error SPGNFT__ZeroMaxSupply();
    error SPGNFT__MintingDenied();
    error SPGNFT__MintingClosed();
    error SPGNFT__MaxSupplyReached();
    error SPGNFT__CallerNotPeripheryContract();
    error SPGNFT__CallerNotFeeRecipientOrAdmin();
    error SPGNFT__CallerNotOwner(uint256 tokenId, address caller, address owner);
    error SPGNFT__DuplicatedNFTMetadataHash(address spgNftContract, uint256 tokenId, bytes32 nftMetadataHash);

    constructor(
        address derivativeWorkflows,
        address groupingWorkflows,
        address licenseAttachmentWorkflows,
        address registrationWorkflows,
        address royaltyTokenDistributionWorkflows
    ) ERC721("", "") {
        DERIVATIVE_WORKFLOWS_ADDRESS = derivativeWorkflows;
        GROUPING_WORKFLOWS_ADDRESS = groupingWorkflows;
        LICENSE_ATTACHMENT_WORKFLOWS_ADDRESS = licenseAttachmentWorkflows;
        REGISTRATION_WORKFLOWS_ADDRESS = registrationWorkflows;
        ROYALTY_TOKEN_DISTRIBUTION_WORKFLOWS_ADDRESS = royaltyTokenDistributionWorkflows;
    }

    /// @notice Set up a new collection (RegistrationWorkflows.createCollection, which deploys it, only).
    function initialize(InitParams calldata params) external {
        if (msg.sender != REGISTRATION_WORKFLOWS_ADDRESS) revert SPGNFT__CallerNotPeripheryContract();
        if (_initialized) revert SPGNFT__AlreadyInitialized();
        if (params.mintFee > 0 && params.mintFeeToken == address(0)) revert SPGNFT__ZeroAddressParam();
        if (params.maxSupply == 0) revert SPGNFT__ZeroMaxSupply();
        _initialized = true;
        _name = params.name;
        _symbol = params.symbol;
        _base = params.baseURI;
        _maxSupply = params.maxSupply;
        _mintFee = params.mintFee;
        _mintFeeToken = params.mintFeeToken;
        _mintFeeRecipient = params.mintFeeRecipient;
        _mintOpen = params.mintOpen;
        _publicMinting = params.isPublicMinting;
        _setContractURI(params.contractURI);
        _grantBoth(params.owner);
        _grantBoth(DERIVATIVE_WORKFLOWS_ADDRESS);
        _grantBoth(GROUPING_WORKFLOWS_ADDRESS);
        _grantBoth(LICENSE_ATTACHMENT_WORKFLOWS_ADDRESS);
        _grantBoth(REGISTRATION_WORKFLOWS_ADDRESS);
        _grantBoth(ROYALTY_TOKEN_DISTRIBUTION_WORKFLOWS_ADDRESS);
    }

    // --- views ------------------------------------------------------------------------------------------------------
    function name() public view override returns (string memory) {
        return _name;
    }

    function symbol() public view override returns (string memory) {
        return _symbol;
    }

    function totalSupply() external view returns (uint256) {
        return _totalSupply;
    }

    function mintFee() external view returns (uint256) {
        return _mintFee;
    }

    function mintFeeToken() external view returns (address) {
        return _mintFeeToken;
    }

    function mintFeeRecipient() external view returns (address) {
        return _mintFeeRecipient;
    }

    function mintOpen() external view returns (bool) {
        return _mintOpen;
    }

    function publicMinting() external view returns (bool) {
        return _publicMinting;
    }

    function baseURI() external view returns (string memory) {
        return _base;
    }

    function contractURI() external view returns (string memory) {
        return _contractURI;
    }

    function getTokenIdByMetadataHash(bytes32 nftMetadataHash) external view returns (uint256) {
        return _tokenIdByHash[nftMetadataHash];
    }

    // --- admin ------------------------------------------------------------------------------------------------------
    function setMintFee(uint256 fee) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _mintFee = fee;
    }

    function setMintFeeToken(address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _mintFeeToken = token;
    }

    function setMintFeeRecipient(address newFeeRecipient) external {
        if (msg.sender != _mintFeeRecipient && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert SPGNFT__CallerNotFeeRecipientOrAdmin();
        }
        _mintFeeRecipient = newFeeRecipient;
    }

    function setMintOpen(bool open) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _mintOpen = open;
    }

    function setPublicMinting(bool isPublicMinting) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _publicMinting = isPublicMinting;
    }

    function setBaseURI(string calldata newBaseURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _base = newBaseURI;
    }

    function setContractURI(string calldata newContractURI) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setContractURI(newContractURI);
    }

    /// @notice The token's holder updates its URI and records its metadata hash.
    function setTokenURI(uint256 tokenId, string calldata tokenUri, bytes32 nftMetadataHash) external {
        _requireHolder(tokenId);
        if (_tokenIdByHash[nftMetadataHash] == 0) _tokenIdByHash[nftMetadataHash] = tokenId;
        _setTokenURI(tokenId, tokenUri);
    }

    function setTokenURI(uint256 tokenId, string calldata tokenUri) external {
        _requireHolder(tokenId);
        _setTokenURI(tokenId, tokenUri);
    }

    // --- minting ----------------------------------------------------------------------------------------------------
    function mint(address to, string calldata nftMetadataURI, bytes32 nftMetadataHash, bool allowDuplicates)
        external
        returns (uint256 tokenId)
    {
        if (!_publicMinting && !hasRole(MINTER_ROLE, msg.sender)) revert SPGNFT__MintingDenied();
        return _mintToken(to, msg.sender, nftMetadataURI, nftMetadataHash, allowDuplicates);
    }

    function mintByPeriphery(
        address to,
        address payer,
        string calldata nftMetadataURI,
        bytes32 nftMetadataHash,
        bool allowDuplicates
    ) external returns (uint256 tokenId) {
        if (
            msg.sender != DERIVATIVE_WORKFLOWS_ADDRESS && msg.sender != GROUPING_WORKFLOWS_ADDRESS
                && msg.sender != LICENSE_ATTACHMENT_WORKFLOWS_ADDRESS && msg.sender != REGISTRATION_WORKFLOWS_ADDRESS
                && msg.sender != ROYALTY_TOKEN_DISTRIBUTION_WORKFLOWS_ADDRESS
        ) revert SPGNFT__CallerNotPeripheryContract();
        return _mintToken(to, payer, nftMetadataURI, nftMetadataHash, allowDuplicates);
    }

    /// @notice Sends the collection's whole balance of `token` (collected mint fees) to the fee recipient.
    function withdrawToken(address token) external {
        IERC20(token).safeTransfer(_mintFeeRecipient, IERC20(token).balanceOf(address(this)));
    }

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721URIStorage, AccessControl)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }

    // --- internals --------------------------------------------------------------------------------------------------
    function _mintToken(
        address to,
        address payer,
        string calldata nftMetadataURI,
        bytes32 nftMetadataHash,
        bool allowDuplicates
    ) private returns (uint256 tokenId) {
        if (!_mintOpen) revert SPGNFT__MintingClosed();
        if (_totalSupply + 1 > _maxSupply) revert SPGNFT__MaxSupplyReached();
        uint256 existing = _tokenIdByHash[nftMetadataHash];
        if (!allowDuplicates && existing != 0) {
            revert SPGNFT__DuplicatedNFTMetadataHash(address(this), existing, nftMetadataHash);
        }
        if (_mintFeeToken != address(0) && _mintFee > 0) {
            IERC20(_mintFeeToken).safeTransferFrom(payer, address(this), _mintFee);
        }
        tokenId = ++_totalSupply;
        if (existing == 0) _tokenIdByHash[nftMetadataHash] = tokenId;
        _safeMint(to, tokenId);
        if (bytes(nftMetadataURI).length > 0) _setTokenURI(tokenId, nftMetadataURI);
    }

    function _requireHolder(uint256 tokenId) private view {
        address holder = ownerOf(tokenId);
        if (holder != msg.sender) revert SPGNFT__CallerNotOwner(tokenId, msg.sender, holder);
    }

    function _grantBoth(address account) private {
        if (account == address(0)) return;
        _grantRole(DEFAULT_ADMIN_ROLE, account);
        _grantRole(MINTER_ROLE, account);
    }

    function _setContractURI(string memory newContractURI) private {
        if (keccak256(bytes(_contractURI)) != keccak256(bytes(newContractURI))) {
            _contractURI = newContractURI;
            emit ContractURIUpdated();
        }
    }

    function _baseURI() internal view override returns (string memory) {
        return _base;
    }
}
