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

__all__ = ["KuboEmulator", "SaveOnce", "StorachaEmulator"]


class SaveOnce(BaseActionNode):
    """Saves ``payload`` under ``name`` into ``target`` once per run (the run is started by ``trigger``)."""

    def __init__(self, name: str, trigger: BaseResourceNode, target: Any, payload: bytes) -> None:
        super().__init__(name, [trigger, target])
        self.target, self.payload = target, payload
        self.saved: list[Any] = []

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        self.saved.append(self.target.save_artifact("model.bin", self.payload))
        return True
