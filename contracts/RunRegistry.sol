// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title RunRegistry
/// @notice Anchors the Merkle root of every pipeline run, so each metric, param, tag, artifact and lineage entry a
///         run recorded can later be proven against the chain.
/// @dev Storage is one slot per run (the root). The manifest CID, the anchoring block and time are carried by the
///      `RunAnchored` event (indexed by pipeline and run) instead of storage: that keeps an anchor at one fresh
///      SSTORE (~50k gas per single anchor, ~27k per run in a batch) and keeps state growth minimal.
///
///      pipelineId = keccak256(bytes(pipelineName)). Leaves are domain-separated and double-hashed like
///      OpenZeppelin's StandardMerkleTree: leaf = keccak256(bytes.concat(keccak256(abi.encode(KIND, ...fields)))).
///      Internal nodes hash the sorted pair (OpenZeppelin MerkleProof). See docs/anchoring.md.
contract RunRegistry is AccessControl {
    /// @notice Accounts allowed to anchor runs (the metadata store's sender key).
    bytes32 public constant ANCHOR_ROLE = keccak256("ANCHOR_ROLE");

    /// @notice Domain tag of metric leaves: abi.encode(METRIC_LEAF_KIND, string name, int256 value1e18, uint256 step).
    bytes32 public constant METRIC_LEAF_KIND = keccak256("anacostia.leaf.metric.v1");

    struct AnchorInput {
        bytes32 pipelineId;
        uint64 runId;
        bytes32 merkleRoot;
        string manifestCid;
    }

    /// @dev pipelineId => runId => Merkle root (zero = not anchored).
    mapping(bytes32 pipelineId => mapping(uint64 runId => bytes32 root)) private _roots;

    /// @notice A run was anchored. The indexer and the Python wrapper read CID, block and time from this event.
    event RunAnchored(bytes32 indexed pipelineId, uint64 indexed runId, bytes32 merkleRoot, string manifestCid);

    /// @notice `anchorRuns` met a run that is already anchored and left it unchanged (the batch continues).
    event AnchorSkipped(bytes32 indexed pipelineId, uint64 indexed runId, bytes32 existingRoot, bytes32 offeredRoot);

    error RunAlreadyAnchored(bytes32 pipelineId, uint64 runId, bytes32 existingRoot);
    error RunNotAnchored(bytes32 pipelineId, uint64 runId);
    error ZeroMerkleRoot(bytes32 pipelineId, uint64 runId);
    error EmptyManifestCid(bytes32 pipelineId, uint64 runId);
    error EmptyBatch();
    error ZeroAddress();

    /// @param admin receives DEFAULT_ADMIN_ROLE (grants and revokes ANCHOR_ROLE).
    /// @param anchorer receives ANCHOR_ROLE; pass address(0) to grant it later.
    constructor(address admin, address anchorer) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (anchorer != address(0)) _grantRole(ANCHOR_ROLE, anchorer);
    }

    // --- writes ----------------------------------------------------------------------------------------------------

    /// @notice Anchor one run. Reverts with RunAlreadyAnchored when the run already has a root.
    function anchorRun(bytes32 pipelineId, uint64 runId, bytes32 merkleRoot, string calldata manifestCid)
        external
        onlyRole(ANCHOR_ROLE)
    {
        _checkInput(pipelineId, runId, merkleRoot, manifestCid);
        mapping(uint64 => bytes32) storage roots = _roots[pipelineId];
        bytes32 existing = roots[runId];
        if (existing != bytes32(0)) revert RunAlreadyAnchored(pipelineId, runId, existing);
        roots[runId] = merkleRoot;
        emit RunAnchored(pipelineId, runId, merkleRoot, manifestCid);
    }

    /// @notice Anchor several runs in one transaction.
    /// @dev A run that is already anchored is skipped (AnchorSkipped, its root is never overwritten) so that one
    ///      anchor whose receipt was lost cannot block the rest of an outbox batch; the sender compares the stored
    ///      root with its own afterwards. Malformed inputs (zero root, empty CID) revert the whole batch.
    function anchorRuns(AnchorInput[] calldata anchors) external onlyRole(ANCHOR_ROLE) {
        uint256 count = anchors.length;
        if (count == 0) revert EmptyBatch();
        for (uint256 i = 0; i < count; ++i) {
            AnchorInput calldata a = anchors[i];
            _checkInput(a.pipelineId, a.runId, a.merkleRoot, a.manifestCid);
            mapping(uint64 => bytes32) storage roots = _roots[a.pipelineId];
            bytes32 existing = roots[a.runId];
            if (existing != bytes32(0)) {
                emit AnchorSkipped(a.pipelineId, a.runId, existing, a.merkleRoot);
                continue;
            }
            roots[a.runId] = a.merkleRoot;
            emit RunAnchored(a.pipelineId, a.runId, a.merkleRoot, a.manifestCid);
        }
    }

    // --- reads -----------------------------------------------------------------------------------------------------

    /// @notice The run's Merkle root, or zero when it is not anchored.
    function runRoot(bytes32 pipelineId, uint64 runId) external view returns (bytes32) {
        return _roots[pipelineId][runId];
    }

    function isAnchored(bytes32 pipelineId, uint64 runId) external view returns (bool) {
        return _roots[pipelineId][runId] != bytes32(0);
    }

    /// @notice True when `leaf` (already double-hashed) is in the run's tree. Reverts RunNotAnchored for unknown runs.
    function verifyProof(bytes32 pipelineId, uint64 runId, bytes32 leaf, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return MerkleProof.verifyCalldata(proof, _anchoredRoot(pipelineId, runId), leaf);
    }

    /// @notice The leaf of a metric: `value` is the metric scaled by 1e18 (exact decimal, see docs/anchoring.md).
    function metricLeaf(string calldata name, int256 value, uint256 step) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(METRIC_LEAF_KIND, name, value, step))));
    }

    /// @notice True when the run logged metric `name` = `value` (1e18-scaled) at `step`: a contract can gate on values.
    function verifyMetric(
        bytes32 pipelineId,
        uint64 runId,
        string calldata name,
        int256 value,
        uint256 step,
        bytes32[] calldata proof
    ) external view returns (bool) {
        return MerkleProof.verifyCalldata(proof, _anchoredRoot(pipelineId, runId), metricLeaf(name, value, step));
    }

    // --- internals -------------------------------------------------------------------------------------------------

    function _anchoredRoot(bytes32 pipelineId, uint64 runId) private view returns (bytes32 root) {
        root = _roots[pipelineId][runId];
        if (root == bytes32(0)) revert RunNotAnchored(pipelineId, runId);
    }

    function _checkInput(bytes32 pipelineId, uint64 runId, bytes32 merkleRoot, string calldata manifestCid)
        private
        pure
    {
        if (merkleRoot == bytes32(0)) revert ZeroMerkleRoot(pipelineId, runId);
        if (bytes(manifestCid).length == 0) revert EmptyManifestCid(pipelineId, runId);
    }
}
