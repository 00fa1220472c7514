"""``S3StoreNode`` as a watched input against a real S3 API (moto server): new and changed objects by ETag, the
prefix, pagination, restarts, versioned buckets, bucket notifications through SQS."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from anacostia_blockchain.engine import ArtifactState
from anacostia_blockchain.resources.s3 import S3StoreNode

from .moto_kit import S3Env
from .s3_kit import expected, opened_store, wait_until, watching_pipeline

pytestmark = pytest.mark.xdist_group("s3")


def test_new_and_changed_objects_under_the_prefix_become_new_versions_with_their_cid(
    tmp_path: Path, s3: S3Env, bucket: str
) -> None:
    client = s3.server.client()
    for index in range(5):  # five objects, listed two per page: the listing pages
        client.put_object(Bucket=bucket, Key=f"raw/part-{index}.csv", Body=f"{index}".encode())
    client.put_object(Bucket=bucket, Key="elsewhere/ignored.csv", Body=b"not under the prefix")
    client.put_object(Bucket=bucket, Key="raw/folder/", Body=b"")  # a "folder" marker is not an artifact
    run, store, source, action = watching_pipeline(tmp_path, s3.endpoint, bucket, poll_interval=0.2, page_size=2)
    with run:
        assert run.wait_for_runs(1, 60)
        assert action.seen[0] == sorted((f"part-{i}.csv", *expected(f"{i}".encode())) for i in range(5))
        client.put_object(Bucket=bucket, Key="raw/part-0.csv", Body=b"changed")  # a new ETag: a new version
        client.put_object(Bucket=bucket, Key="raw/part-1.csv", Body=b"1")  # the same content again: no version
        client.put_object(Bucket=bucket, Key="raw/sub/part-5.csv", Body=b"5")
        assert run.wait_for_runs(2, 60)
        assert action.seen[1] == [("part-0.csv", *expected(b"changed")), ("sub/part-5.csv", *expected(b"5"))]
        client.delete_object(Bucket=bucket, Key="raw/part-4.csv")
        wait_until(lambda: "part-4.csv" not in store.runs.present_artifacts("raw"), 30, "the deletion")
    assert sorted(a.location for a in source.list_artifacts()) == sorted(
        [f"part-{i}.csv" for i in range(5)] + ["part-0.csv", "sub/part-5.csv"])
    assert [run["status"] for run in store.runs.get_runs()] == ["success", "success"]
    assert source.get_num_artifacts(ArtifactState.NEW) == 0


def test_a_restart_reconciles_the_bucket_without_downloading_unchanged_objects(
    tmp_path: Path, s3: S3Env, bucket: str
) -> None:
    client = s3.server.client()
    client.put_object(Bucket=bucket, Key="raw/kept.csv", Body=b"kept")
    client.put_object(Bucket=bucket, Key="raw/put-again.csv", Body=b"same")
    client.put_object(Bucket=bucket, Key="raw/removed.csv", Body=b"removed")
    run, *_ = watching_pipeline(tmp_path, s3.endpoint, bucket, poll_interval=0.2)
    with run:
        assert run.wait_for_runs(1, 60)
    client.delete_object(Bucket=bucket, Key="raw/removed.csv")  # while the pipeline is stopped
    client.put_object(Bucket=bucket, Key="raw/added.csv", Body=b"added")
    client.put_object(Bucket=bucket, Key="raw/put-again.csv", Body=b"same")  # same bytes: no new version
    run, _store, source, action = watching_pipeline(tmp_path, s3.endpoint, bucket, poll_interval=0.2)
    with run:
        assert run.wait_for_runs(1, 60)
    assert action.seen == [[("added.csv", *expected(b"added"))]]
    versions = [(a.location, a.state) for a in source.list_artifacts()]
    assert versions.count(("kept.csv", ArtifactState.OLD)) == 1  # not recorded again
    assert versions.count(("put-again.csv", ArtifactState.OLD)) == 1
    assert ("removed.csv", ArtifactState.DELETED) in versions


@pytest.mark.slow
def test_a_prefix_of_more_than_a_thousand_keys_is_listed_and_recorded_over_several_pages(
    tmp_path: Path, s3: S3Env, bucket: str
) -> None:
    client = s3.server.client()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: client.put_object(Bucket=bucket, Key=f"raw/{i:05d}.txt", Body=str(i).encode()),
                      range(1003)))
    assert client.list_objects_v2(Bucket=bucket, Prefix="raw/")["IsTruncated"]  # one page holds 1000 keys
    with opened_store(tmp_path) as store:
        source = S3StoreNode("raw", store, bucket=bucket, prefix="raw/", endpoint_url=s3.endpoint, init_state="old")
        assert len(source.listing()) == 1003
        assert source.reconcile() == 1003
        recorded = store.runs.present_artifacts("raw")
        assert source.reconcile() == 0  # nothing changed: nothing downloaded or recorded again
    assert len(recorded) == 1003 and recorded["01002.txt"].cid == expected(b"1002")[1]
    assert {a.state for a in recorded.values()} == {ArtifactState.OLD}  # init_state of the very first listing


def test_each_version_of_an_object_in_a_versioned_bucket_is_recorded_and_read_back(
    tmp_path: Path, s3: S3Env, bucket: str
) -> None:
    client = s3.server.client()
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket=bucket, Key="raw/model.bin", Body=b"v1")
    run, store, source, action = watching_pipeline(tmp_path, s3.endpoint, bucket, poll_interval=0.2)
    with run:
        assert run.wait_for_runs(1, 60)
        client.put_object(Bucket=bucket, Key="raw/model.bin", Body=b"v2")
        assert run.wait_for_runs(2, 60)
    assert [seen[0][1] for seen in action.seen] == [expected(b"v1")[0], expected(b"v2")[0]]
    first, second = source.list_artifacts()
    assert (source.read_bytes(first), source.read_bytes(second)) == (b"v1", b"v2")  # by their VersionId
    # a new node (nothing remembered) finds the recorded content among the object's versions
    again = S3StoreNode("raw", store, bucket=bucket, prefix="raw/", endpoint_url=s3.endpoint)
    assert again.read_bytes(first) == b"v1"
    assert len(client.list_object_versions(Bucket=bucket, Prefix="raw/")["Versions"]) == 2


def test_bucket_notifications_through_sqs_pick_objects_up_without_waiting_for_a_listing(
    tmp_path: Path, s3: S3Env, bucket: str
) -> None:
    sqs = s3.server.client("sqs")
    queue = sqs.create_queue(QueueName=f"{bucket}-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.server.client().put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}]})
    run, store, _source, action = watching_pipeline(tmp_path, s3.endpoint, bucket, poll_interval=600,
                                                    events_queue=queue, events_wait=1)
    with run:  # the listing runs every ten minutes: only the events can bring the object in within the timeout
        s3.server.client().put_object(Bucket=bucket, Key="raw/with space+plus.csv", Body=b"from an event")
        s3.server.client().put_object(Bucket=bucket, Key="other/ignored.csv", Body=b"not under the prefix")
        assert run.wait_for_runs(1, 30)
        assert action.seen == [[("with space+plus.csv", *expected(b"from an event"))]]
        s3.server.client().delete_object(Bucket=bucket, Key="raw/with space+plus.csv")
        wait_until(lambda: not store.runs.present_artifacts("raw"), 30, "the removal event")
        wait_until(lambda: sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"][
            "ApproximateNumberOfMessages"] == "0", 30, "every event consumed")
    assert len(action.seen) == 1


def test_bucket_notifications_fanned_out_through_sns_reach_the_node_too(
    tmp_path: Path, s3: S3Env, bucket: str
) -> None:
    sqs, sns = s3.server.client("sqs"), s3.server.client("sns")
    queue = sqs.create_queue(QueueName=f"{bucket}-fanout")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name=f"{bucket}-topic")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)  # messages arrive wrapped by SNS
    s3.server.client().put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
    run, _store, _source, action = watching_pipeline(tmp_path, s3.endpoint, bucket, poll_interval=600,
                                                    events_queue=queue, events_wait=1)
    with run:
        s3.server.client().put_object(Bucket=bucket, Key="raw/via-sns.csv", Body=b"fanned out")
        assert run.wait_for_runs(1, 30)
    assert action.seen == [[("via-sns.csv", *expected(b"fanned out"))]]
