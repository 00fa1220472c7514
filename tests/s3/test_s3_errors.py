"""Typed one-line errors naming bucket, key and S3 error code (missing bucket, access denied, unknown key id, no
credentials), and credentials kept out of logs, reprs and errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from anacostia_blockchain import BaseActionNode, Pipeline
from anacostia_blockchain.engine import Artifact, ArtifactState, BaseNode
from anacostia_blockchain.errors import ConfigurationError, ObjectStoreError
from anacostia_blockchain.resources.s3 import S3StoreNode

from .moto_kit import LockedBucket, S3Env, start_moto_server
from .s3_kit import expected, metadata_store, opened_store, wait_until, watching_pipeline

pytestmark = pytest.mark.xdist_group("s3")


def check_one_line(error: ObjectStoreError, *secrets: str) -> None:
    text = str(error)
    assert "\n" not in text
    for secret in secrets:
        assert secret not in text and secret not in repr(error)


def test_a_missing_bucket_is_an_object_store_error_naming_the_bucket_and_code(tmp_path: Path, s3: S3Env) -> None:
    node = S3StoreNode("raw", metadata_store(tmp_path), bucket="no-such-bucket-here", prefix="raw/",
                       endpoint_url=s3.endpoint)
    with pytest.raises(ObjectStoreError) as caught:
        node.setup()
    assert str(caught.value).startswith("raw: open s3://no-such-bucket-here/raw/ failed: NoSuchBucket")
    assert (caught.value.bucket, caught.value.code) == ("no-such-bucket-here", "NoSuchBucket")
    check_one_line(caught.value, s3.secret_key)
    with pytest.raises(ObjectStoreError, match="list s3://no-such-bucket-here/raw/ failed: NoSuchBucket: "):
        node.listing()


def test_without_credentials_anywhere_the_error_says_so(
    tmp_path: Path, s3: S3Env, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    node = S3StoreNode("raw", metadata_store(tmp_path), bucket=bucket, endpoint_url=s3.endpoint)
    with pytest.raises(ObjectStoreError) as caught:
        node.setup()
    assert caught.value.code == "NoCredentials" and caught.value.bucket == bucket
    assert str(caught.value).startswith(f"raw: open s3://{bucket}/ failed: NoCredentials: no AWS credentials")
    check_one_line(caught.value)


def test_access_denied_and_unknown_keys_name_bucket_key_and_code_but_no_credentials(
    tmp_path: Path, locked_bucket: LockedBucket, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", locked_bucket.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", locked_bucket.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    node = S3StoreNode("locked", metadata_store(tmp_path), bucket=locked_bucket.bucket, prefix="raw/",
                       endpoint_url=locked_bucket.server.endpoint)
    assert list(node.listing()) == ["secret.csv"]  # listing is allowed ...
    with opened_store(tmp_path / "opened") as store:  # ... reading the object is not: logged, nothing recorded
        watching = S3StoreNode("locked", store, bucket=locked_bucket.bucket, prefix="raw/",
                               endpoint_url=locked_bucket.server.endpoint)
        assert watching.reconcile() == 0 and not store.runs.present_artifacts("locked")
    denied = f"locked: download s3://{locked_bucket.bucket}/{locked_bucket.key} failed: AccessDenied"
    assert denied in caplog.text and locked_bucket.secret_key not in caplog.text
    recorded = Artifact(id=1, resource="locked", location="secret.csv", sha256="0" * 64, size=5,
                        state=ArtifactState.OLD, detected_at=0.0)
    with pytest.raises(ObjectStoreError) as caught:
        node.read_bytes(recorded)
    assert str(caught.value).startswith(denied)
    assert (caught.value.bucket, caught.value.key, caught.value.code) == (
        locked_bucket.bucket, locked_bucket.key, "AccessDenied")
    check_one_line(caught.value, locked_bucket.secret_key, locked_bucket.access_key)
    assert locked_bucket.secret_key not in repr(node) + str(node) and locked_bucket.access_key not in repr(node)

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000")
    stranger = S3StoreNode("locked", metadata_store(tmp_path / "other"), bucket=locked_bucket.bucket,
                           endpoint_url=locked_bucket.server.endpoint)
    with pytest.raises(ObjectStoreError, match=r"list s3://locked-bucket/ failed: InvalidAccessKeyId: ") as unknown:
        stranger.listing()
    check_one_line(unknown.value, locked_bucket.secret_key)


def test_credentials_never_reach_the_logs_of_a_run(
    tmp_path: Path, s3: S3Env, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # botocore's own debug logs included
    s3.server.client().put_object(Bucket=bucket, Key="raw/a.csv", Body=b"1")
    run, _store, source, _action = watching_pipeline(tmp_path, s3.endpoint, bucket, poll_interval=0.2)
    with run:
        assert run.wait_for_runs(1, 60)
    assert caplog.text and s3.secret_key not in caplog.text
    assert s3.secret_key not in repr(source) + str(source) and s3.access_key not in repr(source) + str(source)


def test_bad_configuration_is_refused_before_any_request(tmp_path: Path) -> None:
    store = metadata_store(tmp_path)
    with pytest.raises(ConfigurationError, match="bucket must be a bucket name"):
        S3StoreNode("raw", store, bucket="a/b")
    with pytest.raises(ConfigurationError, match="prefix must be a key prefix"):
        S3StoreNode("raw", store, bucket="b", prefix="/raw")
    with pytest.raises(ConfigurationError, match=r"page_size must be 1\.\.1000"):
        S3StoreNode("raw", store, bucket="b", page_size=5000)
    with pytest.raises(ConfigurationError, match="init_state must be 'new' or 'old', got 'current'"):
        S3StoreNode("raw", store, bucket="b", init_state="current")


def test_a_pipeline_on_a_missing_bucket_fails_at_launch_with_the_error(tmp_path: Path, s3: S3Env) -> None:
    run, *_ = watching_pipeline(tmp_path, s3.endpoint, "missing-at-launch")
    with pytest.raises(ObjectStoreError, match=r"^raw: open s3://missing-at-launch/raw/ failed: NoSuchBucket"), run:
        pass


def test_an_outage_of_the_store_is_logged_in_one_line_and_watching_resumes_when_it_is_back(
    tmp_path: Path, s3: S3Env, caplog: pytest.LogCaptureFixture
) -> None:
    server = start_moto_server()
    try:
        server.client().create_bucket(Bucket="flaky")
        run, _store, _source, action = watching_pipeline(tmp_path, server.endpoint, "flaky", poll_interval=0.2)
        with run:
            server.stop()
            wait_until(lambda: "raw: list s3://flaky/raw/ failed: EndpointConnectionError" in caplog.text, 60,
                       "the failed listing logged")
            server = start_moto_server(server.port)  # an empty store again
            server.client().create_bucket(Bucket="flaky")
            server.client().put_object(Bucket="flaky", Key="raw/after.csv", Body=b"back")
            assert run.wait_for_runs(1, 60)
        assert action.seen == [[("after.csv", *expected(b"back"))]]
        failures = [r.getMessage() for r in caplog.records if "EndpointConnectionError" in r.getMessage()]
        assert failures and all("\n" not in message and s3.secret_key not in message for message in failures)
    finally:
        server.stop()


class SaveRefused(BaseActionNode):
    """Tries to save its input into an output it may not write to; keeps the error."""

    def __init__(self, name: str, predecessors: list[BaseNode], source: S3StoreNode, output: S3StoreNode) -> None:
        super().__init__(name, predecessors)
        self.source, self.output = source, output
        self.refused: ObjectStoreError | None = None

    def execute(self, *args: object, **kwargs: object) -> bool:
        for artifact in self.source.current_inputs():
            try:
                self.output.save_artifact(artifact.location, self.source.read_bytes(artifact))
            except ObjectStoreError as exc:
                self.refused = exc
        return True


def test_a_refused_upload_is_an_object_store_error_and_records_nothing(
    tmp_path: Path, s3: S3Env, bucket: str, locked_bucket: LockedBucket
) -> None:
    s3.server.client().put_object(Bucket=bucket, Key="raw/a.csv", Body=b"1")
    store = metadata_store(tmp_path)
    source = S3StoreNode("raw", store, bucket=bucket, prefix="raw/", endpoint_url=s3.endpoint, poll_interval=0.2)
    lister = locked_bucket.server.client(aws_access_key_id=locked_bucket.access_key,
                                         aws_secret_access_key=locked_bucket.secret_key)
    output = S3StoreNode("out", store, bucket=locked_bucket.bucket, prefix="out/", client=lister, monitoring=False)
    action = SaveRefused("save", [source], source, output)
    with Pipeline([store, source, output, action]) as run:
        assert run.wait_for_runs(1, 60)
    assert action.refused is not None and action.refused.code == "AccessDenied"
    assert str(action.refused).startswith(f"out: upload s3://{locked_bucket.bucket}/out/a.csv failed: AccessDenied")
    check_one_line(action.refused, locked_bucket.secret_key, locked_bucket.access_key)
    assert not output.list_artifacts()
