"""Deploy the shipped contracts: the same code as ``anacostia-chain deploy`` (see its --help)."""

from __future__ import annotations

import sys

from anacostia_blockchain.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main(["deploy", *sys.argv[1:]]))
