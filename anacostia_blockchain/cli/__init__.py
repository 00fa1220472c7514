"""The ``anacostia-chain`` command line: a thin shell over the library.

Its way in is :func:`anacostia_blockchain.cli.main.main` (the console script, ``python -m anacostia_blockchain``);
nothing is imported here, so ``python -m anacostia_blockchain.cli.main`` runs that module exactly once.
"""

__all__: list[str] = []
