"""Every command reads the same settings for the options they share (RPC URL, chain id, deployments, key and
keystore, database, pipeline, IPFS repository, metrics port, logging), with one precedence: argument > environment
> ``./.env`` > ``anacostia.toml`` (or ``--config FILE`` / ``$ANACOSTIA_CONFIG``) > the command's default; an
unknown name in a settings file or a bad value is a one-line error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anacostia_blockchain.cli._settings import OPTION_SETTINGS, OWN_OPTIONS, apply_settings
from anacostia_blockchain.cli.main import build_parser, main
from anacostia_blockchain.ipfs import EmbeddedBlockstore

KEY = "5c" * 32
#: setting -> (TOML literal, the option value it gives)
TOML_VALUES = {
    "rpc_url": ('"http://127.0.0.1:9"', "http://127.0.0.1:9"),
    "chain_id": ("31337", 31337),
    "deployments": ('"deployments-from-toml"', "deployments-from-toml"),
    "keystore": ('"keys/deployer.json"', "keys/deployer.json"),
    "db": ('"sqlite:///from-toml.db"', "sqlite:///from-toml.db"),
    "pipeline": ('"from-toml"', "from-toml"),
    "ipfs_path": ('"repo-from-toml"', "repo-from-toml"),
    "metrics_port": ("9464", 9464),
    "log_level": ('"info"', "INFO"),
    "log_format": ('"json"', "json"),
}

#: A command line of every command that has shared options (their options left out).
COMMAND_LINES = [
    ["deploy"], ["verify", "1"], ["lineage", "models:model.pkl"], ["export", "mlflow"], ["ipfs", "cat", "x"],
    ["demo"], ["run", "pipeline.py"], ["devnet"], ["serve"],
]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current folder and no ANACOSTIA_* variables."""
    for name in [n for n in os.environ if n.upper().startswith("ANACOSTIA_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _toml(folder: Path, **values: object) -> None:
    (folder / "anacostia.toml").write_text("".join(f"{name} = {literal}\n" for name, literal in values.items()))


@pytest.mark.parametrize("argv", COMMAND_LINES, ids=lambda argv: argv[0])
def test_every_shared_option_of_every_command_comes_from_the_settings_file(argv: list[str], folder: Path) -> None:
    _toml(folder, **{name: literal for name, (literal, _) in TOML_VALUES.items()})
    args = build_parser().parse_args(argv)
    untouched = {dest: getattr(args, dest, "absent") for dest in OPTION_SETTINGS}
    apply_settings(args)
    filled = 0
    for dest, field in OPTION_SETTINGS.items():
        before, after = untouched[dest], getattr(args, dest, "absent")
        if dest in OWN_OPTIONS.get(argv[0], ()) or (before == "absent" and not (dest == "repo" and argv[0] == "ipfs")):
            assert after == before, f"{argv[0]}: {dest} is the command's own, yet the settings changed it"
            continue
        assert after == TOML_VALUES[field][1], f"{argv[0]}: --{dest.replace('_', '-')} not taken from {field}"
        filled += 1
    assert filled >= 2  # the logging options at least


def test_precedence_is_argument_environment_dotenv_toml_default(folder: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def db(*argv: str) -> object:
        args = build_parser().parse_args(["verify", "1", *argv])
        apply_settings(args)
        return args.db

    assert db() is None
    _toml(folder, db='"sqlite:///toml.db"')
    assert db() == "sqlite:///toml.db"
    (folder / ".env").write_text("ANACOSTIA_DB=sqlite:///dotenv.db\nOTHER_TOOL=left alone\n")
    assert db() == "sqlite:///dotenv.db"
    monkeypatch.setenv("ANACOSTIA_DB", "sqlite:///environment.db")
    assert db() == "sqlite:///environment.db"
    assert db("--db", "sqlite:///argument.db") == "sqlite:///argument.db"


def test_config_names_another_settings_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "other.toml").write_text('pipeline = "from-config"\n')
    args = build_parser().parse_args(["verify", "1", "--config", "other.toml"])
    apply_settings(args)
    assert args.pipeline == "from-config"
    monkeypatch.setenv("ANACOSTIA_CONFIG", str(folder / "other.toml"))
    args = build_parser().parse_args(["export", "mlflow"])
    apply_settings(args)
    assert args.pipeline == "from-config"


def test_an_unknown_setting_is_a_one_line_error_for_every_command(folder: Path, capsys) -> None:
    _toml(folder, rpc_ur='"http://127.0.0.1:9"')
    for argv in (["verify", "1"], ["ipfs", "cat", "x"], ["devnet", "--port", "0"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err == f"error: {folder / 'anacostia.toml'}: unknown setting 'rpc_ur' (did you mean 'rpc_url'?)\n"
    (folder / "anacostia.toml").unlink()
    (folder / ".env").write_text("ANACOSTIA_PIPELNE=x\n")
    assert main(["verify", "1"]) == 1
    assert "unknown setting 'pipelne' (did you mean 'pipeline'?)" in capsys.readouterr().err


def test_a_bad_rpc_url_setting_is_one_line_and_hides_secrets(folder: Path, capsys) -> None:
    _toml(folder, rpc_url='"https://user:s3cr3t@rpc.example.org:99999/v3/APIKEY"')
    assert main(["verify", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: bad setting ANACOSTIA_RPC_URL / rpc_url: bad port in RPC URL")
    assert err.count("\n") == 1
    assert "s3cr3t" not in err and "APIKEY" not in err


def test_deploy_takes_url_and_key_from_dotenv_and_needs_a_url(folder: Path, capsys) -> None:
    assert main_exit(["deploy"]) == 2
    assert "--rpc-url (or ANACOSTIA_RPC_URL, rpc_url in anacostia.toml)" in capsys.readouterr().err
    (folder / ".env").write_text("ANACOSTIA_RPC_URL=http://127.0.0.1:9\n")
    assert main(["deploy"]) == 1
    assert "ANACOSTIA_PRIVATE_KEY is not set" in capsys.readouterr().err
    (folder / ".env").write_text(f"ANACOSTIA_RPC_URL=http://127.0.0.1:9\nANACOSTIA_PRIVATE_KEY=0x{KEY}\n")
    assert main(["deploy", "--contracts", "RunRegistry"]) == 1  # the key was taken: it went on to the (absent) node
    err = capsys.readouterr().err
    assert "http://127.0.0.1:9" in err and "PRIVATE_KEY" not in err and KEY not in err


def main_exit(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return int(exited.value.code or 0)


def test_ipfs_uses_the_repository_of_the_settings_file(folder: Path, capsys) -> None:
    _toml(folder, ipfs_path='"repo"')
    (folder / "hello.txt").write_text("hello world\n")
    assert main(["ipfs", "add", "-Q", "hello.txt"]) == 0
    cid = capsys.readouterr().out.strip()
    assert {str(c) for c in EmbeddedBlockstore(folder / "repo").pins()} == {cid}


def test_log_format_from_the_settings_file(folder: Path, capsys) -> None:
    _toml(folder, log_format='"json"', log_level='"warning"')
    (folder / "pipeline.py").write_text("import logging\nlogging.getLogger('anacostia_blockchain.x').warning('hi')\n")
    assert main(["run", "pipeline.py"]) == 1  # it defines no pipeline; the warning was logged while importing
    err = capsys.readouterr().err
    assert '"message": "hi"' in err and '"level": "WARNING"' in err
