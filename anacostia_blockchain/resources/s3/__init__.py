"""S3 (and S3-compatible) buckets as resources: :class:`S3StoreNode` watches a prefix for new and changed objects
and writes outputs there, giving every object its CID. Needs the ``s3`` extra (boto3); :mod:`._client` is the only
module that imports boto3 or botocore. See docs/s3.md."""

from .node import ObjectContent, ObjectVersion, S3StoreNode

__all__ = ["ObjectContent", "ObjectVersion", "S3StoreNode"]
