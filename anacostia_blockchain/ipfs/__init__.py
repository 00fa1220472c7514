"""IPFS content addressing (Kubo byte for byte), CAR files, the embedded blockstore, and Kubo / Storacha clients.

See ``docs/ipfs.md`` for the public API. This is the only package that imports ``httpx``.
"""

from .blockstore import EmbeddedBlockstore
from .car import CarReader, CarWriter, car_cid, read_car, write_car
from .cid import CID
from .importer import (
    BlockSink,
    ImportResult,
    build_directory,
    compute_cid,
    import_bytes,
    import_file,
    import_path,
    import_paths,
    import_stream,
)
from .kubo import KuboClient
from .profiles import PROFILES, ImportOptions
from .storacha import StorachaClient, StorachaUpload
from .store import ContentStore, default_repo_path, open_content_store

__all__ = [
    "CID",
    "PROFILES",
    "BlockSink",
    "CarReader",
    "CarWriter",
    "ContentStore",
    "EmbeddedBlockstore",
    "ImportOptions",
    "ImportResult",
    "KuboClient",
    "StorachaClient",
    "StorachaUpload",
    "build_directory",
    "car_cid",
    "compute_cid",
    "default_repo_path",
    "import_bytes",
    "import_file",
    "import_path",
    "import_paths",
    "import_stream",
    "open_content_store",
    "read_car",
    "write_car",
]
