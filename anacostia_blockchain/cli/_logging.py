"""Logging of the ``anacostia-chain`` commands: one handler on stderr, as text or as JSON lines.

Levels: ``--log-level LEVEL`` (or ``$ANACOSTIA_LOG_LEVEL``) applies to everything; ``--debug`` means DEBUG. Without
either, only warnings and errors are shown — except a pipeline's own log lines (a node's ``self.log(...)``, logger
``anacostia_blockchain.node.<name>``) in the commands that run pipelines, which are shown from INFO up.

``--log-format json`` (or ``$ANACOSTIA_LOG_FORMAT=json``) writes one JSON object per record (python-json-logger):
``time``, ``level``, ``logger``, ``message``, plus ``exc_info`` when there is one and any ``extra=`` fields.
Role hashes are shown by name, as in error messages (:func:`~anacostia_blockchain.chain.abi.name_roles`).
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from ..chain.abi import name_roles

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")
#: The parent logger of every node's own log (``BaseNode.log``).
NODE_LOGGER = "anacostia_blockchain.node"
PACKAGE_LOGGER = "anacostia_blockchain"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time of the record (it may be replaced after configuration)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # StreamHandler.__init__ assigns it; the live sys.stderr wins
        pass

    def format(self, record: logging.LogRecord) -> str:
        return name_roles(super().format(record))


def formatter(fmt: str) -> logging.Formatter:
    """The formatter of ``--log-format`` (``text`` or ``json``)."""
    if fmt == "json":
        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str | None = None, fmt: str = "text", *, node_level: str | None = None) -> None:
    """Install the command's stderr handler (replacing one installed before) and set the levels.

    ``level``: the explicit level of everything (``None``: WARNING). ``node_level``: the level of the pipeline nodes'
    own loggers when no explicit level was given (the ``run`` command passes INFO).
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level or logging.WARNING)
    logging.getLogger(PACKAGE_LOGGER).setLevel(level or logging.NOTSET)
    logging.getLogger(NODE_LOGGER).setLevel(level or node_level or logging.NOTSET)
