"""`anacostia-chain ipfs ...` prints what Kubo's `ipfs` prints."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from emulators.kubo_emulator import KuboEmulator

from anacostia_blockchain.cli.main import main
from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore, import_path

HELLO = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello world\n")
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_prints_like_kubo_and_stores(capsys, tmp_path: Path, hello: Path) -> None:
    repo = tmp_path / "repo"
    assert _run(capsys, "ipfs", "add", "--repo", str(repo), str(hello)) == (0, f"added {HELLO} hello.txt\n", "")
    assert EmbeddedBlockstore(repo).pins() == {EmbeddedBlockstore(repo).resolve(HELLO)}
    code, out, _ = _run(capsys, "ipfs", "--repo", str(repo), "add", "-w", str(hello))
    assert code == 0
    wrapped = import_path(hello, wrap=True)[-1]
    assert out == f"added {HELLO} hello.txt\nadded {wrapped.cid} \n"
    assert _run(capsys, "ipfs", "cat", "--repo", str(repo), f"{wrapped.cid}/hello.txt")[1] == "hello world\n"


@pytest.mark.parametrize(("flags", "expected"), [
    (["--cid-version", "1"], "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"),
    (["--profile", "unixfs-v1-2025"], "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"),
    (["--cid-version", "1", "--no-raw-leaves"], "bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby"),
    (["--chunker", "size-4"], None),
])
def test_add_flags_only_hash_quieter(capsys, tmp_path: Path, hello: Path, flags: list[str],
                                     expected: str | None) -> None:
    repo = tmp_path / "repo"
    code, out, _ = _run(capsys, "ipfs", "add", "--repo", str(repo), "-n", "-Q", *flags, str(hello))
    assert code == 0
    if expected is None:
        expected = str(import_path(hello, chunker="size-4")[-1].cid)
        assert expected != HELLO
    assert out == expected + "\n"
    assert not (repo / "pins.json").exists() and not (repo / "pins.log").exists()


def test_add_recursive_quiet_and_hidden(capsys, tmp_path: Path) -> None:
    folder = tmp_path / "d"
    (folder / "s").mkdir(parents=True)
    (folder / "a").write_bytes(b"a")
    (folder / "s" / "b").write_bytes(b"b")
    (folder / ".dot").write_bytes(b"dot")
    code, out, _ = _run(capsys, "ipfs", "add", "-r", "-n", str(folder))
    expected = import_path(folder, recursive=True)
    assert out.splitlines() == [f"added {r.cid} {r.name}" for r in expected]
    assert [line.split()[-1] for line in out.splitlines()] == ["d/a", "d/s/b", "d/s", "d"]
    _, quiet, _ = _run(capsys, "ipfs", "add", "-r", "-n", "-q", "-H", str(folder))
    assert quiet.splitlines() == [str(r.cid) for r in import_path(folder, recursive=True, hidden=True)]
    code, _, err = _run(capsys, "ipfs", "add", "-n", str(folder))
    assert code == 1 and "recursive" in err


def test_add_from_stdin(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"hello world\n")))
    assert _run(capsys, "ipfs", "add", "-n")[1] == f"added {HELLO} {HELLO}\n"


def test_car_export_import_and_errors(capsys, tmp_path: Path, hello: Path) -> None:
    repo, other, car = tmp_path / "repo", tmp_path / "other", tmp_path / "x.car"
    _run(capsys, "ipfs", "add", "--repo", str(repo), "-Q", str(hello))
    assert _run(capsys, "ipfs", "car", "export", "--repo", str(repo), HELLO, str(car))[0] == 0
    printed = _run(capsys, "ipfs", "car", "import", "--repo", str(other), str(car))[1]
    assert printed == f"Pinned root\t{HELLO}\tsuccess\n"
    assert _run(capsys, "ipfs", "cat", "--repo", str(other), HELLO)[1] == "hello world\n"
    code, _, err = _run(capsys, "ipfs", "cat", "--repo", str(other), "QmNotACid")
    assert code == 1 and err.startswith("error: invalid CID")
    car.write_bytes(car.read_bytes()[:-1] + b"!")
    code, _, err = _run(capsys, "ipfs", "car", "import", "--repo", str(tmp_path / "third"), str(car))
    assert code == 1 and "does not hash" in err


def test_repo_from_environment(capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, hello: Path) -> None:
    monkeypatch.setenv("ANACOSTIA_IPFS_PATH", str(tmp_path / "env-repo"))
    _run(capsys, "ipfs", "add", "-Q", str(hello))
    assert EmbeddedBlockstore(tmp_path / "env-repo").pins() == {CID.parse(HELLO)}


def test_api_flag_uses_kubo(capsys, monkeypatch: pytest.MonkeyPatch, kubo: KuboEmulator, hello: Path,
                            tmp_path: Path) -> None:
    assert _run(capsys, "ipfs", "add", "--api", kubo.url, str(hello))[1] == f"added {HELLO} hello.txt\n"
    assert _run(capsys, "ipfs", "cat", "--api", kubo.url, HELLO)[1] == "hello world\n"
    other = tmp_path / "other.txt"
    other.write_bytes(b"other")
    _, remote, _ = _run(capsys, "ipfs", "add", "--api", kubo.url, "-w", str(hello), str(other))
    _, local, _ = _run(capsys, "ipfs", "add", "-n", "-w", str(hello), str(other))
    assert remote == local and remote.splitlines()[-1].endswith(" ")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"hello world\n")))
    assert _run(capsys, "ipfs", "add", "--api", kubo.url, "-Q")[1] == f"{HELLO}\n"


def test_several_paths_wrapped_together(capsys, tmp_path: Path, hello: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_bytes(b"other")
    repo = tmp_path / "repo"
    _, out, _ = _run(capsys, "ipfs", "add", "--repo", str(repo), "-w", str(hello), str(other))
    lines = out.splitlines()
    assert [line.split(" ")[2] for line in lines] == ["hello.txt", "other.txt", ""]
    wrapper = lines[-1].split(" ")[1]
    store = EmbeddedBlockstore(repo)
    assert store.pins() == {store.resolve(wrapper)}
    assert store.cat(f"{wrapper}/other.txt") == b"other"
    _, out, _ = _run(capsys, "ipfs", "add", "--repo", str(repo), "-q", str(hello), str(other))
    assert store.pins() == {store.resolve(wrapper), *(store.resolve(c) for c in out.split())}
