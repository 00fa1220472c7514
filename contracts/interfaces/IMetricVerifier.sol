// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The part of RunRegistry that model promotion relies on.
/// @notice Declared here (not imported) so ModelVersions depends only on the registry's fixed interface.
///         Values are int256 scaled by 1e18; pipelineId = keccak256(pipeline name).
interface IMetricVerifier {
    function verifyMetric(
        bytes32 pipelineId,
        uint64 runId,
        string calldata name,
        int256 value,
        uint256 step,
        bytes32[] calldata proof
    ) external view returns (bool);

    function runRoot(bytes32 pipelineId, uint64 runId) external view returns (bytes32);
}
