"""Resource nodes. ``FilesystemStoreNode`` watches a local folder (this package is the only watchdog user);
``S3StoreNode`` watches and writes a bucket prefix (imported on first use: boto3 is the ``s3`` extra)."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .filesystem import FilesystemStoreNode, hash_file

if TYPE_CHECKING:
    from .s3 import S3StoreNode

__all__ = ["FilesystemStoreNode", "S3StoreNode", "hash_file"]


def __getattr__(name: str) -> Any:
    if name == "S3StoreNode":
        value = import_module(".s3", __name__).S3StoreNode
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
