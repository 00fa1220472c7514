// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

import {StoryDeployable} from "./StoryDeployable.sol";

/// @title LicenseToken — the ERC-721 license tokens minted by the LicensingModule (ids from 0, as on Story).
/// @notice Each token records the licensor IP, the template and the terms id it licenses; tokens of terms that are
///         not transferable cannot change hands (only mint and burn). Minting is reserved to LICENSING_MODULE_ROLE.
/// @dev name() and symbol() are constants rather than ERC721 constructor storage, so the runtime code placed at
///      Story's address with `anvil_setCode` reports them too.
contract LicenseToken is ERC721, AccessControl, StoryDeployable {
    bytes32 public constant LICENSING_MODULE_ROLE = keccak256("LICENSING_MODULE_ROLE");

    struct LicenseTokenMetadata {
        address licensorIpId;
        address licenseTemplate;
        uint256 licenseTermsId;
        bool transferable;
    }

    uint256 private _totalMinted;
    mapping(uint256 tokenId => LicenseTokenMetadata) private _metadata;

    event LicenseTokenMinted(address indexed minter, address indexed receiver, uint256 indexed tokenId);

    error LicenseToken__NotTransferable();
    error LicenseToken__ZeroAmount();
    error LicenseToken__TokenNotMinted(uint256 tokenId);
    error LicenseToken__NotLicenseTokenOwner(uint256 tokenId, address holder, address tokenOwner);

    constructor() ERC721("Programmable IP License Token", "PILicenseToken") {}

    /// @notice One-time setup by the deployer: admin and the licensing module that mints.
    function initialize(address admin, address licensingModule) external {
        _initializeOnce(admin);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(LICENSING_MODULE_ROLE, licensingModule);
    }

    function name() public pure override returns (string memory) {
        return "Programmable IP License Token";
    }

    function symbol() public pure override returns (string memory) {
        return "PILicenseToken";
    }

    /// @notice Mints `amount` consecutive tokens to `receiver`; returns the first id (licensing module only).
    function mintLicenseTokens(
        address licensorIpId,
        address licenseTemplate,
        uint256 licenseTermsId,
        uint256 amount,
        address minter,
        address receiver,
        bool transferable
    ) external onlyRole(LICENSING_MODULE_ROLE) returns (uint256 startLicenseTokenId) {
        if (amount == 0) revert LicenseToken__ZeroAmount();
        startLicenseTokenId = _totalMinted;
        _totalMinted += amount;
        LicenseTokenMetadata memory metadata =
            LicenseTokenMetadata(licensorIpId, licenseTemplate, licenseTermsId, transferable);
        for (uint256 tokenId = startLicenseTokenId; tokenId < startLicenseTokenId + amount; tokenId++) {
            _metadata[tokenId] = metadata;
            _mint(receiver, tokenId);
            emit LicenseTokenMinted(minter, receiver, tokenId);
        }
    }

    /// @notice Burns license tokens `holder` owns, e.g. when they are used to register a derivative (module only).
    function burnLicenseTokens(address holder, uint256[] calldata tokenIds) external onlyRole(LICENSING_MODULE_ROLE) {
        for (uint256 i = 0; i < tokenIds.length; i++) {
            address tokenOwner = _ownerOf(tokenIds[i]);
            if (tokenOwner != holder) revert LicenseToken__NotLicenseTokenOwner(tokenIds[i], holder, tokenOwner);
            _burn(tokenIds[i]);
        }
    }

    function totalMintedTokens() external view returns (uint256) {
        return _totalMinted;
    }

    function getLicensorIpId(uint256 tokenId) external view returns (address) {
        return _minted(tokenId).licensorIpId;
    }

    function getLicenseTermsId(uint256 tokenId) external view returns (uint256) {
        return _minted(tokenId).licenseTermsId;
    }

    function getLicenseTemplate(uint256 tokenId) external view returns (address) {
        return _minted(tokenId).licenseTemplate;
    }

    /// @notice Story's revocation flag: this local suite has no dispute module, so nothing is ever revoked.
    function isLicenseTokenRevoked(uint256 tokenId) external view returns (bool) {
        _minted(tokenId);
        return false;
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    function _minted(uint256 tokenId) private view returns (LicenseTokenMetadata storage) {
        if (tokenId >= _totalMinted) revert LicenseToken__TokenNotMinted(tokenId);
        return _metadata[tokenId];
    }

    /// @dev Blocks holder-to-holder transfers of non-transferable licenses; mint (from 0) and burn (to 0) pass.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        address from = _ownerOf(tokenId);
        if (from != address(0) && to != address(0) && !_metadata[tokenId].transferable) {
            revert LicenseToken__NotTransferable();
        }
        return super._update(to, tokenId, auth);
    }
}
