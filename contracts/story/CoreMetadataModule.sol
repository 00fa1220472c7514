// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";

import {AccessControlled} from "./AccessControlled.sol";
import {IIPAccountOwner} from "./StoryInterfaces.sol";

/// @title CoreMetadataModule — an IP's metadata URI and hash and its NFT's token URI and hash (Story's module).
/// @notice Every setter is gated by {AccessControlled}: the IP account itself, its owner, or an operator the owner
///         allowed (the workflows obtain a one-transaction permission for `setAll` through `executeWithSig`).
///         `freezeMetadata` makes an IP's metadata immutable for good.
contract CoreMetadataModule is AccessControlled {
    struct CoreMetadata {
        string metadataURI;
        bytes32 metadataHash;
        string nftTokenURI;
        bytes32 nftMetadataHash;
        bool frozen;
    }

    mapping(address ipId => CoreMetadata) private _metadata;

    event MetadataURISet(address indexed ipId, string metadataURI, bytes32 metadataHash);
    event NFTTokenURISet(address indexed ipId, string nftTokenURI, bytes32 nftMetadataHash);
    event MetadataFrozen(address indexed ipId);

    error CoreMetadataModule__MetadataAlreadyFrozen();

    constructor(address accessController, address ipAssetRegistry)
        AccessControlled(accessController, ipAssetRegistry)
    {}

    function name() external pure returns (string memory) {
        return "CORE_METADATA_MODULE";
    }

    function setMetadataURI(address ipId, string calldata metadataURI, bytes32 metadataHash)
        external
        verifyPermission(ipId)
    {
        _setMetadataURI(ipId, metadataURI, metadataHash);
    }

    /// @notice Records the NFT's current token URI with `nftMetadataHash`.
    function updateNftTokenURI(address ipId, bytes32 nftMetadataHash) external verifyPermission(ipId) {
        _updateNftTokenURI(ipId, nftMetadataHash);
    }

    function setAll(address ipId, string calldata metadataURI, bytes32 metadataHash, bytes32 nftMetadataHash)
        external
        verifyPermission(ipId)
    {
        _setMetadataURI(ipId, metadataURI, metadataHash);
        _updateNftTokenURI(ipId, nftMetadataHash);
    }

    function freezeMetadata(address ipId) external verifyPermission(ipId) {
        _metadata[ipId].frozen = true;
        emit MetadataFrozen(ipId);
    }

    function isMetadataFrozen(address ipId) external view returns (bool) {
        return _metadata[ipId].frozen;
    }

    /// @notice Everything recorded for an IP (read by the CoreMetadataViewModule).
    function getMetadata(address ipId)
        external
        view
        returns (string memory metadataURI, bytes32 metadataHash, string memory nftTokenURI, bytes32 nftMetadataHash)
    {
        CoreMetadata storage m = _metadata[ipId];
        return (m.metadataURI, m.metadataHash, m.nftTokenURI, m.nftMetadataHash);
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7; // ERC-165
    }

    function _setMetadataURI(address ipId, string calldata metadataURI, bytes32 metadataHash) private {
        CoreMetadata storage m = _writable(ipId);
        m.metadataURI = metadataURI;
        m.metadataHash = metadataHash;
        emit MetadataURISet(ipId, metadataURI, metadataHash);
    }

    function _updateNftTokenURI(address ipId, bytes32 nftMetadataHash) private {
        CoreMetadata storage m = _writable(ipId);
        (, address tokenContract, uint256 tokenId) = IIPAccountOwner(ipId).token();
        string memory uri = "";
        try IERC721Metadata(tokenContract).tokenURI(tokenId) returns (string memory value) {
            uri = value;
        } catch {}
        m.nftTokenURI = uri;
        m.nftMetadataHash = nftMetadataHash;
        emit NFTTokenURISet(ipId, uri, nftMetadataHash);
    }

    function _writable(address ipId) private view returns (CoreMetadata storage m) {
        m = _metadata[ipId];
        if (m.frozen) revert CoreMetadataModule__MetadataAlreadyFrozen();
    }
}
