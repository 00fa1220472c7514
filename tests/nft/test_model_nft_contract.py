"""ModelNFT on a real anvil: interfaces, minting rights, provenance and the RunRegistry anchor check."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from anacostia_blockchain.chain.contracts.model_nft import (
    INTERFACE_IDS,
    MINTER_ROLE,
    ModelNFTClient,
    cid_from_token_uri,
)
from anacostia_blockchain.errors import ConfigurationError, CustomContractError


@pytest.mark.parametrize("name", ["ERC165", "ERC721", "ERC721Metadata", "AccessControl", "ERC4906"])
def test_supports_the_standard_interfaces(nft_world, name):
    assert nft_world.nft.supports_interface(name) is True


def test_does_not_claim_unrelated_interfaces(nft_world):
    assert nft_world.nft.supports_interface(bytes.fromhex("d9b67a26")) is False  # ERC-1155
    assert nft_world.nft.supports_interface(bytes.fromhex("ffffffff")) is False  # ERC-165 says never


def test_mint_records_provenance_and_event(nft_world):
    run = nft_world.anchor_run("fraud model", 7, {"accuracy": 0.93})
    owner = nft_world.stranger.signer.address
    minted = nft_world.nft.mint(
        owner,
        "ipfs://bafkreiabc",
        pipeline_id=run.pipeline_id,
        run_id=7,
        anchor_root=run.root,
        manifest_cid=run.manifest_cid,
    )
    assert minted.token_id == 1
    assert minted.owner == owner
    assert nft_world.nft.owner_of(1) == owner
    assert nft_world.nft.token_uri(1) == "ipfs://bafkreiabc"
    prov = nft_world.nft.provenance(1)
    assert prov.pipeline_id == keccak(text="fraud model")
    assert prov.run_id == 7
    assert prov.anchor_root == run.root
    assert prov.matches_manifest_cid(run.manifest_cid)
    assert not prov.matches_manifest_cid(run.manifest_cid + "x")
    events = nft_world.nft.contract.events("ModelMinted", tokenId=1)
    assert [e.args["manifestCid"] for e in events] == [run.manifest_cid]
    assert events[0].args["anchorRoot"] == "0x" + run.root.hex()  # event values are JSON-ready
    second = nft_world.mint_for(nft_world.anchor_run("fraud model", 8, {"accuracy": 0.94}))
    assert second == 2
    assert nft_world.nft.total_minted() == 2


def test_only_minter_role_mints(nft_world):
    run = nft_world.anchor_run("p", 1, {"f1": 0.5})
    stranger_client = ModelNFTClient(nft_world.client, nft_world.nft.address, nft_world.stranger)
    with pytest.raises(CustomContractError) as info:
        stranger_client.mint(
            nft_world.stranger.signer.address, "ipfs://bafkreix", pipeline_id=run.pipeline_id, run_id=1,
            anchor_root=run.root, manifest_cid=run.manifest_cid,
        )
    assert info.value.error_name == "AccessControlUnauthorizedAccount"
    assert info.value.error_args[0].lower() == nft_world.stranger.signer.address.lower()
    assert info.value.error_args[1] == MINTER_ROLE
    assert nft_world.nft.total_minted() == 0
    nft_world.nft.grant_minter(nft_world.stranger.signer.address)
    assert nft_world.nft.is_minter(nft_world.stranger.signer.address)
    minted = stranger_client.mint(
        nft_world.stranger.signer.address, "ipfs://bafkreix", pipeline_id=run.pipeline_id, run_id=1,
        anchor_root=run.root, manifest_cid=run.manifest_cid,
    )
    assert minted.token_id == 1


def test_mint_refuses_an_anchor_root_the_registry_does_not_hold(nft_world):
    run = nft_world.anchor_run("p", 1, {"f1": 0.5})
    forged_root = keccak(b"not the anchored root")
    with pytest.raises(CustomContractError) as info:
        nft_world.nft.mint(
            nft_world.admin.signer.address, "ipfs://bafkreix", pipeline_id=run.pipeline_id, run_id=1,
            anchor_root=forged_root, manifest_cid=run.manifest_cid,
        )
    assert info.value.error_name == "AnchorMismatch"
    assert info.value.error_args[2] == forged_root
    assert info.value.error_args[3] == run.root
    with pytest.raises(CustomContractError) as unanchored:
        nft_world.nft.mint(
            nft_world.admin.signer.address, "ipfs://bafkreix", pipeline_id=run.pipeline_id, run_id=2,
            anchor_root=run.root, manifest_cid=run.manifest_cid,
        )
    assert unanchored.value.error_name == "AnchorMismatch"
    assert unanchored.value.error_args[3] == b"\x00" * 32


@pytest.mark.parametrize(
    ("field", "error"),
    [("uri", "EmptyTokenURI"), ("cid", "EmptyManifestCid"), ("pipeline", "ZeroPipelineId"), ("root", "ZeroAnchorRoot")],
)
def test_mint_rejects_empty_inputs(nft_world, field, error):
    run = nft_world.anchor_run("p", 1, {"f1": 0.5})
    kwargs = {"pipeline_id": run.pipeline_id, "run_id": 1, "anchor_root": run.root, "manifest_cid": run.manifest_cid}
    uri = "" if field == "uri" else "ipfs://bafkreix"
    if field == "cid":
        kwargs["manifest_cid"] = ""
    if field == "pipeline":
        kwargs["pipeline_id"] = b"\x00" * 32
    if field == "root":
        kwargs["anchor_root"] = b"\x00" * 32
    with pytest.raises(CustomContractError) as info:
        nft_world.nft.mint(nft_world.admin.signer.address, uri, **kwargs)
    assert info.value.error_name == error


def test_provenance_of_a_missing_token_is_a_decoded_error(nft_world):
    with pytest.raises(CustomContractError) as info:
        nft_world.nft.provenance(99)
    assert info.value.error_name == "ERC721NonexistentToken"
    assert info.value.error_args == (99,)


def test_token_uri_parsing():
    assert cid_from_token_uri("ipfs://bafkreiabc") == "bafkreiabc"
    assert cid_from_token_uri("ipfs://bafyroot/metadata.json") == "bafyroot"
    for bad in ("https://x/y", "ipfs://", "bafkrei"):
        with pytest.raises(ConfigurationError):
            cid_from_token_uri(bad)
    assert set(INTERFACE_IDS) >= {"ERC721", "ERC721Metadata", "AccessControl"}


def test_one_token_per_run(nft_world):
    run = nft_world.anchor_run("p", 1, {"f1": 0.5})
    token = nft_world.mint_for(run)
    assert nft_world.nft.token_of_run(run.pipeline_id, 1) == token
    assert nft_world.nft.token_of_run(run.pipeline_id, 2) is None
    with pytest.raises(CustomContractError) as info:
        nft_world.mint_for(run)
    assert info.value.error_name == "RunAlreadyMinted"
    assert info.value.error_args == (run.pipeline_id, 1, token)
    assert nft_world.nft.total_minted() == 1


def test_read_only_clients_refuse_writes_with_a_clear_error(nft_world):
    reader = ModelNFTClient(nft_world.client, nft_world.nft.address)
    assert reader.total_minted() == 0
    with pytest.raises(ConfigurationError, match="read-only"):
        reader.mint(nft_world.admin.signer.address, "ipfs://bafkreix", pipeline_id=b"\x01" * 32, run_id=1,
                    anchor_root=b"\x02" * 32, manifest_cid="bafkreim")
    with pytest.raises(ConfigurationError, match="32 bytes"):
        nft_world.nft.mint(nft_world.admin.signer.address, "ipfs://bafkreix", pipeline_id=b"\x01", run_id=1,
                           anchor_root=b"\x02" * 32, manifest_cid="bafkreim")
