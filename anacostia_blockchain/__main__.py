"""``python -m anacostia_blockchain``: the ``anacostia-chain`` command, for environments without its script."""

from __future__ import annotations

import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
