"""The boto3 boundary: S3 and SQS clients from the standard AWS credential chain, and the one translation of
botocore's exceptions into :class:`~anacostia_blockchain.errors.ObjectStoreError`.

This is the only module of the package that imports boto3, botocore or s3transfer (checked by ``.importlinter``).
Credentials are resolved by boto3 itself (environment, shared config and credentials files, SSO, container and
instance roles) and never pass through this code: an error is built only from the bucket, the key, the operation and
the store's error code and message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from ...errors import ConfigurationError, ObjectStoreError

try:
    import boto3
    from boto3.exceptions import Boto3Error
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
    from s3transfer.exceptions import RetriesExceededError
    from s3transfer.exceptions import S3UploadFailedError as TransferUploadFailedError
except ModuleNotFoundError as exc:  # pragma: no cover - the s3 extra is part of the dev install
    raise ConfigurationError("S3StoreNode needs boto3: pip install 'anacostia-blockchain[s3]'") from exc

#: What a reply without a body (``HEAD``) says, by HTTP status: the code S3 gives the same error elsewhere.
_STATUS_CODES = {301: "PermanentRedirect", 400: "BadRequest", 403: "AccessDenied", 404: "NotFound",
                 412: "PreconditionFailed", 503: "SlowDown"}


def make_clients(
    *, endpoint_url: str | None, region: str | None, profile: str | None, events: bool,
) -> tuple[Any, Any]:
    """An S3 client (and an SQS client when ``events``) from one boto3 session on the standard credential chain.
    Credentials are looked up on the first request, so a missing one surfaces as an ``ObjectStoreError`` there."""
    config = Config(retries={"mode": "standard", "max_attempts": 3})
    with translate_errors("make the S3 client for", bucket="", key=None):
        session = boto3.session.Session(profile_name=profile)
        s3 = session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
        sqs = session.client("sqs", endpoint_url=endpoint_url, region_name=region, config=config) if events else None
    return s3, sqs


def upload(client: Any, stream: BinaryIO, *, bucket: str, key: str, multipart_threshold: int) -> None:
    """Put everything readable from ``stream`` at ``key`` (one ``PutObject``, or a multipart upload above
    ``multipart_threshold`` bytes), through boto3's managed transfer."""
    config = TransferConfig(multipart_threshold=multipart_threshold, multipart_chunksize=max(multipart_threshold,
                                                                                              5 * 1024 * 1024))
    client.upload_fileobj(stream, bucket, key, Config=config)


@contextmanager
def translate_errors(
    operation: str, *, bucket: str, key: str | None, prefix: str = "", node: str = "",
) -> Iterator[None]:
    """Re-raise botocore errors as one-line :class:`ObjectStoreError` naming ``bucket``, ``key`` (``None``: a request
    about the bucket, shown with its ``prefix``) and the error code:
    ``"<node>: <operation> s3://<bucket>/<key or prefix> failed: <Code>: <message>"``."""
    where = f"s3://{bucket}/{prefix if key is None else key}" if bucket else "S3"
    node = f"{node}: " if node else ""
    try:
        yield
    except ClientError as exc:
        code, message = error_code(exc, key)
        raise ObjectStoreError(f"{node}{operation} {where} failed: {code}: {message}", bucket=bucket or None,
                               key=key, code=code) from exc
    except NoCredentialsError as exc:
        raise ObjectStoreError(
            f"{node}{operation} {where} failed: NoCredentials: no AWS credentials in the environment, the shared "
            "config or credentials files, or an instance or container role", bucket=bucket or None, key=key,
            code="NoCredentials") from exc
    except (BotoCoreError, Boto3Error, TransferUploadFailedError, RetriesExceededError) as exc:
        code = type(exc).__name__
        raise ObjectStoreError(f"{node}{operation} {where} failed: {code}: {_one_line(str(exc))}",
                               bucket=bucket or None, key=key, code=code) from exc


def error_code(exc: Any, key: str | None) -> tuple[str, str]:
    """The S3 error code and message of a ``ClientError``; a bodiless reply (``HEAD``) gets the code S3 uses for the
    same status elsewhere (a 404 is ``NoSuchKey`` for a key, ``NoSuchBucket`` for the bucket)."""
    error = exc.response.get("Error", {})
    code, message = str(error.get("Code") or "?"), str(error.get("Message") or "")
    if code.isdigit():
        status = int(code)
        code = ("NoSuchKey" if key else "NoSuchBucket") if status == 404 else _STATUS_CODES.get(status, f"HTTP{status}")
        message = message or "(no details in the reply)"
    return code, _one_line(message) or "(no message)"


def is_missing(exc: ObjectStoreError) -> bool:
    """Whether the error says the object (or the version asked for) does not exist."""
    return exc.code in {"NoSuchKey", "NoSuchVersion"}


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
