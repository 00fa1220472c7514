"""The "Example:" lines as ``--help`` prints them (the top-level help included, whatever filled them in) parse with
the real parser, and ``serve``'s examples pass its start-up checks: none of them is the usage error "no chain to
index" when run as shown in a folder with no settings."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import pytest

from anacostia_blockchain.cli import serve_cmd
from anacostia_blockchain.cli._help import subcommands
from anacostia_blockchain.cli.main import build_parser


def _examples_in(help_text: str) -> list[list[str]]:
    """The ``anacostia-chain`` command lines under "Example:" in a help text, as a shell splits them."""
    _, found, rest = help_text.partition("\nExample:\n")
    assert found, "no Example: section"
    block = []
    for line in rest.splitlines():
        if line and not line[:1].isspace():
            break
        block.append(line.strip())
    joined = "\n".join(block).replace("\\\n", " ")
    return [shlex.split(line, comments=True)[1:] for line in joined.splitlines() if line.startswith("anacostia-chain ")]


def _shown_examples() -> list[tuple[str, list[str]]]:
    parser = build_parser()
    shown = [("anacostia-chain", argv) for argv in _examples_in(parser.format_help())]
    for path, _, subparser in subcommands(parser):
        shown += [(" ".join(path), argv) for argv in _examples_in(subparser.format_help())]
    return shown


EXAMPLES = _shown_examples()


@pytest.mark.parametrize(("where", "argv"), EXAMPLES, ids=[f"{w}: {' '.join(a)}" for w, a in EXAMPLES])
def test_every_example_in_every_help_parses(where: str, argv: list[str]) -> None:
    parser = build_parser()
    if {"--help", "--version"} & set(argv):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(argv)
        assert exited.value.code == 0
        return
    args = parser.parse_args(argv)
    assert getattr(args, "func", None) is not None, f"{' '.join(argv)} names no command"


SERVE = [argv for where, argv in EXAMPLES if where == "serve"]


@pytest.mark.parametrize("argv", SERVE, ids=" ".join)
def test_every_serve_example_has_something_to_serve(argv: list[str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANACOSTIA_RPC_URL", "ANACOSTIA_DEPLOYMENTS", "ANACOSTIA_CONFIG", "ANACOSTIA_RUN_INDEXER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    args: argparse.Namespace = build_parser().parse_args(argv)
    config = serve_cmd._config(args)
    problem = serve_cmd._missing_chain(config) if config.run_indexer else None
    assert problem is None, f"`anacostia-chain {' '.join(argv)}` stops with: {problem}"
