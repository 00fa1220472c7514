"""Resource nodes. ``FilesystemStoreNode`` watches a local folder (this package is the only watchdog user)."""

from .filesystem import FilesystemStoreNode, hash_file

__all__ = ["FilesystemStoreNode", "hash_file"]
