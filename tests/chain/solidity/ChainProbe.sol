// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only contract exercising the chain layer: writes, events, every revert kind, gas-hungry calls.
contract ChainProbe {
    error NotAllowed(address caller, uint256 code);
    error Exactly(string what, bytes32 tag);

    event Bumped(address indexed by, uint256 value, uint256 total);
    event Stored(address indexed by, bytes data);
    event Tagged(string indexed tag, uint256 value);

    address public immutable owner;
    uint256 public total;
    uint256 public calls;
    mapping(uint256 => uint256) public slots;
    bytes public blob;

    constructor(uint256 start) {
        owner = msg.sender;
        total = start;
    }

    function bump(uint256 value) external {
        total += value;
        calls += 1;
        emit Bumped(msg.sender, value, total);
    }

    function store(bytes calldata data) external {
        blob = data;
        emit Stored(msg.sender, data);
    }

    function tag(string calldata label, uint256 value) external {
        calls += 1;
        emit Tagged(label, value);
    }

    /// @dev Writes `count` fresh storage slots: its gas grows with `count` while the call shape stays the same.
    function fill(uint256 start, uint256 count) external {
        for (uint256 i = 0; i < count; ++i) {
            slots[start + i] = i + 1;
        }
        calls += 1;
    }

    function onlyOwnerBump() external {
        if (msg.sender != owner) revert NotAllowed(msg.sender, 7);
        total += 1;
    }

    function failWith(string calldata reason) external pure {
        require(false, reason);
    }

    function failExactly(string calldata what) external pure {
        revert Exactly(what, keccak256(bytes(what)));
    }

    function divide(uint256 a, uint256 b) external pure returns (uint256) {
        return a / b;
    }

    function both() external view returns (uint256, address) {
        return (total, owner);
    }
}
