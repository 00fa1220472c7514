"""The ``anacostia-chain`` command line: a thin shell over the library (see :mod:`.main`)."""

from .main import main

__all__ = ["main"]
