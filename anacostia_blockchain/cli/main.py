"""``anacostia-chain``: a thin shell over the library.

Each command lives in its own module ``cli/<name>_cmd.py`` exposing ``register(subparsers)``; that function adds a
sub-parser whose ``func`` default takes the parsed ``argparse.Namespace`` and returns an exit code.
Errors derived from :class:`AnacostiaError` print as one line (``--debug`` shows the traceback) and exit 1;
usage errors exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from ..errors import AnacostiaError

#: Command modules, in --help order. A module that is absent is skipped.
COMMAND_MODULES = ("devnet", "deploy", "run", "verify", "ipfs", "serve", "demo")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anacostia-chain",
        description="Run blockchain-anchored MLOps pipelines: devnet, deploy, run, verify, ipfs, serve, demo.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and DEBUG logs")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}_cmd":
                raise
            continue
        module.register(subparsers)
    _describe_subcommands(parser)
    return parser


def _describe_subcommands(parser: argparse.ArgumentParser) -> None:
    """Start every sub-command's ``--help`` with the line it is listed with (argparse shows it only in the list)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            listed = {choice.dest: choice.help for choice in action._choices_actions}
            for name, subparser in action.choices.items():
                if subparser.description is None and listed.get(name):
                    subparser.description = listed[name]
                _describe_subcommands(subparser)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except AnacostiaError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
