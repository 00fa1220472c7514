"""Shared pieces for the hostile storage tests: the ``tests/ipfs`` emulators and a pipeline that saves one artifact."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ipfs"))
from emulators.kubo_emulator import KuboEmulator
from emulators.storacha_emulator import StorachaEmulator

from anacostia_blockchain.engine import BaseActionNode
from anacostia_blockchain.engine.resource import BaseResourceNode
from anacostia_blockchain.ipfs import ImportOptions

__all__ = ["FlagIgnoringKubo", "KuboEmulator", "SaveOnce", "StorachaEmulator"]


class FlagIgnoringKubo(KuboEmulator):
    """A daemon that ignores the import flags it is sent (``cid-version``, ``chunker``, ...) and imports with its own
    defaults: everything it stores is genuine, but under CIDs other than the ones the client asked for."""

    def _options(self, params: dict[str, list[str]]) -> ImportOptions:
        return ImportOptions()


class SaveOnce(BaseActionNode):
    """Saves ``payload`` (bytes, as ``model.bin``, or a file by path) into ``target`` once per run (the run is started
    by ``trigger``)."""

    def __init__(self, name: str, trigger: BaseResourceNode, target: Any, payload: bytes | Path) -> None:
        super().__init__(name, [trigger, target])
        self.target, self.payload = target, payload
        self.saved: list[Any] = []

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        if isinstance(self.payload, bytes):
            self.saved.append(self.target.save_artifact("model.bin", self.payload))
        else:  # a path: the store adds the file itself
            self.saved.append(self.target.save_artifact(self.payload))
        return True
