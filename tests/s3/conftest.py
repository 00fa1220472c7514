"""Moto servers for the S3 tests (one per session; a second one enforcing IAM for the access-denied tests) and AWS
credentials in the environment, where the standard credential chain finds them.

The tests carry ``pytest.mark.xdist_group("s3")``: under ``pytest -n`` one xdist worker runs them all."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator

import pytest

from .moto_kit import LockedBucket, MotoServer, S3Env, start_moto_server


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> S3Env:
    """The server, with this test's credentials in the environment (a fresh secret each test)."""
    access_key, secret = "AKIA" + secrets.token_hex(8).upper(), "moto-secret-" + secrets.token_hex(16)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    return S3Env(moto_server, access_key, secret)


@pytest.fixture
def bucket(s3: S3Env) -> str:
    name = f"bucket-{uuid.uuid4().hex[:12]}"
    s3.server.client().create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def locked_bucket() -> Iterator[LockedBucket]:
    """A second server: a bucket and object made before IAM is enforced, and a user who may only list the bucket."""
    server = start_moto_server()
    try:
        admin = {"aws_access_key_id": "AKIAADMINBOOTSTRAP", "aws_secret_access_key": "bootstrap-only"}
        s3, iam = server.client("s3", **admin), server.client("iam", **admin)
        s3.create_bucket(Bucket="locked-bucket")
        s3.put_object(Bucket="locked-bucket", Key="raw/secret.csv", Body=b"1,2,3")
        iam.create_user(UserName="lister")
        keys = iam.create_access_key(UserName="lister")["AccessKey"]
        iam.put_user_policy(UserName="lister", PolicyName="list-only", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            # moto authorizes HeadBucket as the action "s3:HeadBucket" (AWS: s3:ListBucket)
            "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:HeadBucket"], "Resource": "*"}]}))
        server.enforce_auth()
        yield LockedBucket(server, "locked-bucket", "raw/secret.csv", keys["AccessKeyId"], keys["SecretAccessKey"])
    finally:
        server.stop()
