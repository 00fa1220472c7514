"""Hardhat Network 2 and Ganache 7 as development nodes, run from the npm packages (``npm ci`` installs both).

Both fund the accounts of :data:`~.dev_node.DEV_MNEMONIC` (anvil's), so tests and tools see the same keys on every
node. What sets them apart from anvil, and what the rest of the chain layer handles for them:

- **Hardhat Network** (``hardhat node``, default chain id 31337): returns a mined revert as an *error* of
  ``eth_sendRawTransaction`` (with ``error.data.txHash``), runs the items of a JSON-RPC batch concurrently and,
  while automining, refuses a transaction whose nonce is ahead of the account's ("Nonce too high"). It reads its
  settings from a ``hardhat.config.js``, written into the node's scratch directory.
- **Ganache** (``ganache``, default chain id 1337): its newest hardfork is Shanghai (no MCOPY, no transient
  storage), so contracts are deployed from the Shanghai artifact set; estimate-time revert data sits in
  ``error.data.result``; it has no method that reports whether it automines.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ...errors import DevNodeStartError
from ..rpc.node_kind import NodeKind
from .dev_node import DEV_MNEMONIC, PROJECT_ROOT, ProcessNode, dev_accounts

NODE_BIN = PROJECT_ROOT / "node_modules" / ".bin"


def npm_binary(name: str) -> Path:
    """``node_modules/.bin/<name>``, or a typed error saying to run ``npm ci``."""
    path = NODE_BIN / name
    if not path.is_file():
        raise DevNodeStartError(f"{name} is not installed: run `npm ci` in the project root")
    return path


class HardhatNode(ProcessNode):
    """``hardhat node`` (Hardhat Network 2) with the dev mnemonic's accounts.

    ``block_time`` switches from automine to interval mining (seconds); ``hardfork`` is Hardhat's name for it
    (``"cancun"``, ``"shanghai"``, ...; Hardhat's default when ``None``).
    """

    kind = NodeKind.HARDHAT
    display_name = "Hardhat Network"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        chain_id: int = 31337,
        accounts: int = 10,
        balance_eth: int = 10_000,
        block_time: float | None = None,
        hardfork: str | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(host=host, port=port, chain_id=chain_id, startup_timeout=startup_timeout)
        self.num_accounts = accounts
        self.balance_eth = balance_eth
        self.block_time = block_time
        self.hardfork = hardfork

    def _config(self, workdir: Path) -> dict[str, object]:
        network: dict[str, object] = {
            "chainId": self.chain_id,
            "accounts": {
                "mnemonic": DEV_MNEMONIC,
                "count": self.num_accounts,
                "accountsBalance": str(self.balance_eth * 10**18),
            },
        }
        if self.block_time is not None:
            network["mining"] = {"auto": False, "interval": int(self.block_time * 1000)}
        if self.hardfork is not None:
            network["hardfork"] = self.hardfork
        paths = {name: str(workdir / name) for name in ("cache", "artifacts", "sources")}
        return {"networks": {"hardhat": network}, "paths": paths}

    def _command(self, port: int, workdir: Path) -> list[str]:
        binary = npm_binary("hardhat")
        config = workdir / "hardhat.config.js"
        config.write_text(f"module.exports = {json.dumps(self._config(workdir), indent=1)};\n")
        return [str(binary), "--config", str(config), "node", "--hostname", self.host, "--port", str(port)]

    def _environment(self) -> dict[str, str]:
        return {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true"}

    def _on_ready(self, workdir: Path) -> None:
        self.accounts = dev_accounts(self.num_accounts)


class GanacheNode(ProcessNode):
    """``ganache`` (Ganache 7) with the dev mnemonic's accounts; ``block_time`` (seconds) replaces instamine."""

    kind = NodeKind.GANACHE
    display_name = "Ganache"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        chain_id: int = 1337,
        accounts: int = 10,
        balance_eth: int = 10_000,
        block_time: float | None = None,
        hardfork: str | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(host=host, port=port, chain_id=chain_id, startup_timeout=startup_timeout)
        self.num_accounts = accounts
        self.balance_eth = balance_eth
        self.block_time = block_time
        self.hardfork = hardfork

    def _command(self, port: int, workdir: Path) -> list[str]:
        cmd = [
            str(npm_binary("ganache")),
            "--wallet.mnemonic", DEV_MNEMONIC,
            "--wallet.totalAccounts", str(self.num_accounts),
            "--wallet.defaultBalance", str(self.balance_eth),
            "--chain.chainId", str(self.chain_id),
            "--server.host", self.host,
            "--server.port", str(port),
            "--logging.quiet",
        ]  # fmt: skip
        if self.block_time is not None:
            cmd += ["--miner.blockTime", str(self.block_time)]
        if self.hardfork is not None:
            cmd += ["--chain.hardfork", self.hardfork]
        return cmd

    def _on_ready(self, workdir: Path) -> None:
        self.accounts = dev_accounts(self.num_accounts)
