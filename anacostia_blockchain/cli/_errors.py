"""The CLI's error boundary: any exception becomes one line on stderr and a documented exit code.

==== ========================================================================================================
0    success
1    an error: a library error (:class:`AnacostiaError`), a file that cannot be read or written (``OSError``),
     a failed pipeline run or anchor (``run``), anything unexpected (``--debug`` shows the traceback)
2    usage: unknown command, bad or missing option (argparse prints the usage)
3, 4 ``verify`` only: tampered / not anchored
130  interrupted (Ctrl-C, or SIGTERM while a pipeline launches)
==== ========================================================================================================

Role ids in messages (``neededRole=0x08b5…``) are shown by name (``neededRole=ANCHOR_ROLE``): decoded reverts name
them already, and :func:`~anacostia_blockchain.chain.abi.name_roles` names those in any other text.
"""

from __future__ import annotations

from ..chain.abi import name_roles
from ..errors import AnacostiaError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def describe(exc: BaseException) -> tuple[str, int]:
    """The one-line message and the exit code of an exception that ended a command."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", EXIT_INTERRUPTED
    if isinstance(exc, AnacostiaError):
        return _one_line(name_roles(str(exc))), EXIT_ERROR
    if isinstance(exc, OSError):
        return _one_line(describe_os_error(exc)), EXIT_ERROR
    detail = f": {exc}" if str(exc) else ""
    return _one_line(f"unexpected {type(exc).__name__}{detail} (rerun with --debug for the traceback)"), EXIT_ERROR


def describe_os_error(exc: OSError) -> str:
    """``<path>: <reason>`` when the error names its file (``<path> -> <other>`` for two), else the reason."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is None:
        return reason
    paths = str(exc.filename) + (f" -> {exc.filename2}" if exc.filename2 is not None else "")
    return f"{paths}: {reason}"


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "failed"
