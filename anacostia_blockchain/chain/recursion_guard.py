"""Undo py_ecc's import-time ``sys.setrecursionlimit(100000)``, so untrusted input cannot crash the process.

py_ecc (pulled in by eth-account / eth-keys) raises the interpreter-wide recursion limit to 100,000 when it is
imported. With that limit Python no longer turns runaway recursion into :class:`RecursionError` before the C stack
overflows: ``json.loads`` of a few hundred kilobytes of nested brackets — NFT metadata from IPFS, a run manifest, a
request body sent to the marketplace — kills the whole process with SIGSEGV instead of raising an error that the
caller turns into a typed ``ValidationError``.

Every module of chain/ that imports eth-account (or web3, which imports it) calls :func:`restore_recursion_limit`
right after that import, so the limit is put back wherever py_ecc comes in, whichever module is imported first and
even when someone else imported eth-account before this package. Nothing this library calls in py_ecc recurses
deeply (secp256k1 signing goes through coincurve; no BLS or pairings).
"""

from __future__ import annotations

import importlib
import sys

#: What py_ecc sets; a limit at exactly this value after py_ecc was imported elsewhere first is taken to be py_ecc's.
PY_ECC_RECURSION_LIMIT = 100_000
#: CPython's default, restored when py_ecc had already raised the limit before this module ran.
DEFAULT_RECURSION_LIMIT = 1000


def restore_recursion_limit() -> int:
    """Import py_ecc (if installed) and undo the limit it set; returns the limit in force afterwards."""
    imported_before = "py_ecc" in sys.modules
    limit_before = sys.getrecursionlimit()
    try:
        importlib.import_module("py_ecc")
    except ImportError:
        return sys.getrecursionlimit()
    if not imported_before:
        sys.setrecursionlimit(limit_before)
    elif sys.getrecursionlimit() == PY_ECC_RECURSION_LIMIT:
        sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)
    return sys.getrecursionlimit()

