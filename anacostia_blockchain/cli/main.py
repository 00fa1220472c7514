# PYTHON_ARGCOMPLETE_OK
"""``anacostia-chain``: a thin shell over the library.

Each command lives in its own module ``cli/<name>_cmd.py`` exposing ``register(subparsers)``; that function adds a
sub-parser whose ``func`` default takes the parsed ``argparse.Namespace`` and returns an exit code. Every command also
takes the shell's own options (``--debug``, ``--log-level``, ``--log-format``, ``--config``), before or after its
name. An option left out comes from the settings (argument > ``ANACOSTIA_*`` environment > ``./.env`` > the TOML
file > the command's default; :mod:`._settings`).

Every failure is one line on stderr (``--debug`` shows the traceback) with the exit codes of :mod:`._errors`:
0 ok, 1 error, 2 usage, 130 interrupted (and ``verify``'s 3 tampered, 4 not anchored). Shell completion comes from
argcomplete: ``eval "$(register-python-argcomplete anacostia-chain)"``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ._errors import EXIT_USAGE, describe
from ._help import HelpFormatter, finish_help
from ._logging import FORMATS, LEVELS, configure_logging
from ._settings import apply_settings

#: Command modules, in --help order. A module that is absent is skipped.
COMMAND_MODULES = ("devnet", "deploy", "run", "verify", "lineage", "export", "ipfs", "serve", "demo")

EPILOG = """Exit codes: 0 ok, 1 error (one line on stderr; --debug for the traceback), 2 usage, 130 interrupted;
`verify` also 3 tampered, 4 not anchored.

Shell completion (bash, zsh):
  eval "$(register-python-argcomplete anacostia-chain)"

Example:
  anacostia-chain devnet --help
  anacostia-chain --version"""


def _add_shell_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--debug``, ``--log-level``, ``--log-format``: with their defaults on the top parser; on sub-commands
    (``top=False``) only when given, so ``anacostia-chain --debug run ...`` and ``... run --debug`` both work."""
    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("logging, errors and settings")
    group.add_argument("--debug", action="store_true", default=default(False),
                       help="show tracebacks and DEBUG logs")
    group.add_argument("--log-level", type=str.upper, choices=LEVELS, metavar="LEVEL", default=default(None),
                       help="log level of everything: DEBUG, INFO, WARNING, ERROR, CRITICAL ($ANACOSTIA_LOG_LEVEL; "
                            "default WARNING, and INFO for a pipeline's own log lines)")
    group.add_argument("--log-format", choices=FORMATS, default=default(None),
                       help="log lines as text or as JSON objects ($ANACOSTIA_LOG_FORMAT; default text)")
    if not any("--config" in action.option_strings for action in parser._actions):  # serve has its own
        group.add_argument("--config", type=Path, metavar="FILE", default=default(None),
                           help="settings file (default ./anacostia.toml, or $ANACOSTIA_CONFIG); options left out "
                                "come from the environment, then ./.env, then this file")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anacostia-chain",
        description="Run blockchain-anchored MLOps pipelines: devnet, deploy, run, verify, ipfs, serve, demo.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"anacostia-chain {__version__}")
    _add_shell_options(parser, top=True)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}_cmd")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}_cmd":
                raise
            continue
        module.register(subparsers)
    finish_help(parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in _all_subparsers(action):
                _add_shell_options(subparser, top=False)
    return parser


def _all_subparsers(action: argparse._SubParsersAction[argparse.ArgumentParser]) -> list[argparse.ArgumentParser]:
    found: list[argparse.ArgumentParser] = []
    for subparser in action.choices.values():
        found.append(subparser)
        for nested in subparser._actions:
            if isinstance(nested, argparse._SubParsersAction):
                found += _all_subparsers(nested)
    return found


def _parse(argv: Sequence[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = build_parser()
    try:
        import argcomplete
    except ImportError:  # pragma: no cover - a dependency; completion is a convenience
        pass
    else:
        argcomplete.autocomplete(parser)
    return parser, parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        parser, args = _parse(argv)  # imports every command module: Ctrl-C may land here too
        debug = args.debug
        apply_settings(args)  # options left out: from the environment, ./.env, anacostia.toml (see ._settings)
        configure_logging(
            "DEBUG" if args.debug else args.log_level,
            args.log_format or "text",
            node_level=getattr(args, "node_log_level", None),
        )
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_USAGE
        return int(args.func(args) or 0)
    except SystemExit:
        raise
    except BaseException as exc:
        if debug and not isinstance(exc, KeyboardInterrupt):
            raise
        message, code = describe(exc)
        print(f"error: {message}", file=sys.stderr, flush=True)
        return code


if __name__ == "__main__":
    sys.exit(main())
