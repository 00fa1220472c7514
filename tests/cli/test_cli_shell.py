"""The ``anacostia-chain`` shell: every command and sub-command has specific ``--help`` with examples that parse;
exit codes scripts can rely on (0 ok, 1 an error printed as one line, 2 usage, 130 interrupted); ``--debug`` shows
the traceback; the logging options on every command; ``--version``, ``python -m``, shell completion; keys never
printed.

The parser is walked, so a command added later is covered without editing this file; the table below adds what each
known command's help must mention beyond that.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.cli._help import EXAMPLES, subcommands
from anacostia_blockchain.cli._project import DEFAULT_DEPLOYMENTS
from anacostia_blockchain.cli.main import COMMAND_MODULES, build_parser, main

CLI = str(Path(sys.executable).with_name("anacostia-chain"))

#: What each command's --help must say besides its description (its essential options / arguments).
SPECIFIC = {
    "devnet": ["--story-compat", "--state", "--show-keys"],
    "deploy": ["--rpc-url", "--keystore", "--password-env", "--manifest", "--json", "ANACOSTIA_PRIVATE_KEY"],
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


COMMANDS = list(subcommands(build_parser()))
ROOT = Path(__file__).resolve().parents[2]


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


def test_deploy_to_an_unwritable_manifest_folder_is_one_line_before_any_gas(devnet: Devnet, tmp_path: Path, capsys,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANACOSTIA_PRIVATE_KEY", devnet.accounts[0].private_key)
    blocker = write(tmp_path / "not-a-folder", "a file where the manifest folder should be")
    nonce = devnet.rpc("eth_getTransactionCount", [devnet.accounts[0].address, "pending"])
    assert main(["deploy", "--rpc-url", devnet.rpc_url, "--manifest", str(blocker / "deployments")]) == 1
    err = one_line_error(capsys)
    assert err.startswith(f"error: cannot write the deployment manifest {blocker / 'deployments'}/")
    assert "Not a directory" in err and "--manifest" in err and "Traceback" not in err
    assert devnet.rpc("eth_getTransactionCount", [devnet.accounts[0].address, "pending"]) == nonce  # nothing sent


# --- examples, shell options, version, python -m, completion --------------------------------------------------------
@pytest.mark.parametrize(("path", "listed", "parser"), COMMANDS, ids=[" ".join(p) for p, _, _ in COMMANDS])
def test_every_command_shows_an_example_and_the_shell_options(path: tuple[str, ...], listed: str,
                                                               parser: argparse.ArgumentParser,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([*path, "--help"])
    out = capsys.readouterr().out
    assert "\nExample:\n" in out, f"{' '.join(path)} --help shows no example"
    assert "\n  anacostia-chain " in out[out.index("\nExample:\n"):]
    for option in ("--log-level", "--log-format", "--debug"):
        assert option in out


def example_commands() -> list[list[str]]:
    """Every example line that runs anacostia-chain, split as a shell would (comments dropped)."""
    commands = []
    for examples in EXAMPLES.values():
        text = "\n".join(examples).replace("\\\n", " ")  # shell line continuations
        commands += [shlex.split(line, comments=True)[1:] for line in text.splitlines()
                     if line.startswith("anacostia-chain ")]
    return commands


@pytest.mark.parametrize("argv", example_commands(), ids=" ".join)
def test_every_example_parses(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.func is not None


def test_examples_name_only_real_commands() -> None:
    assert set(EXAMPLES) == {" ".join(path) for path, _, _ in COMMANDS}


@pytest.mark.parametrize("where", ["before", "after"])
def test_log_options_are_accepted_before_or_after_the_command(where: str) -> None:
    options = ["--log-level", "info", "--log-format", "json", "--debug"]
    argv = [*options, "verify", "3"] if where == "before" else ["verify", "3", *options]
    args = build_parser().parse_args(argv)
    assert (args.log_level, args.log_format, args.debug, args.run) == ("INFO", "json", True, 3)
    plain = build_parser().parse_args(["verify", "3"])
    assert (plain.log_level, plain.log_format, plain.debug) == (None, None, False)  # unset: from the settings


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"anacostia-chain {importlib.metadata.version('anacostia-blockchain')}\n"


def test_python_dash_m_runs_the_same_shell() -> None:
    result = subprocess.run([sys.executable, "-m", "anacostia_blockchain", "ipfs", "add", "-n", "-Q"],
                            input=b"hello\n", capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN\n"  # Kubo's CID of "hello\n"
    usage = subprocess.run([sys.executable, "-m", "anacostia_blockchain", "no-such-command"], capture_output=True,
                           text=True, timeout=120)
    assert usage.returncode == 2 and "usage: anacostia-chain" in usage.stderr
    for module in ("anacostia_blockchain", "anacostia_blockchain.cli.main"):  # no runpy warning: loaded once
        version = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True,
                                 timeout=120)
        assert version.returncode == 0 and version.stderr == "" and version.stdout.startswith("anacostia-chain ")


@pytest.mark.parametrize(("line", "expected"), [
    ("anacostia-chain ", {"devnet", "deploy", "run", "verify", "ipfs", "serve", "demo"}),
    ("anacostia-chain ipfs car ", {"export", "import"}),
    ("anacostia-chain deploy --red", {"--redeploy-changed"}),
    ("anacostia-chain run x.py --log-l", {"--log-level"}),
])
def test_shell_completion(line: str, expected: set[str], tmp_path: Path) -> None:
    """What bash asks through ``register-python-argcomplete``'s hook: the words completing ``line``."""
    out = tmp_path / "completions"
    env = {**os.environ, "_ARGCOMPLETE": "1", "_ARGCOMPLETE_SHELL": "bash", "COMP_LINE": line,
           "COMP_POINT": str(len(line)), "COMP_TYPE": "9", "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
           "_ARGCOMPLETE_IFS": "\n"}
    result = subprocess.run([CLI], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    words = {word.strip() for word in out.read_text().split("\n") if word.strip()}
    assert expected <= words


def test_the_console_script_is_marked_for_global_completion() -> None:
    # `activate-global-python-argcomplete` completes a console script when its module carries this marker
    main_module = importlib.import_module("anacostia_blockchain.cli.main")
    assert Path(str(main_module.__file__)).read_text().startswith("# PYTHON_ARGCOMPLETE_OK\n")


# --- no traceback escapes ----------------------------------------------------------------------------------------
def test_car_import_of_a_missing_file_or_a_directory_is_one_line(tmp_path: Path, capsys) -> None:
    repo = ["--repo", str(tmp_path / "repo")]
    assert main(["ipfs", "car", "import", str(tmp_path / "missing.car"), *repo]) == 1
    assert one_line_error(capsys) == f"error: no such file: {tmp_path / 'missing.car'}\n"
    assert main(["ipfs", "car", "import", str(tmp_path), *repo]) == 1
    assert one_line_error(capsys) == f"error: {tmp_path} is a directory, not a CAR file\n"


def test_car_export_to_a_directory_or_a_missing_folder_is_one_line(tmp_path: Path, capsys) -> None:
    repo = ["--repo", str(tmp_path / "repo")]
    assert main(["ipfs", "add", "-Q", str(write(tmp_path / "a.txt", "a")), *repo]) == 0
    cid = capsys.readouterr().out.strip()
    assert main(["ipfs", "car", "export", cid, str(tmp_path), *repo]) == 1
    assert "is a directory: give the path of the CAR file to write" in one_line_error(capsys)
    assert main(["ipfs", "car", "export", cid, str(tmp_path / "no" / "such" / "dag.car"), *repo]) == 1
    assert f"no such folder {tmp_path / 'no' / 'such'}" in one_line_error(capsys)
    assert main(["ipfs", "car", "export", cid, str(tmp_path / "dag.car"), *repo]) == 0
    assert (tmp_path / "dag.car").stat().st_size > 0


def test_an_os_error_the_command_did_not_foresee_is_still_one_line(tmp_path: Path, capsys,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = write(tmp_path / "not-a-folder", "a file where the repo's parent folder should be")
    assert main(["ipfs", "add", "-Q", str(write(tmp_path / "a.txt", "a")), "--repo", str(blocker / "repo")]) == 1
    err = one_line_error(capsys)
    assert str(blocker) in err and "Traceback" not in err


def test_an_unexpected_exception_is_one_line_and_the_traceback_is_behind_debug(capsys,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from anacostia_blockchain.cli import ipfs_cmd

    def broken(_args: argparse.Namespace) -> int:
        raise RuntimeError("the sky fell")

    monkeypatch.setattr(ipfs_cmd, "_cat", broken)
    assert main(["ipfs", "cat", "bafkqaaa"]) == 1
    expected = "error: unexpected RuntimeError: the sky fell (rerun with --debug for the traceback)\n"
    assert one_line_error(capsys) == expected
    with pytest.raises(RuntimeError, match="the sky fell"):
        main(["ipfs", "cat", "bafkqaaa", "--debug"])


def test_ctrl_c_while_the_commands_load_is_one_line_with_130(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(name: str, package: str | None = None) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib, "import_module", interrupted)
    assert main(["devnet"]) == 130
    assert capsys.readouterr().err == "error: interrupted\n"


STARTING = (
    "import os, sys\n"
    "from anacostia_blockchain.cli.main import main\n"
    "os.write(2, b'starting\\n')\n"  # main() is entered right after: it loads the commands, parses, starts anvil
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize("delay", [0.05, 0.3, 1.0, 2.0])  # from loading the commands to starting anvil
def test_ctrl_c_during_start_up_never_shows_a_traceback(delay: float) -> None:
    process = subprocess.Popen([sys.executable, "-c", STARTING, "devnet", "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None and process.stderr.readline() == "starting\n"
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    try:
        _out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode in (0, 130), err
    assert "Traceback" not in err
    # when the devnet came up before the signal, its own sign-with hint is on stderr too; nothing else may be
    noise = [line for line in err.splitlines() if not line.startswith("To sign with a dev account:")]
    assert noise in ([], ["error: interrupted"]), err


def test_demo_batches_0_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--batches", "0"])
    assert exited.value.code == 2
    assert "argument --batches: needs at least 1 batch, got 0" in capsys.readouterr().err


def test_demo_with_an_unusable_workdir_is_one_line(tmp_path: Path, capsys) -> None:
    blocker = write(tmp_path / "file", "not a folder")
    assert main(["demo", "--workdir", str(blocker / "demo")]) == 1
    assert one_line_error(capsys) == f"error: cannot use --workdir {blocker / 'demo'}: Not a directory\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- what the CLI writes is ignored by git ---------------------------------------------------------------------------
def test_gitignore_covers_what_the_commands_write() -> None:
    parsers = {" ".join(path): parser for path, _, parser in COMMANDS}
    manifest, workdir = DEFAULT_DEPLOYMENTS, parsers["demo"].get_default("workdir")  # deploy: no --manifest given
    written = [f"{manifest}/31337.json", "metadata.db", "anacostia-marketplace.db", "nested/runs.db",
               f"{workdir}/chain.json"]
    result = subprocess.run(["git", "check-ignore", "--no-index", *written], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.split() == written
