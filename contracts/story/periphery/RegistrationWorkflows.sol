// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BeaconProxy} from "@openzeppelin/contracts/proxy/beacon/BeaconProxy.sol";

import {IIPAssetRegistryLookup} from "../StoryInterfaces.sol";
import {IPMetadata, SignatureData} from "../StoryTypes.sol";
import {SPGNFT} from "./SPGNFT.sol";
import {WorkflowBase} from "./WorkflowBase.sol";

/// @title RegistrationWorkflows — create SPG NFT collections; mint-and-register and register-with-metadata.
/// @notice `createCollection` deploys a collection (a beacon proxy of the SPGNFT implementation) and emits
///         `CollectionCreated`. `mintAndRegisterIp` mints from a collection (caller needs the minter role unless
///         minting is public; the caller pays the mint fee), registers the IP, sets its metadata and sends the NFT
///         to `recipient`. `registerIp` registers an NFT the caller owns and sets its metadata with the caller's
///         signature (see WorkflowBase).
contract RegistrationWorkflows is WorkflowBase {
    /// @notice The beacon the collections proxy through.
    address public immutable NFT_CONTRACT_BEACON;

    event CollectionCreated(address indexed spgNftContract);

    constructor(
        address accessController,
        address coreMetadataModule,
        address ipAssetRegistry,
        address licenseRegistry,
        address licensingModule,
        address pilTemplate,
        address nftContractBeacon
    ) WorkflowBase(accessController, coreMetadataModule, ipAssetRegistry, licenseRegistry, licensingModule, pilTemplate) {
        NFT_CONTRACT_BEACON = nftContractBeacon;
    }

    function getNftContractBeacon() external view returns (address) {
        return NFT_CONTRACT_BEACON;
    }

    function createCollection(SPGNFT.InitParams calldata spgNftInitParams) external returns (address spgNftContract) {
        spgNftContract = address(new BeaconProxy(NFT_CONTRACT_BEACON, ""));
        SPGNFT(spgNftContract).initialize(spgNftInitParams);
        emit CollectionCreated(spgNftContract);
    }

    function mintAndRegisterIp(
        address spgNftContract,
        address recipient,
        IPMetadata calldata ipMetadata,
        bool allowDuplicates
    ) external onlyMintAuthorized(spgNftContract) returns (address ipId, uint256 tokenId) {
        (ipId, tokenId) = _mintAndRegister(spgNftContract, ipMetadata, allowDuplicates);
        _deliver(spgNftContract, recipient, tokenId);
    }

    function registerIp(
        address nftContract,
        uint256 tokenId,
        IPMetadata calldata ipMetadata,
        SignatureData calldata sigMetadata
    ) external returns (address ipId) {
        _requireSigner(sigMetadata.signer);
        ipId = IIPAssetRegistryLookup(IP_ASSET_REGISTRY).register(block.chainid, nftContract, tokenId);
        _setMetadataWithSig(ipId, ipMetadata, sigMetadata);
    }
}
