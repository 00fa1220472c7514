// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC721URIStorage} from "@openzeppelin/contracts/token/ERC721/extensions/ERC721URIStorage.sol";

import {IMetricVerifier} from "./interfaces/IMetricVerifier.sol";

/// @title ModelNFT — one ERC-721 token per trained model, linked to the anchored pipeline run that produced it.
/// @notice Only MINTER_ROLE mints. Each token carries its provenance: the pipeline id (keccak256 of the pipeline
///         name), the run id, the run's Merkle anchor root and the IPFS CID of the run manifest. The tokenURI is the
///         ipfs:// URI of the ERC-721 metadata JSON.
/// @dev Provenance is stored compactly in three slots: (pipelineId), (anchorRoot), (runId | mintedAt) plus the
///      keccak256 of the manifest CID string; the CID string itself is emitted in {ModelMinted} and can be checked
///      against {manifestCidHash}. When a RunRegistry is configured, minting requires the claimed anchor root to be
///      the root the registry holds for (pipelineId, runId), so a token cannot point at a run that was not anchored.
///      A run yields at most one token ({tokenOfRun}; RunAlreadyMinted otherwise), which makes minting idempotent.
contract ModelNFT is ERC721URIStorage, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    struct Provenance {
        bytes32 pipelineId;
        bytes32 anchorRoot;
        bytes32 manifestCidHash;
        uint64 runId;
        uint64 mintedAt;
    }

    /// @notice The RunRegistry consulted at mint time, or address(0) when anchors are not checked on chain.
    IMetricVerifier public immutable runRegistry;

    uint256 private _nextTokenId = 1;
    mapping(uint256 tokenId => Provenance) private _provenance;
    /// @dev keccak256(pipelineId, runId) => token id: one model token per anchored run, so a retried mint whose
    ///      first attempt was mined after all cannot create a duplicate.
    mapping(bytes32 runKey => uint256 tokenId) private _tokenOfRun;

    event ModelMinted(
        uint256 indexed tokenId,
        address indexed to,
        bytes32 indexed pipelineId,
        uint64 runId,
        bytes32 anchorRoot,
        string manifestCid
    );

    error EmptyTokenURI();
    error EmptyManifestCid();
    error ZeroPipelineId();
    error ZeroAnchorRoot();
    error AnchorMismatch(bytes32 pipelineId, uint64 runId, bytes32 claimed, bytes32 anchored);
    error RunAlreadyMinted(bytes32 pipelineId, uint64 runId, uint256 tokenId);

    constructor(string memory name_, string memory symbol_, address admin, IMetricVerifier registry)
        ERC721(name_, symbol_)
    {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        runRegistry = registry;
    }

    /// @notice Mint a model token to `to` with its provenance. Token ids start at 1.
    function mint(
        address to,
        string calldata uri,
        bytes32 pipelineId,
        uint64 runId,
        bytes32 anchorRoot,
        string calldata manifestCid
    ) external onlyRole(MINTER_ROLE) returns (uint256 tokenId) {
        if (bytes(uri).length == 0) revert EmptyTokenURI();
        if (bytes(manifestCid).length == 0) revert EmptyManifestCid();
        if (pipelineId == bytes32(0)) revert ZeroPipelineId();
        if (anchorRoot == bytes32(0)) revert ZeroAnchorRoot();
        _checkAnchor(pipelineId, runId, anchorRoot);
        tokenId = _nextTokenId++;
        _claimRun(pipelineId, runId, tokenId);
        _provenance[tokenId] = Provenance({
            pipelineId: pipelineId,
            anchorRoot: anchorRoot,
            manifestCidHash: keccak256(bytes(manifestCid)),
            runId: runId,
            mintedAt: uint64(block.timestamp)
        });
        _safeMint(to, tokenId);
        _setTokenURI(tokenId, uri);
        emit ModelMinted(tokenId, to, pipelineId, runId, anchorRoot, manifestCid);
    }

    /// @notice The token minted for a run (0 = none yet).
    function tokenOfRun(bytes32 pipelineId, uint64 runId) external view returns (uint256) {
        return _tokenOfRun[keccak256(abi.encode(pipelineId, runId))];
    }

    function _checkAnchor(bytes32 pipelineId, uint64 runId, bytes32 anchorRoot) private view {
        if (address(runRegistry) != address(0)) {
            bytes32 anchored = runRegistry.runRoot(pipelineId, runId);
            if (anchored != anchorRoot) revert AnchorMismatch(pipelineId, runId, anchorRoot, anchored);
        }
    }

    function _claimRun(bytes32 pipelineId, uint64 runId, uint256 tokenId) private {
        bytes32 runKey = keccak256(abi.encode(pipelineId, runId));
        uint256 existing = _tokenOfRun[runKey];
        if (existing != 0) revert RunAlreadyMinted(pipelineId, runId, existing);
        _tokenOfRun[runKey] = tokenId;
    }

    /// @notice The provenance of an existing token (reverts with ERC721NonexistentToken otherwise).
    function provenance(uint256 tokenId) external view returns (Provenance memory) {
        _requireOwned(tokenId);
        return _provenance[tokenId];
    }

    /// @notice The pipeline and run a token was minted from (the two fields ModelVersions needs).
    function runOf(uint256 tokenId) external view returns (bytes32 pipelineId, uint64 runId, bytes32 anchorRoot) {
        _requireOwned(tokenId);
        Provenance storage p = _provenance[tokenId];
        return (p.pipelineId, p.runId, p.anchorRoot);
    }

    /// @notice Number of tokens minted so far (ids are 1..totalMinted()).
    function totalMinted() external view returns (uint256) {
        return _nextTokenId - 1;
    }

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721URIStorage, AccessControl)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }
}
