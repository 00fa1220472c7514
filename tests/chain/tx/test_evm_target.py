"""What a build needs from the EVM: instructions found in bytecode, the oldest EVM each shipped contract runs on."""

from __future__ import annotations

from anacostia_blockchain.chain.abi import list_artifacts, load_artifact
from anacostia_blockchain.chain.tx.evm_target import opcodes_in, required_evm


def test_instructions_are_found_outside_push_data_and_metadata() -> None:
    push32_of_tstores = bytes([0x7F]) + bytes([0x5D]) * 32
    assert opcodes_in(push32_of_tstores + bytes([0x00]), "cancun") == []
    assert opcodes_in(bytes([0x60, 0x00, 0x5C, 0x5E, 0x5C, 0x00]), "cancun") == ["TLOAD", "MCOPY"]
    assert opcodes_in(bytes([0x5F, 0x00]), "shanghai") == ["PUSH0"]
    metadata = bytes([0xA2]) + bytes([0x5D]) * 5  # a CBOR map, then its length in the last two bytes
    assert opcodes_in(bytes([0x00]) + metadata + len(metadata).to_bytes(2, "big"), "cancun") == []


def test_every_contract_runs_on_shanghai_and_its_shanghai_build_has_no_cancun_opcode() -> None:
    assert {name for name in list_artifacts() if required_evm(name) == "cancun"} == set()
    for name in ("RunRegistry", "ModelNFT", "ModelVersions", "ModelMarketplace", "MockV3Aggregator"):
        assert required_evm(name) == "shanghai"
    for name in list_artifacts("shanghai"):
        assert opcodes_in(bytes.fromhex(load_artifact(name, "shanghai").deployed_bytecode[2:]), "cancun") == [], name
    access = bytes.fromhex(load_artifact("AccessController").deployed_bytecode[2:])
    assert opcodes_in(access, "cancun") == ["TLOAD", "TSTORE"]  # the Cancun build keeps transient storage
    assert required_evm("AccessController") == required_evm("IPAccountImpl") == "shanghai"
