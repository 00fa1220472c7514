"""A local anvil chain for tests, demos and development.

``Devnet`` starts an anvil binary (:func:`find_anvil`: named, from npm, or on PATH), waits until it answers
``eth_chainId``, exposes its RPC URL and funded dev accounts, and stops it (also at interpreter exit). With
``state_path`` it dumps its state on stop and loads it on start, so a test can stop and restart the same chain.
The process handling and the test controls are those of every development node (:mod:`.dev_node`).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

from ...errors import AnvilNotFoundError, AnvilStartError
from ..encoding import checksum
from ..rpc.node_kind import NodeKind
from .dev_node import PROJECT_ROOT, DevAccount, ProcessNode, free_port

__all__ = ["ANVIL_ENV", "NPM_ANVIL", "DevAccount", "Devnet", "find_anvil", "free_port"]

#: ``@foundry-rs/anvil``'s platform packages (its optional dependencies: npm installs the one for this machine).
_NPM_PLATFORMS = {
    ("linux", "x86_64"): "linux-amd64",
    ("linux", "aarch64"): "linux-arm64",
    ("darwin", "x86_64"): "darwin-amd64",
    ("darwin", "arm64"): "darwin-arm64",
    ("win32", "amd64"): "win32-amd64",
}


def _npm_anvil() -> Path:
    """Where ``npm ci`` in a checkout of this project puts this machine's anvil binary: in the platform package,
    not ``node_modules/.bin/anvil`` (a Node wrapper that would stand between the devnet and the anvil process)."""
    platform_name = _NPM_PLATFORMS.get((sys.platform, platform.machine().lower()))
    if platform_name is None:
        return PROJECT_ROOT / "node_modules" / ".bin" / "anvil"
    binary = "anvil.exe" if sys.platform == "win32" else "anvil"
    return PROJECT_ROOT / "node_modules" / "@foundry-rs" / f"anvil-{platform_name}" / "bin" / binary


#: anvil installed by ``npm ci`` in a checkout of this project (``@foundry-rs/anvil``, every platform's binary).
NPM_ANVIL = _npm_anvil()
#: The variable naming an anvil binary explicitly (``ANVIL_PATH`` is accepted too).
ANVIL_ENV = "ANACOSTIA_ANVIL"


def find_anvil() -> Path:
    """The anvil binary: ``$ANACOSTIA_ANVIL`` (or ``$ANVIL_PATH``), then the project's ``node_modules``, then PATH
    (where Foundry's ``foundryup`` installs it). Not found: an error naming all three."""
    for variable in (ANVIL_ENV, "ANVIL_PATH"):
        named = os.environ.get(variable)
        if named:
            if not Path(named).is_file():
                raise AnvilNotFoundError(f"{variable}={named} does not exist")
            return Path(named)
    if NPM_ANVIL.is_file():
        return NPM_ANVIL
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise AnvilNotFoundError(
        "anvil not found: install Foundry (`curl -L https://foundry.paradigm.xyz | bash; foundryup` puts anvil on "
        f"PATH), or set {ANVIL_ENV}=/path/to/anvil, or in a checkout of anacostia-blockchain run `npm ci` (it installs "
        "@foundry-rs/anvil into node_modules)"
    )


class Devnet(ProcessNode):
    """An anvil process. Use as a context manager or call :meth:`start` / :meth:`stop`."""

    kind = NodeKind.ANVIL
    display_name = "anvil"
    start_error = AnvilStartError

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        chain_id: int = 31337,
        accounts: int = 10,
        balance_eth: int = 10_000,
        block_time: float | None = None,
        state_path: str | Path | None = None,
        hardfork: str = "prague",
        code_size_limit: int | None = None,
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 15.0,
        anvil_path: str | Path | None = None,
    ) -> None:
        super().__init__(host=host, port=port, chain_id=chain_id, startup_timeout=startup_timeout)
        self.num_accounts = accounts
        self.balance_eth = balance_eth
        self.block_time = block_time
        self.state_path = Path(state_path) if state_path else None
        self.hardfork = hardfork
        self.code_size_limit = code_size_limit
        self.extra_args = tuple(extra_args)
        self.anvil_path = Path(anvil_path) if anvil_path else None

    def _command(self, port: int, workdir: Path) -> list[str]:
        binary = self.anvil_path or find_anvil()
        cmd = [
            str(binary),
            "--host", self.host,
            "--port", str(port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.num_accounts),
            "--balance", str(self.balance_eth),
            "--hardfork", self.hardfork,
            "--max-transactions", "100000",
            "--config-out", str(workdir / "anvil-config.json"),
        ]  # fmt: skip
        if self.block_time is not None:
            cmd += ["--block-time", str(self.block_time)]
        if self.code_size_limit is not None:
            cmd += ["--code-size-limit", str(self.code_size_limit)]
        if self.state_path is not None:
            if self.state_path.exists():
                cmd += ["--load-state", str(self.state_path)]
            cmd += ["--dump-state", str(self.state_path)]
        return cmd + list(self.extra_args)

    def _ready(self, workdir: Path) -> bool:
        return (workdir / "anvil-config.json").exists()

    def _on_ready(self, workdir: Path) -> None:
        config_out = workdir / "anvil-config.json"
        for _ in range(100):
            try:
                config = json.loads(config_out.read_text())
                break
            except (OSError, json.JSONDecodeError):
                time.sleep(0.02)
        else:
            self.stop()
            raise AnvilStartError("anvil did not write its account list")
        self.accounts = [
            DevAccount(address=checksum(address), private_key=key)
            for address, key in zip(config["available_accounts"], config["private_keys"], strict=True)
        ]
