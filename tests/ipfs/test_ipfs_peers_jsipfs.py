"""KuboClient over the real RPC wire: an offline js-ipfs 0.66 daemon (npm ``ipfs``) speaking ``/api/v0``.

js-ipfs is not Kubo: it refuses ``application/x-directory`` parts ("Unexpected input: object"), drops symlinks,
ignores the options Kubo added after 0.18 and ``block/stat``'s ``offline``. The client sends it file parts only and
settles the directories itself (``ipfs/kubo_add.py``), so the daemon still stores the local importer's roots.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from jsipfs_daemon import JsIpfsDaemon

from anacostia_blockchain.errors import ConfigurationError, ContentNotFoundError
from anacostia_blockchain.ipfs import KuboClient, import_bytes, import_path


@pytest.fixture(scope="module")
def jsipfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KuboClient]:
    daemon = JsIpfsDaemon(tmp_path_factory.mktemp("jsipfs") / "repo")
    try:
        with KuboClient(daemon.url, timeout=30, backoff=0.05) as client:
            yield client
    finally:
        daemon.stop()


@pytest.mark.parametrize("flags", [{}, {"cid_version": 1}, {"chunker": "size-65536", "raw_leaves": True}])
def test_add_cat_pin_unpin(jsipfs: KuboClient, flags: dict) -> None:
    data = os.urandom(700_000)
    result = jsipfs.add_bytes(data, **flags)
    assert (result.cid, result.cumulative_size) == (import_bytes(data, **flags).cid,
                                                    import_bytes(data, **flags).cumulative_size)
    assert jsipfs.cat(result.cid) == data  # one dag/export stream, every block re-hashed here
    assert result.cid in jsipfs.pins() and jsipfs.has(result.cid)
    jsipfs.unpin(result.cid)
    assert result.cid not in jsipfs.pins()
    with pytest.raises(ContentNotFoundError):
        jsipfs.unpin(result.cid)
    assert jsipfs.pin(result.cid) == result.cid and result.cid in jsipfs.pins()


def test_directory_with_symlink_and_empty_dir_stores_our_root(jsipfs: KuboClient, tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "css").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "index.html").write_bytes(b"<h1>hi</h1>")
    (root / "css" / "a b.css").write_bytes(b"body{}")
    (root / "big.bin").write_bytes(os.urandom(300_000))
    os.symlink("index.html", root / "home.html")
    remote = jsipfs.add_path_all(root, recursive=True, cid_version=1)
    local = import_path(root, recursive=True, cid_version=1)
    assert [(r.name, r.cid) for r in remote] == [(r.name, r.cid) for r in local]
    assert local[-1].cid in jsipfs.pins()
    assert jsipfs.cat(f"{local[-1].cid}/css/a b.css") == b"body{}"
    out = jsipfs.get(local[-1].cid, tmp_path / "out")
    assert os.readlink(out / "home.html") == "index.html" and (out / "empty").is_dir()


def test_sharded_directory_through_the_daemon(jsipfs: KuboClient, tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(60):
        (root / f"file-{i:02d}").write_bytes(f"{i}\n".encode())
    remote = jsipfs.add_path(root, recursive=True, hamt_threshold=1000)
    assert remote.cid == import_path(root, recursive=True, hamt_threshold=1000)[-1].cid
    assert jsipfs.cat(f"{remote.cid}/file-42") == b"42\n"
    assert len(jsipfs.ls(remote.cid)) == 60


def test_options_js_ipfs_would_ignore_are_refused(jsipfs: KuboClient) -> None:
    with pytest.raises(ConfigurationError, match=r"max-file-links=1024 needs Kubo 0\.35"):
        jsipfs.add_bytes(b"x", profile="unixfs-v1-2025")
