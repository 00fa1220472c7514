"""Compile contracts/ into the shipped artifacts (anacostia_blockchain/chain/artifacts/*.json).

    python scripts/compile_contracts.py            # everything (what `make compile` runs; the one to commit)
    python scripts/compile_contracts.py FILE.sol   # only these sources, leaving other artifacts alone (dev loop)
"""

from __future__ import annotations

import sys
from pathlib import Path

from anacostia_blockchain.chain.dev.compiler import ARTIFACTS_DIR, compile_sources, find_solc_binary, write_artifacts
from anacostia_blockchain.errors import CompilerError


def main(argv: list[str]) -> int:
    paths = [Path(arg).resolve() for arg in argv] or None
    try:
        binary = find_solc_binary()
        artifacts = compile_sources(paths, solc_binary=binary)
    except CompilerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    written = write_artifacts(artifacts, ARTIFACTS_DIR, prune=paths is None)
    for path in written:
        print(path.name)
    print(f"{len(artifacts)} artifacts written with {binary.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
