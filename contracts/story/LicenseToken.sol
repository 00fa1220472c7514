// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721Enumerable} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721Enumerable.sol";

import {ILicenseRegistryCore, ILicenseTemplateCore} from "./StoryInterfaces.sol";
import {StoryDeployable} from "./StoryDeployable.sol";
import {STORY_MAX_PERCENT} from "./StoryTypes.sol";

/// @title LicenseToken — the ERC-721 license tokens minted by the LicensingModule (ids from 0, as on Story).
/// @notice Each token records the licensor IP, the template, the terms id, whether it may change hands and the
///         revenue share in force when it was minted. A non-transferable license can only leave the licensor IP
///         (mint, burn, or a transfer by the licensor itself). Used license tokens are burned when a derivative is
///         registered with them; the caller (the derivative's owner or its operator) or the derivative IP must hold
///         them. Minting and burning are reserved to LICENSING_MODULE_ROLE.
contract LicenseToken is ERC721Enumerable, AccessControl, StoryDeployable {
    bytes32 public constant LICENSING_MODULE_ROLE = keccak256("LICENSING_MODULE_ROLE");

    struct LicenseTokenMetadata {
        address licensorIpId;
        address licenseTemplate;
        uint256 licenseTermsId;
        bool transferable;
        uint32 commercialRevShare;
    }

    address public immutable LICENSE_REGISTRY;

    uint256 private _totalMinted;
    mapping(uint256 tokenId => LicenseTokenMetadata) private _metadata;
    mapping(address licensorIpId => uint256) private _licensorTotal;

    event LicenseTokenMinted(address indexed minter, address indexed receiver, uint256 indexed tokenId);

    error LicenseToken__NotTransferable();
    error LicenseToken__CommercialRevenueShareExceedMaxRevenueShare(
        uint32 commercialRevenueShare,
        uint32 maxRevenueShare,
        address ipId,
        address licenseTemplate,
        uint256 licenseTermsId
    );
    error LicenseToken__InvalidRoyaltyPercent(
        uint32 invalidRoyaltyPercent, address ipId, address licenseTemplate, uint256 licenseTermsId
    );
    error LicenseToken__ChildIPAlreadyHasBeenMintedLicenseTokens(address childIpId);
    error LicenseToken__CallerAndChildIPNotTokenOwner(
        uint256 tokenId, address caller, address childIpIp, address actualTokenOwner
    );
    error LicenseToken__AllLicenseTokensMustFromSameLicenseTemplate(
        address licenseTemplate, address anotherLicenseTemplate
    );
    error LicenseToken__TokenNotMinted(uint256 tokenId);

    constructor(address licenseRegistry) ERC721("Programmable IP License Token", "PILicenseToken") {
        LICENSE_REGISTRY = licenseRegistry;
    }

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
        uint32 maxRevenueShare
    ) external onlyRole(LICENSING_MODULE_ROLE) returns (uint256 startLicenseTokenId) {
        LicenseTokenMetadata memory metadata = LicenseTokenMetadata({
            licensorIpId: licensorIpId,
            licenseTemplate: licenseTemplate,
            licenseTermsId: licenseTermsId,
            transferable: ILicenseTemplateCore(licenseTemplate).isLicenseTransferable(licenseTermsId),
            commercialRevShare: ILicenseRegistryCore(LICENSE_REGISTRY).getRoyaltyPercent(
                licensorIpId, licenseTemplate, licenseTermsId
            )
        });
        if (maxRevenueShare != 0 && metadata.commercialRevShare > maxRevenueShare) {
            revert LicenseToken__CommercialRevenueShareExceedMaxRevenueShare(
                metadata.commercialRevShare, maxRevenueShare, licensorIpId, licenseTemplate, licenseTermsId
            );
        }
        if (metadata.commercialRevShare > STORY_MAX_PERCENT) {
            revert LicenseToken__InvalidRoyaltyPercent(
                metadata.commercialRevShare, licensorIpId, licenseTemplate, licenseTermsId
            );
        }
        startLicenseTokenId = _totalMinted;
        _totalMinted += amount;
        _licensorTotal[licensorIpId] += amount;
        for (uint256 i = 0; i < amount; i++) {
            uint256 tokenId = startLicenseTokenId + i;
            _metadata[tokenId] = metadata;
            _safeMint(receiver, tokenId);
            emit LicenseTokenMinted(minter, receiver, tokenId);
        }
    }

    /// @notice Burns used license tokens (licensing module only); `holder` is the derivative's owner.
    function burnLicenseTokens(address holder, uint256[] calldata tokenIds) external onlyRole(LICENSING_MODULE_ROLE) {
        holder; // recorded by the module's DerivativeRegistered event; any holder's tokens validated for the child
        for (uint256 i = 0; i < tokenIds.length; i++) {
            _burn(tokenIds[i]);
        }
    }

    /// @notice The parents, terms and revenue shares `tokenIds` license, after checking they may be used by
    ///         `caller` for `childIpId` (held by the caller or by the child IP, all of one template).
    function validateLicenseTokensForDerivative(address caller, address childIpId, uint256[] calldata tokenIds)
        external
        view
        returns (
            address licenseTemplate,
            address[] memory licensorIpIds,
            uint256[] memory licenseTermsIds,
            uint32[] memory commercialRevShares
        )
    {
        if (_licensorTotal[childIpId] != 0) revert LicenseToken__ChildIPAlreadyHasBeenMintedLicenseTokens(childIpId);
        licenseTemplate = _metadata[tokenIds[0]].licenseTemplate;
        licensorIpIds = new address[](tokenIds.length);
        licenseTermsIds = new uint256[](tokenIds.length);
        commercialRevShares = new uint32[](tokenIds.length);
        for (uint256 i = 0; i < tokenIds.length; i++) {
            LicenseTokenMetadata storage metadata = _metadata[tokenIds[i]];
            address tokenOwner = ownerOf(tokenIds[i]);
            if (tokenOwner != caller && tokenOwner != childIpId) {
                revert LicenseToken__CallerAndChildIPNotTokenOwner(tokenIds[i], caller, childIpId, tokenOwner);
            }
            if (metadata.licenseTemplate != licenseTemplate) {
                revert LicenseToken__AllLicenseTokensMustFromSameLicenseTemplate(
                    licenseTemplate, metadata.licenseTemplate
                );
            }
            licensorIpIds[i] = metadata.licensorIpId;
            licenseTermsIds[i] = metadata.licenseTermsId;
            commercialRevShares[i] = metadata.commercialRevShare;
        }
    }

    /// @notice The highest revenue share a license may carry (100%).
    // solhint-disable-next-line func-name-mixedcase
    function MAX_COMMERCIAL_REVENUE_SHARE() external pure returns (uint32) {
        return STORY_MAX_PERCENT;
    }

    function totalMintedTokens() external view returns (uint256) {
        return _totalMinted;
    }

    function getLicenseTokenMetadata(uint256 tokenId) external view returns (LicenseTokenMetadata memory) {
        return _minted(tokenId);
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

    function getTotalTokensByLicensor(address licensorIpId) external view returns (uint256) {
        return _licensorTotal[licensorIpId];
    }

    /// @notice Story's revocation flag: this suite has no dispute module, so nothing is ever revoked.
    function isLicenseTokenRevoked(uint256 tokenId) external view returns (bool) {
        _minted(tokenId);
        return false;
    }

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721Enumerable, AccessControl)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }

    function _minted(uint256 tokenId) private view returns (LicenseTokenMetadata storage) {
        if (tokenId >= _totalMinted) revert LicenseToken__TokenNotMinted(tokenId);
        return _metadata[tokenId];
    }

    /// @dev A non-transferable license moves only out of its licensor IP (besides mint and burn).
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        address from = _ownerOf(tokenId);
        if (from != address(0) && to != address(0)) {
            LicenseTokenMetadata storage metadata = _metadata[tokenId];
            if (!metadata.transferable && from != metadata.licensorIpId) revert LicenseToken__NotTransferable();
        }
        return super._update(to, tokenId, auth);
    }
}
