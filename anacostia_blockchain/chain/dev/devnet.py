"""A local anvil chain for tests, demos and development.

``Devnet`` starts the anvil binary shipped by npm (``@foundry-rs/anvil-linux-amd64``), waits until it answers
``eth_chainId``, exposes its RPC URL and funded dev accounts, and stops it (also at interpreter exit). With
``state_path`` it dumps its state on stop and loads it on start, so a test can stop and restart the same chain.

It talks JSON-RPC with the standard library only, so it is usable before any web3 object exists.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import AnvilNotFoundError, AnvilStartError, ChainConnectionError
from ..encoding import checksum, quantity

PROJECT_ROOT = Path(__file__).resolve().parents[3]
NPM_ANVIL = PROJECT_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"


@dataclass(frozen=True)
class DevAccount:
    """A funded anvil account. ``repr`` never shows the private key."""

    address: str
    private_key: str

    def __repr__(self) -> str:
        return f"DevAccount(address={self.address!r})"


def find_anvil() -> Path:
    """The anvil binary: $ANVIL_PATH, then the npm package, then PATH."""
    env = os.environ.get("ANVIL_PATH")
    if env:
        if not Path(env).is_file():
            raise AnvilNotFoundError(f"ANVIL_PATH={env} does not exist")
        return Path(env)
    if NPM_ANVIL.is_file():
        return NPM_ANVIL
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise AnvilNotFoundError("anvil not found: run `npm ci` in the project root (it installs @foundry-rs/anvil)")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


class Devnet:
    """An anvil process. Use as a context manager or call :meth:`start` / :meth:`stop`."""

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
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self.chain_id = chain_id
        self.num_accounts = accounts
        self.balance_eth = balance_eth
        self.block_time = block_time
        self.state_path = Path(state_path) if state_path else None
        self.hardfork = hardfork
        self.code_size_limit = code_size_limit
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self.anvil_path = Path(anvil_path) if anvil_path else None
        self.accounts: list[DevAccount] = []
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.Lock()
        self._request_id = 0

    # --- lifecycle --------------------------------------------------------------------------------------------------
    @property
    def rpc_url(self) -> str:
        if self.port is None:
            raise AnvilStartError("the devnet is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _command(self, binary: Path, port: int, config_out: Path) -> list[str]:
        cmd = [
            str(binary),
            "--host", self.host,
            "--port", str(port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.num_accounts),
            "--balance", str(self.balance_eth),
            "--hardfork", self.hardfork,
            "--max-transactions", "100000",
            "--config-out", str(config_out),
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

    def start(self) -> Devnet:
        if self.running:
            return self
        binary = self.anvil_path or find_anvil()
        port = self.requested_port or free_port(self.host)
        if self.requested_port and _port_in_use(self.host, port):
            raise AnvilStartError(f"port {port} on {self.host} is busy: pick another port or stop what uses it")
        self._workdir = tempfile.TemporaryDirectory(prefix="anacostia-devnet-")
        workdir = Path(self._workdir.name)
        config_out = workdir / "anvil-config.json"
        log_path = workdir / "anvil.log"
        log = open(log_path, "wb")  # noqa: SIM115 - kept open for the process lifetime
        try:
            self._process = subprocess.Popen(
                self._command(binary, port, config_out), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        except OSError as exc:
            log.close()
            raise AnvilStartError(f"could not start anvil at {binary}: {exc}") from exc
        self.port = port
        atexit.register(self.stop)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._process.poll() is not None:
                log.close()
                tail = log_path.read_text(errors="replace")[-800:]
                self._process = None
                self.port = None
                if "Address already in use" in tail and self.requested_port is None:
                    return self.start()  # lost the race for a free port: try another
                raise AnvilStartError(f"anvil exited early (code {self._exit_code}):\n{tail}")
            try:
                answered = quantity(self.rpc("eth_chainId"))
                if config_out.exists():
                    break
            except ChainConnectionError:
                answered = None
            if time.monotonic() > deadline:
                self.stop()
                raise AnvilStartError(f"anvil did not answer eth_chainId within {self.startup_timeout}s")
            time.sleep(0.02)
        if answered != self.chain_id:
            self.stop()
            raise AnvilStartError(f"anvil answered chain id {answered}, expected {self.chain_id}")
        self._load_accounts(config_out)
        return self

    @property
    def _exit_code(self) -> int | None:
        return self._process.returncode if self._process else None

    def _load_accounts(self, config_out: Path) -> None:
        for _ in range(100):
            try:
                config = json.loads(config_out.read_text())
                break
            except (OSError, json.JSONDecodeError):
                time.sleep(0.02)
        else:
            raise AnvilStartError("anvil did not write its account list")
        self.accounts = [
            DevAccount(address=checksum(address), private_key=key)
            for address, key in zip(config["available_accounts"], config["private_keys"], strict=True)
        ]

    def stop(self) -> None:
        """Stop anvil (SIGTERM so it can dump state; SIGKILL after 10 s)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def kill(self) -> None:
        """Kill anvil abruptly (no state dump): simulates a crashed node."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self.stop()

    def restart(self) -> Devnet:
        """Stop and start again on the same port (state carried over when ``state_path`` is set)."""
        port = self.port
        self.stop()
        saved = self.requested_port
        self.requested_port = port
        try:
            return self.start()
        finally:
            self.requested_port = saved

    def __enter__(self) -> Devnet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.rpc_url if self.running else "stopped"
        return f"Devnet(chain_id={self.chain_id}, {state})"

    # --- JSON-RPC ---------------------------------------------------------------------------------------------------
    def rpc(self, method: str, params: list[Any] | None = None, timeout: float = 30.0) -> Any:
        with self._lock:
            self._request_id += 1
            request_id = self._request_id
        body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or []}).encode()
        request = urllib.request.Request(self.rpc_url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                reply = json.loads(response.read())
        except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
            raise ChainConnectionError(f"{method} to {self.rpc_url} failed: {exc}") from exc
        if "error" in reply:
            raise ChainConnectionError(f"{method} failed: {reply['error'].get('message', reply['error'])}")
        return reply.get("result")

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> bool:
        return bool(self.rpc("evm_revert", [snapshot_id]))

    def mine(self, blocks: int = 1) -> None:
        self.rpc("anvil_mine", [hex(blocks)])

    def set_code(self, address: str, code: str) -> None:
        self.rpc("anvil_setCode", [address, code])

    def set_balance(self, address: str, wei: int) -> None:
        self.rpc("anvil_setBalance", [address, hex(wei)])

    def increase_time(self, seconds: int) -> None:
        self.rpc("evm_increaseTime", [hex(seconds)])
        self.mine()

    def has_code(self, address: str) -> bool:
        """True when contract code lives at ``address`` (on the latest block)."""
        return self.rpc("eth_getCode", [address, "latest"]) not in (None, "0x")

    def block_number(self) -> int:
        return quantity(self.rpc("eth_blockNumber"))
