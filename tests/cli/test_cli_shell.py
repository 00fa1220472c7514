"""The ``anacostia-chain`` shell: every command and sub-command has specific ``--help``; exit codes scripts can rely
on (0 ok, 1 a library error printed as one line, 2 usage); ``--debug`` shows the traceback; keys never printed.

The parser is walked, so a command added later is covered without editing this file; the table below adds what each
known command's help must mention beyond that.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.cli.main import COMMAND_MODULES, build_parser, main

CLI = str(Path(sys.executable).with_name("anacostia-chain"))

#: What each command's --help must say besides its description (its essential options / arguments).
SPECIFIC = {
    "devnet": ["--story-compat", "--state", "--show-keys"],
    "deploy": ["--rpc-url", "--keystore", "--password-env", "--manifest", "--json"],
    "run": ["MODULE_OR_FILE[:ATTR]", "--for", "--json", "build_pipeline"],
    "verify": ["RUN", "--item", "--json", "--deployments"],
    "ipfs": ["add", "cat", "car"],
    "ipfs add": ["--cid-version", "--only-hash", "--wrap-with-directory"],
    "ipfs cat": ["CID"],
    "ipfs car": ["export", "import"],
    "ipfs car export": ["CID", "FILE"],
    "ipfs car import": ["FILE"],
    "serve": ["--host", "--rpc-url", "--no-indexer"],
    "demo": ["--serve"],
}


Command = tuple[tuple[str, ...], str, argparse.ArgumentParser]


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[Command]:
    """(command path, the line it is listed with, its parser) for every sub-command, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            listed = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, subparser in action.choices.items():
                yield (*path, name), listed.get(name, ""), subparser
                yield from walk(subparser, (*path, name))


COMMANDS = list(walk(build_parser()))


def test_every_command_of_the_issue_is_registered() -> None:
    top = {path[0] for path, _, _ in COMMANDS}
    assert top == set(COMMAND_MODULES), f"missing: {set(COMMAND_MODULES) - top}"
    assert {" ".join(path) for path, _, _ in COMMANDS} >= set(SPECIFIC)


@pytest.mark.parametrize(("path", "listed", "parser"), COMMANDS, ids=[" ".join(p) for p, _, _ in COMMANDS])
def test_help_exits_0_and_is_specific(path: tuple[str, ...], listed: str, parser: argparse.ArgumentParser,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert len(listed.split()) >= 3, f"{' '.join(path)} is listed without a real description: {listed!r}"
    with pytest.raises(SystemExit) as exited:
        main([*path, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: anacostia-chain {' '.join(path)}")
    assert parser.description, f"{' '.join(path)} --help has no description"
    assert " ".join(parser.description.split()) in " ".join(out.split())
    for word in SPECIFIC.get(" ".join(path), []):
        assert word in out, f"{' '.join(path)} --help does not mention {word}"


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for path, listed, _ in COMMANDS:
        if len(path) == 1:
            assert path[0] in out and listed.split()[0] in out


# --- exit codes ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [["no-such-command"], ["deploy"], ["verify"], ["verify", "not-a-number"], ["run"], ["ipfs", "add", "--pin", "x"]],
    ids=lambda argv: " ".join(argv) or "nothing",
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: anacostia-chain" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["ipfs"], ["ipfs", "car"]], ids=["nothing", "ipfs", "ipfs car"])
def test_a_command_group_without_its_sub_command_prints_help_and_exits_2(argv: list[str], capsys) -> None:
    assert main(argv) == 2
    assert "usage: anacostia-chain" in capsys.readouterr().out


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    return err


def test_library_errors_are_one_line_with_exit_1(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANACOSTIA_PRIVATE_KEY", raising=False)
    assert main(["deploy", "--rpc-url", "http://127.0.0.1:9"]) == 1
    assert "ANACOSTIA_PRIVATE_KEY is not set" in one_line_error(capsys)

    assert main(["deploy", "--rpc-url", "http://127.0.0.1:9", "--keystore", str(tmp_path / "k.json"),
                 "--password-env", "NO_SUCH_PASSWORD_VAR"]) == 1
    assert "NO_SUCH_PASSWORD_VAR" in one_line_error(capsys)

    monkeypatch.delenv("ANACOSTIA_DB", raising=False)
    monkeypatch.delenv("ANACOSTIA_PIPELINE", raising=False)
    monkeypatch.delenv("ANACOSTIA_RPC_URL", raising=False)
    assert main(["verify", "1"]) == 1
    assert "verify needs --db, --pipeline, --rpc-url" in one_line_error(capsys)

    assert main(["ipfs", "--repo", str(tmp_path / "repo"), "cat", "not-a-cid"]) == 1
    one_line_error(capsys)

    assert main(["serve", "--db", "not a database url", "--no-indexer"]) == 1
    assert "bad index database URL" in one_line_error(capsys)


def test_unreachable_chain_is_one_line_and_never_shows_the_key(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "0x" + "5c" * 32
    monkeypatch.setenv("ANACOSTIA_PRIVATE_KEY", key)
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert main(["deploy", "--rpc-url", f"http://127.0.0.1:{port}"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert key[2:] not in captured.out + captured.err


def test_debug_shows_the_traceback_and_keeps_the_exit_code(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANACOSTIA_")}
    env["ANACOSTIA_PRIVATE_KEY"] = "0x" + "7a" * 32
    argv = [CLI, "deploy", "--rpc-url", "http://127.0.0.1:9", "--chain-id", "1"]
    plain = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    debug = subprocess.run([CLI, "--debug", *argv[1:]], env=env, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 1 and debug.returncode == 1
    assert "Traceback" not in plain.stderr and plain.stderr.startswith("error: ")
    assert "Traceback (most recent call last)" in debug.stderr and "ChainConnectionError" in debug.stderr
    assert "7a" * 32 not in plain.stderr + debug.stderr + plain.stdout + debug.stdout


def test_devnet_on_a_busy_port_is_a_one_line_error(capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["devnet", "--port", str(busy.getsockname()[1])]) == 1
    one_line_error(capsys)


# --- --json where offered --------------------------------------------------------------------------------------------
def test_deploy_json_parses_and_matches_the_manifest(fresh_chain: Devnet, tmp_path: Path, capsys,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANACOSTIA_PRIVATE_KEY", fresh_chain.accounts[0].private_key)
    argv = ["deploy", "--rpc-url", fresh_chain.rpc_url, "--manifest", str(tmp_path), "--contracts",
            "RunRegistry,ModelNFT", "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["chainId"] == fresh_chain.chain_id and first["deployer"] == fresh_chain.accounts[0].address
    assert {name: c["status"] for name, c in first["contracts"].items()} == {
        "RunRegistry": "deployed", "ModelNFT": "deployed"}
    manifest = json.loads(Path(first["manifest"]).read_text())
    assert {name: entry["address"] for name, entry in manifest["contracts"].items()} == {
        name: c["address"] for name, c in first["contracts"].items()}
    assert main(argv) == 0  # idempotent: the second run reuses both
    second = json.loads(capsys.readouterr().out)
    assert {c["status"] for c in second["contracts"].values()} == {"reused"}
