"""Deeply nested JSON must be a typed error, never a crashed process.

py_ecc (imported by eth-account) raises the interpreter's recursion limit to 100,000 at import time; with that limit
``json.loads`` of a few hundred kilobytes of ``[`` overflows the C stack and the process dies with SIGSEGV.
``chain.recursion_guard`` puts the limit back. These tests run a fresh interpreter (the state under test is global)
for both import orders: the chain package first, and eth-account imported by someone else before it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PROBE = textwrap.dedent(
    """
    import sys
    {first_import}
    import anacostia_blockchain.chain  # noqa: F401
    from anacostia_blockchain.errors import ValidationError
    from anacostia_blockchain.anchoring.manifest import RunManifest
    from anacostia_blockchain.service.index import parse_metadata_document

    nested = b"[" * 400_000 + b"]" * 400_000
    for parse in (RunManifest.from_bytes, parse_metadata_document):
        try:
            parse(nested)
        except ValidationError as exc:
            assert "nest" in str(exc) or "Recursion" in str(exc), exc
        else:
            raise AssertionError("parsed")
    print("limit", sys.getrecursionlimit())
    """
)


@pytest.mark.parametrize("first_import", ["", "import eth_account  # py_ecc raises the limit before we run"])
def test_nested_json_is_a_validation_error_in_any_import_order(first_import: str) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE.format(first_import=first_import)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    limit = int(done.stdout.split()[-1])
    assert limit < 100_000
