"""``from anacostia_blockchain.pipeline import Pipeline`` — the import path of the Anacostia-Blockchain README."""

from .engine.pipeline import Pipeline

__all__ = ["Pipeline"]
