"""ModelVersions on a real anvil: families, ordered versions, and promotion gated by a RunRegistry metric proof."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from anacostia_blockchain.chain.contracts.merkle import scale_metric
from anacostia_blockchain.chain.contracts.model_versions import ModelVersionsClient, stage_id, stage_name
from anacostia_blockchain.errors import ConfigurationError, CustomContractError

ACCURACY_BAR = scale_metric(0.9)


@pytest.fixture
def family(nft_world):
    """A family with two versions: v1 from a run with accuracy 0.93, v2 from a run with accuracy 0.85."""
    good = nft_world.anchor_run("churn", 1, {"accuracy": 0.93, "loss": 0.2})
    bad = nft_world.anchor_run("churn", 2, {"accuracy": 0.85, "loss": 0.4})
    versions = nft_world.versions
    family_id = versions.create_family("churn-model")
    v1 = versions.add_version(family_id, nft_world.mint_for(good))
    v2 = versions.add_version(family_id, nft_world.mint_for(bad))
    versions.set_gate(family_id, "production", "accuracy", ACCURACY_BAR, higher_is_better=True)
    return family_id, (v1, good), (v2, bad)


def test_versions_are_ordered_and_owned(nft_world, family):
    family_id, (v1, _), (v2, _) = family
    assert (v1, v2) == (1, 2)
    owner, name, count = nft_world.versions.family(family_id)
    assert (owner, name, count) == (nft_world.admin.signer.address, "churn-model", 2)
    assert nft_world.versions.version_token(family_id, 1) == 1
    assert nft_world.versions.version_token(family_id, 2) == 2
    gate = nft_world.versions.gate(family_id, "production")
    assert gate is not None and gate.metric_name == "accuracy" and gate.threshold == ACCURACY_BAR
    assert nft_world.versions.gate(family_id, "staging") is None


def test_promotion_with_a_passing_anchored_metric(nft_world, family):
    family_id, (v1, good), _ = family
    promotion = nft_world.versions.promote(
        family_id, v1, "production", "accuracy", good.metrics[("accuracy", 0)], 0, good.proof("accuracy")
    )
    assert promotion.token_id == 1 and promotion.replaced_version == 0
    assert nft_world.versions.stage_of(family_id, v1) == "production"
    assert nft_world.versions.version_in_stage(family_id, "production") == v1
    events = nft_world.versions.contract.events("VersionPromoted", familyId=family_id)
    assert len(events) == 1 and events[0].args["value"] == scale_metric(0.93)
    assert stage_name(events[0].args["stage"]) == "production"


def test_a_better_version_replaces_the_stage_holder(nft_world, family):
    family_id, (v1, good), _ = family
    nft_world.versions.promote(family_id, v1, "production", "accuracy", scale_metric(0.93), 0, good.proof("accuracy"))
    better = nft_world.anchor_run("churn", 3, {"accuracy": 0.97})
    v3 = nft_world.versions.add_version(family_id, nft_world.mint_for(better))
    promotion = nft_world.versions.promote(
        family_id, v3, "production", "accuracy", scale_metric(0.97), 0, better.proof("accuracy")
    )
    assert promotion.replaced_version == v1
    assert nft_world.versions.stage_of(family_id, v1) == ""
    assert nft_world.versions.version_in_stage(family_id, "production") == v3
    changes = nft_world.versions.contract.events("StageChanged", familyId=family_id)
    assert [(e.args["version"], stage_name(e.args["newStage"])) for e in changes] == [
        (1, "production"), (1, ""), (3, "production")
    ]


def test_failing_value_reverts_with_threshold_not_met(nft_world, family):
    family_id, _, (v2, bad) = family
    with pytest.raises(CustomContractError) as info:
        nft_world.versions.promote(
            family_id, v2, "production", "accuracy", scale_metric(0.85), 0, bad.proof("accuracy")
        )
    assert info.value.error_name == "ThresholdNotMet"
    assert info.value.error_args == (stage_id("production"), scale_metric(0.85), ACCURACY_BAR, True)
    assert nft_world.versions.version_in_stage(family_id, "production") == 0


def test_claiming_a_better_value_than_anchored_is_not_proven(nft_world, family):
    family_id, _, (v2, bad) = family
    with pytest.raises(CustomContractError) as info:
        nft_world.versions.promote(
            family_id, v2, "production", "accuracy", scale_metric(0.95), 0, bad.proof("accuracy")
        )
    assert info.value.error_name == "MetricNotProven"


def test_a_proof_from_another_run_is_rejected(nft_world, family):
    family_id, (_, good), (v2, _) = family
    # v2's run logged 0.85; v1's run really logged 0.93 with a valid proof — but for run 1, not for v2's run 2.
    with pytest.raises(CustomContractError) as info:
        nft_world.versions.promote(
            family_id, v2, "production", "accuracy", scale_metric(0.93), 0, good.proof("accuracy")
        )
    assert info.value.error_name == "MetricNotProven"
    assert info.value.error_args[1] == 2


def test_a_forged_proof_is_rejected(nft_world, family):
    family_id, (v1, good), _ = family
    forged = [keccak(b"sibling"), *good.proof("accuracy")[1:]]
    with pytest.raises(CustomContractError) as info:
        nft_world.versions.promote(family_id, v1, "production", "accuracy", scale_metric(0.93), 0, forged)
    assert info.value.error_name == "MetricNotProven"
    with pytest.raises(CustomContractError) as empty:
        nft_world.versions.promote(family_id, v1, "production", "accuracy", scale_metric(0.93), 0, [])
    assert empty.value.error_name == "MetricNotProven"


def test_a_stranger_cannot_promote(nft_world, family):
    family_id, (v1, good), _ = family
    stranger = ModelVersionsClient(nft_world.client, nft_world.versions.address, nft_world.stranger)
    with pytest.raises(CustomContractError) as info:
        stranger.promote(family_id, v1, "production", "accuracy", scale_metric(0.93), 0, good.proof("accuracy"))
    assert info.value.error_name == "NotFamilyOwnerOrOperator"
    assert info.value.error_args == (family_id, nft_world.stranger.signer.address.lower())
    with pytest.raises(CustomContractError) as gate:
        stranger.set_gate(family_id, "production", "accuracy", 0, higher_is_better=True)
    assert gate.value.error_name == "NotFamilyOwner"


def test_an_approved_operator_can_promote_but_not_move_the_bar(nft_world, family):
    family_id, (v1, good), _ = family
    nft_world.versions.set_operator(family_id, nft_world.stranger.signer.address)
    operator = ModelVersionsClient(nft_world.client, nft_world.versions.address, nft_world.stranger)
    operator.promote(family_id, v1, "production", "accuracy", scale_metric(0.93), 0, good.proof("accuracy"))
    assert nft_world.versions.version_in_stage(family_id, "production") == v1
    with pytest.raises(CustomContractError):
        operator.set_gate(family_id, "production", "accuracy", 0, higher_is_better=True)


def test_lower_is_better_gates(nft_world, family):
    family_id, (v1, good), (v2, bad) = family
    nft_world.versions.set_gate(family_id, "staging", "loss", scale_metric(0.3), higher_is_better=False)
    nft_world.versions.promote(family_id, v1, "staging", "loss", scale_metric(0.2), 0, good.proof("loss"))
    with pytest.raises(CustomContractError) as info:
        nft_world.versions.promote(family_id, v2, "staging", "loss", scale_metric(0.4), 0, bad.proof("loss"))
    assert info.value.error_name == "ThresholdNotMet"


def test_ungated_stage_and_wrong_metric(nft_world, family):
    family_id, (v1, good), _ = family
    with pytest.raises(CustomContractError) as ungated:
        nft_world.versions.promote(family_id, v1, "staging", "accuracy", scale_metric(0.93), 0, good.proof("accuracy"))
    assert ungated.value.error_name == "NoGateForStage"
    with pytest.raises(CustomContractError) as wrong:
        nft_world.versions.promote(family_id, v1, "production", "loss", scale_metric(0.2), 0, good.proof("loss"))
    assert wrong.value.error_name == "MetricNotGated"
    assert wrong.value.error_args[1:] == ("accuracy", "loss")


def test_add_version_requires_the_token_and_is_once_only(nft_world, family):
    family_id, _, _ = family
    with pytest.raises(CustomContractError) as twice:
        nft_world.versions.add_version(family_id, 1)
    assert twice.value.error_name == "TokenAlreadyVersioned"
    other_run = nft_world.anchor_run("churn", 9, {"accuracy": 0.99})
    token = nft_world.mint_for(other_run, to=nft_world.stranger.signer.address)
    with pytest.raises(CustomContractError) as not_owner:
        nft_world.versions.add_version(family_id, token)
    assert not_owner.value.error_name == "NotTokenOwner"
    with pytest.raises(CustomContractError) as unknown:
        nft_world.versions.add_version(99, token)
    assert unknown.value.error_name == "UnknownFamily"


def test_stage_names_round_trip():
    assert stage_id("production") == b"production" + b"\0" * 22
    assert stage_name(stage_id("staging")) == "staging"
    for bad in ("", "x" * 33, "prod\u00fcction"):
        with pytest.raises(ConfigurationError):
            stage_id(bad)
