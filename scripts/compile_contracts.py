"""Compile contracts/ into the shipped artifacts (anacostia_blockchain/chain/artifacts/*.json)."""

from __future__ import annotations

import sys

from anacostia_blockchain.chain.compiler import compile_sources, find_solc_binary, write_artifacts
from anacostia_blockchain.errors import CompilerError


def main() -> int:
    try:
        binary = find_solc_binary()
        artifacts = compile_sources(solc_binary=binary)
    except CompilerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in write_artifacts(artifacts):
        print(path.name)
    print(f"{len(artifacts)} artifacts written with {binary.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
