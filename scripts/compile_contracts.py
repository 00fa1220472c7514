"""Compile contracts/ into the shipped artifacts, one set per EVM build target.

    python scripts/compile_contracts.py            # everything, every target (what `make compile` runs; commit it)
    python scripts/compile_contracts.py FILE.sol   # only these sources, leaving other artifacts alone (dev loop)

The default target (Cancun) goes to anacostia_blockchain/chain/artifacts/*.json, every other shipped target to
anacostia_blockchain/chain/artifacts/<version>/*.json (Shanghai: for chains without Cancun opcodes, e.g. Ganache).
"""

from __future__ import annotations

import sys
from pathlib import Path

from anacostia_blockchain.chain.dev.compiler import (
    ARTIFACT_EVM_VERSIONS,
    artifacts_dir,
    compile_sources,
    find_solc_binary,
    write_artifacts,
)
from anacostia_blockchain.errors import CompilerError


def main(argv: list[str]) -> int:
    paths = [Path(arg).resolve() for arg in argv] or None
    try:
        binary = find_solc_binary()
        for evm_version in ARTIFACT_EVM_VERSIONS:
            artifacts = compile_sources(paths, solc_binary=binary, evm_version=evm_version)
            written = write_artifacts(artifacts, artifacts_dir(evm_version), prune=paths is None)
            for path in written:
                print(path.relative_to(artifacts_dir()))
            print(f"{len(artifacts)} {evm_version} artifacts written with {binary.name}", file=sys.stderr)
    except CompilerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
