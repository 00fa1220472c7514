// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMetricVerifier} from "./interfaces/IMetricVerifier.sol";
import {ModelNFT} from "./ModelNFT.sol";

/// @title ModelVersions — model families with ordered versions and a verifiable promotion gate.
/// @notice A family (a name owned by an account) has versions 1, 2, 3, ... each a ModelNFT token. The family owner
///         sets, per stage (e.g. bytes32("staging"), bytes32("production")), a gate: one metric name, a threshold
///         (int256 scaled by 1e18, like RunRegistry values) and a direction (higher or lower is better).
///         `promote` moves a version into a stage only if RunRegistry.verifyMetric proves that the version's anchored
///         run logged exactly that metric value at that step, and the value meets the gate. Nobody, the owner
///         included, can put a model into a gated stage whose anchored evaluation misses the bar.
/// @dev Each stage holds at most one version at a time; promoting another version into it replaces the previous one
///      (both versions' stages change, and {StageChanged} is emitted for each). Roles are explicit: the family owner
///      configures gates and versions; promotion is open to the owner and to operators the owner approved.
contract ModelVersions {
    struct Family {
        address owner;
        uint32 versionCount;
        string name;
    }

    struct Gate {
        string metricName;
        int256 threshold;
        bool higherIsBetter;
        bool exists;
    }

    ModelNFT public immutable modelNFT;
    IMetricVerifier public immutable runRegistry;

    uint256 public familyCount;
    mapping(uint256 familyId => Family) private _families;
    mapping(uint256 familyId => mapping(uint32 version => uint256 tokenId)) private _versionToken;
    mapping(uint256 familyId => mapping(uint32 version => bytes32 stage)) private _versionStage;
    mapping(uint256 familyId => mapping(bytes32 stage => uint32 version)) private _stageVersion;
    mapping(uint256 familyId => mapping(bytes32 stage => Gate)) private _gates;
    mapping(uint256 familyId => mapping(address operator => bool)) private _operators;
    /// @notice The family a token was added to (0 = none); a token is a version of at most one family.
    mapping(uint256 tokenId => uint256 familyId) public familyOfToken;

    event FamilyCreated(uint256 indexed familyId, address indexed owner, string name);
    event FamilyOwnershipTransferred(uint256 indexed familyId, address indexed previousOwner, address indexed newOwner);
    event OperatorSet(uint256 indexed familyId, address indexed operator, bool approved);
    event VersionAdded(uint256 indexed familyId, uint32 indexed version, uint256 indexed tokenId);
    event GateSet(uint256 indexed familyId, bytes32 indexed stage, string metricName, int256 threshold, bool higherIsBetter);
    event GateRemoved(uint256 indexed familyId, bytes32 indexed stage);
    event StageChanged(uint256 indexed familyId, uint32 indexed version, bytes32 previousStage, bytes32 newStage);
    event VersionPromoted(
        uint256 indexed familyId,
        uint32 indexed version,
        bytes32 indexed stage,
        uint256 tokenId,
        string metricName,
        int256 value,
        uint256 step,
        uint32 replacedVersion
    );

    error EmptyFamilyName();
    error ZeroAddress();
    error UnknownFamily(uint256 familyId);
    error UnknownVersion(uint256 familyId, uint32 version);
    error NotFamilyOwner(uint256 familyId, address caller);
    error NotFamilyOwnerOrOperator(uint256 familyId, address caller);
    error NotTokenOwner(uint256 tokenId, address caller);
    error TokenAlreadyVersioned(uint256 tokenId, uint256 familyId);
    error InvalidStage();
    error NoGateForStage(uint256 familyId, bytes32 stage);
    error MetricNotGated(bytes32 stage, string expected, string given);
    error RunNotAnchored(bytes32 pipelineId, uint64 runId);
    error AnchorMismatch(bytes32 pipelineId, uint64 runId, bytes32 tokenRoot, bytes32 registryRoot);
    error MetricNotProven(bytes32 pipelineId, uint64 runId, string metricName, int256 value, uint256 step);
    error ThresholdNotMet(bytes32 stage, int256 value, int256 threshold, bool higherIsBetter);
    error AlreadyInStage(uint256 familyId, uint32 version, bytes32 stage);

    constructor(ModelNFT nft, IMetricVerifier registry) {
        if (address(nft) == address(0) || address(registry) == address(0)) revert ZeroAddress();
        modelNFT = nft;
        runRegistry = registry;
    }

    modifier onlyFamilyOwner(uint256 familyId) {
        address owner = _familyOwner(familyId);
        if (msg.sender != owner) revert NotFamilyOwner(familyId, msg.sender);
        _;
    }

    // --- families ----------------------------------------------------------------------------------------------

    /// @notice Create a family owned by the caller. Ids start at 1.
    function createFamily(string calldata name) external returns (uint256 familyId) {
        if (bytes(name).length == 0) revert EmptyFamilyName();
        familyId = ++familyCount;
        _families[familyId] = Family({owner: msg.sender, versionCount: 0, name: name});
        emit FamilyCreated(familyId, msg.sender, name);
    }

    function transferFamily(uint256 familyId, address newOwner) external onlyFamilyOwner(familyId) {
        if (newOwner == address(0)) revert ZeroAddress();
        emit FamilyOwnershipTransferred(familyId, msg.sender, newOwner);
        _families[familyId].owner = newOwner;
    }

    /// @notice Approve or revoke an account (e.g. a pipeline's hot key) that may call {promote} for this family.
    ///         Operators cannot change gates: the bar stays the owner's.
    function setOperator(uint256 familyId, address operator, bool approved) external onlyFamilyOwner(familyId) {
        if (operator == address(0)) revert ZeroAddress();
        _operators[familyId][operator] = approved;
        emit OperatorSet(familyId, operator, approved);
    }

    // --- versions ------------------------------------------------------------------------------------------------

    /// @notice Append a ModelNFT token the caller owns as the family's next version (1, 2, ...).
    function addVersion(uint256 familyId, uint256 tokenId) external onlyFamilyOwner(familyId) returns (uint32 version) {
        if (modelNFT.ownerOf(tokenId) != msg.sender) revert NotTokenOwner(tokenId, msg.sender);
        uint256 existing = familyOfToken[tokenId];
        if (existing != 0) revert TokenAlreadyVersioned(tokenId, existing);
        version = ++_families[familyId].versionCount;
        _versionToken[familyId][version] = tokenId;
        familyOfToken[tokenId] = familyId;
        emit VersionAdded(familyId, version, tokenId);
    }

    // --- gates ---------------------------------------------------------------------------------------------------

    function setGate(uint256 familyId, bytes32 stage, string calldata metricName, int256 threshold, bool higherIsBetter)
        external
        onlyFamilyOwner(familyId)
    {
        if (stage == bytes32(0)) revert InvalidStage();
        _gates[familyId][stage] = Gate(metricName, threshold, higherIsBetter, true);
        emit GateSet(familyId, stage, metricName, threshold, higherIsBetter);
    }

    function removeGate(uint256 familyId, bytes32 stage) external onlyFamilyOwner(familyId) {
        if (!_gates[familyId][stage].exists) revert NoGateForStage(familyId, stage);
        delete _gates[familyId][stage];
        emit GateRemoved(familyId, stage);
    }

    // --- promotion -----------------------------------------------------------------------------------------------

    /// @notice Move `version` into `stage`, proving with a RunRegistry Merkle proof that its run logged
    ///         `metricName` = `value` at `step` and that the value meets the stage's gate.
    function promote(
        uint256 familyId,
        uint32 version,
        bytes32 stage,
        string calldata metricName,
        int256 value,
        uint256 step,
        bytes32[] calldata proof
    ) external {
        _requireOwnerOrOperator(familyId);
        uint256 tokenId = _tokenOf(familyId, version);
        Gate storage g = _gates[familyId][stage];
        if (!g.exists) revert NoGateForStage(familyId, stage);
        if (keccak256(bytes(g.metricName)) != keccak256(bytes(metricName))) {
            revert MetricNotGated(stage, g.metricName, metricName);
        }
        if (_versionStage[familyId][version] == stage) revert AlreadyInStage(familyId, version, stage);
        _proveMetric(tokenId, metricName, value, step, proof);
        bool meets = g.higherIsBetter ? value >= g.threshold : value <= g.threshold;
        if (!meets) revert ThresholdNotMet(stage, value, g.threshold, g.higherIsBetter);
        uint32 replaced = _moveToStage(familyId, version, stage);
        emit VersionPromoted(familyId, version, stage, tokenId, metricName, value, step, replaced);
    }

    function _requireOwnerOrOperator(uint256 familyId) private view {
        if (msg.sender != _familyOwner(familyId) && !_operators[familyId][msg.sender]) {
            revert NotFamilyOwnerOrOperator(familyId, msg.sender);
        }
    }

    /// @dev The token's run must be anchored under the same root the token recorded, and the proof must show the
    ///      metric leaf under that root.
    function _proveMetric(
        uint256 tokenId,
        string calldata metricName,
        int256 value,
        uint256 step,
        bytes32[] calldata proof
    ) private view {
        (bytes32 pipelineId, uint64 runId) = _anchoredRun(tokenId);
        if (!runRegistry.verifyMetric(pipelineId, runId, metricName, value, step, proof)) {
            revert MetricNotProven(pipelineId, runId, metricName, value, step);
        }
    }

    function _anchoredRun(uint256 tokenId) private view returns (bytes32 pipelineId, uint64 runId) {
        bytes32 tokenRoot;
        (pipelineId, runId, tokenRoot) = modelNFT.runOf(tokenId);
        bytes32 registryRoot = runRegistry.runRoot(pipelineId, runId);
        if (registryRoot == bytes32(0)) revert RunNotAnchored(pipelineId, runId);
        if (registryRoot != tokenRoot) revert AnchorMismatch(pipelineId, runId, tokenRoot, registryRoot);
    }

    /// @dev Put `version` into `stage`, evicting the stage's previous holder; returns the evicted version (0 = none).
    function _moveToStage(uint256 familyId, uint32 version, bytes32 stage) private returns (uint32 replaced) {
        replaced = _stageVersion[familyId][stage];
        if (replaced != 0) {
            _versionStage[familyId][replaced] = bytes32(0);
            emit StageChanged(familyId, replaced, stage, bytes32(0));
        }
        bytes32 previous = _versionStage[familyId][version];
        if (previous != bytes32(0)) _stageVersion[familyId][previous] = 0;
        _versionStage[familyId][version] = stage;
        _stageVersion[familyId][stage] = version;
        emit StageChanged(familyId, version, previous, stage);
    }

    // --- views ---------------------------------------------------------------------------------------------------

    function family(uint256 familyId) external view returns (address owner, string memory name, uint32 versionCount) {
        Family storage f = _families[familyId];
        if (f.owner == address(0)) revert UnknownFamily(familyId);
        return (f.owner, f.name, f.versionCount);
    }

    function versionToken(uint256 familyId, uint32 version) external view returns (uint256) {
        return _tokenOf(familyId, version);
    }

    function stageOf(uint256 familyId, uint32 version) external view returns (bytes32) {
        _tokenOf(familyId, version);
        return _versionStage[familyId][version];
    }

    /// @notice The version currently in `stage` (0 = none).
    function versionInStage(uint256 familyId, bytes32 stage) external view returns (uint32) {
        _familyOwner(familyId);
        return _stageVersion[familyId][stage];
    }

    function gateOf(uint256 familyId, bytes32 stage) external view returns (Gate memory) {
        _familyOwner(familyId);
        return _gates[familyId][stage];
    }

    function isOperator(uint256 familyId, address account) external view returns (bool) {
        return _operators[familyId][account];
    }

    function _familyOwner(uint256 familyId) private view returns (address owner) {
        owner = _families[familyId].owner;
        if (owner == address(0)) revert UnknownFamily(familyId);
    }

    function _tokenOf(uint256 familyId, uint32 version) private view returns (uint256 tokenId) {
        _familyOwner(familyId);
        tokenId = _versionToken[familyId][version];
        if (tokenId == 0) revert UnknownVersion(familyId, version);
    }
}
