// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

import {CoreMetadataModule} from "./CoreMetadataModule.sol";
import {IIPAccountOwner, IIPAssetRegistryLookup} from "./StoryInterfaces.sol";

/// @title CoreMetadataViewModule — read-only view of an IP's core metadata (Story's view module).
contract CoreMetadataViewModule {
    address public immutable IP_ASSET_REGISTRY;
    address public immutable MODULE_REGISTRY;
    address public immutable CORE_METADATA_MODULE;

    struct CoreMetadata {
        string metadataURI;
        bytes32 metadataHash;
        string nftTokenURI;
        bytes32 nftMetadataHash;
        uint256 registrationDate;
        address owner;
    }

    constructor(address ipAssetRegistry, address moduleRegistry, address coreMetadataModule) {
        IP_ASSET_REGISTRY = ipAssetRegistry;
        MODULE_REGISTRY = moduleRegistry;
        CORE_METADATA_MODULE = coreMetadataModule;
    }

    function name() external pure returns (string memory) {
        return "CORE_METADATA_VIEW_MODULE";
    }

    function coreMetadataModule() external view returns (address) {
        return CORE_METADATA_MODULE;
    }

    function getCoreMetadata(address ipId) public view returns (CoreMetadata memory core) {
        (core.metadataURI, core.metadataHash, core.nftTokenURI, core.nftMetadataHash) =
            CoreMetadataModule(CORE_METADATA_MODULE).getMetadata(ipId);
        core.registrationDate = IIPAssetRegistryLookup(IP_ASSET_REGISTRY).registrationDate(ipId);
        core.owner = IIPAccountOwner(ipId).owner();
    }

    function getMetadataURI(address ipId) external view returns (string memory) {
        return getCoreMetadata(ipId).metadataURI;
    }

    function getMetadataHash(address ipId) external view returns (bytes32) {
        return getCoreMetadata(ipId).metadataHash;
    }

    function getNftTokenURI(address ipId) external view returns (string memory) {
        return getCoreMetadata(ipId).nftTokenURI;
    }

    function getNftMetadataHash(address ipId) external view returns (bytes32) {
        return getCoreMetadata(ipId).nftMetadataHash;
    }

    function getRegistrationDate(address ipId) external view returns (uint256) {
        return IIPAssetRegistryLookup(IP_ASSET_REGISTRY).registrationDate(ipId);
    }

    function getOwner(address ipId) external view returns (address) {
        return IIPAccountOwner(ipId).owner();
    }

    /// @notice The core metadata as a JSON object string.
    function getJsonString(address ipId) external view returns (string memory) {
        CoreMetadata memory c = getCoreMetadata(ipId);
        return string.concat(
            '{"ipId":"', Strings.toHexString(ipId),
            '","metadataURI":"', c.metadataURI,
            '","metadataHash":"', Strings.toHexString(uint256(c.metadataHash), 32),
            '","nftTokenURI":"', c.nftTokenURI,
            '","nftMetadataHash":"', Strings.toHexString(uint256(c.nftMetadataHash), 32),
            '","registrationDate":"', Strings.toString(c.registrationDate),
            '","owner":"', Strings.toHexString(c.owner), '"}'
        );
    }

    function isSupported(address ipId) external view returns (bool) {
        return IIPAssetRegistryLookup(IP_ASSET_REGISTRY).isRegistered(ipId);
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7;
    }
}
