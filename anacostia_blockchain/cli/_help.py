"""What every ``anacostia-chain`` command's ``--help`` shows besides its options: a description and examples.

:data:`EXAMPLES` holds the examples of every command and sub-command, by command path; :func:`finish_help` attaches
them (as an "Example:" epilog), gives each sub-command the description it is listed with when it has none, and sets
:class:`HelpFormatter`, which wraps prose and keeps example lines as written. A command without examples here fails
``tests/cli/test_cli_shell.py``, and every example must parse with the real parser.
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Iterator

#: Example command lines, by command path ("ipfs car export"). Shown under "Example:" in the command's --help.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "devnet": (
        "anacostia-chain devnet                                  # chain 31337 on 127.0.0.1:8545, until Ctrl-C",
        "anacostia-chain devnet --port 0 --state .chain/state.json --show-keys",
    ),
    "deploy": (
        "export ANACOSTIA_PRIVATE_KEY=0x…   # e.g. a dev key from `anacostia-chain devnet --show-keys`",
        "anacostia-chain deploy --rpc-url http://127.0.0.1:8545",
        "anacostia-chain deploy --rpc-url https://rpc.example.org --keystore deployer.json \\",
        "    --password-env DEPLOYER_PASSWORD --contracts RunRegistry,ModelNFT",
    ),
    "run": (
        "anacostia-chain run my_pipeline.py --for 60",
        "anacostia-chain run mypkg.pipelines:build_nightly --json",
    ),
    "verify": (
        "anacostia-chain verify 3                    # in the project folder: ./metadata.db, ./deployments",
        "anacostia-chain verify 3 --item metric:accuracy --json",
        "anacostia-chain verify 3 --db sqlite:///metadata.db --pipeline metadata_store --rpc-url http://127.0.0.1:8545",
    ),
    "lineage": (
        "anacostia-chain lineage models:model.pkl                   # in the project folder: ./metadata.db",
        "anacostia-chain lineage bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi --verify --json",
    ),
    "export": ("anacostia-chain export mlflow --tracking-uri sqlite:///mlflow.db",),
    "export mlflow": (
        "anacostia-chain export mlflow --tracking-uri sqlite:///mlflow.db   # every run of ./metadata.db",
        "anacostia-chain export mlflow --tracking-uri file:./mlruns --run 3 --offline --json",
    ),
    "ipfs": (
        "anacostia-chain ipfs add -r data/",
        "anacostia-chain ipfs cat bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/readme.txt",
    ),
    "ipfs add": (
        "anacostia-chain ipfs add -r -w data/",
        "anacostia-chain ipfs add --cid-version 1 -Q model.pkl",
        "anacostia-chain ipfs add -n -q notes.txt                # only the CID, nothing stored",
    ),
    "ipfs cat": ("anacostia-chain ipfs cat bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/readme.txt",),
    "ipfs car": (
        "anacostia-chain ipfs car export bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi dag.car",
        "anacostia-chain ipfs car import dag.car",
    ),
    "ipfs car export": (
        "anacostia-chain ipfs car export bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi dag.car",
    ),
    "ipfs car import": ("anacostia-chain ipfs car import dag.car --repo ~/.anacostia/ipfs",),
    "serve": (
        "anacostia-chain serve --rpc-url http://127.0.0.1:8545 --manifest deployments",
        "anacostia-chain serve --rpc-url https://rpc.example.org --manifest deployments/1.json --port 8080 \\",
        "    --db postgresql+psycopg://app@db/market",
        "anacostia-chain serve --no-indexer --db postgresql+psycopg://app@db/market   # an index another serve fills",
    ),
    "demo": (
        "anacostia-chain demo",
        "anacostia-chain demo --batches 5 --serve",
    ),
}


class HelpFormatter(argparse.HelpFormatter):
    """Wraps each paragraph of a description or epilog to the terminal, except paragraphs with indented lines
    (examples, tables), which are kept as written; never breaks an option name at its hyphens."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for paragraph in text.strip("\n").split("\n\n"):
            lines = paragraph.splitlines()
            if any(line[:1].isspace() for line in lines):
                paragraphs.append("\n".join(indent + line for line in lines))
            else:
                paragraphs.append(textwrap.fill(" ".join(paragraph.split()), width, initial_indent=indent,
                                                subsequent_indent=indent, break_on_hyphens=False,
                                                break_long_words=False))
        return "\n\n".join(paragraphs)

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False, break_long_words=False)


def example_epilog(lines: tuple[str, ...]) -> str:
    return "Example:\n" + "\n".join(f"  {line}" for line in lines)


def subcommands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[
    tuple[tuple[str, ...], str, argparse.ArgumentParser]
]:
    """``(command path, the line it is listed with, its parser)`` of every sub-command, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            listed = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, subparser in action.choices.items():
                yield (*path, name), listed.get(name, ""), subparser
                yield from subcommands(subparser, (*path, name))


def finish_help(parser: argparse.ArgumentParser) -> None:
    """Descriptions, examples and the formatter for ``parser`` and every sub-command (see the module docstring)."""
    parser.formatter_class = HelpFormatter
    for path, listed, subparser in subcommands(parser):
        subparser.formatter_class = HelpFormatter
        if subparser.description is None and listed:
            subparser.description = listed
        examples = EXAMPLES.get(" ".join(path))
        if examples and not subparser.epilog:
            subparser.epilog = example_epilog(examples)
