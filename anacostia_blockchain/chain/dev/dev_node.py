"""What every development node offers tests and tools, whichever software runs it.

A :class:`DevNode` has an RPC URL, a chain id, funded :class:`DevAccount` keys and the test controls of
:class:`~.node_control.NodeControl` (snapshots, mining, set code/balance). :class:`ProcessNode` runs one as a child
process on a free port (anvil in :mod:`.devnet`, Hardhat Network and Ganache in :mod:`.js_nodes`);
:class:`ExternalNode` wraps a node somebody else runs (``ANACOSTIA_TEST_RPC_URL``).

Hardhat Network and Ganache fund the accounts of a BIP-39 mnemonic; the launchers here give them anvil's
(:data:`DEV_MNEMONIC`), so every dev node has the same ten well-known accounts.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from ...errors import ChainConnectionError, ChainError, DevNodeStartError
from ..encoding import checksum, quantity
from ..recursion_guard import restore_recursion_limit
from ..rpc.jsonrpc import JsonRpcTransport
from ..rpc.node_kind import NodeKind, node_kind_of
from .node_control import NodeControl

PROJECT_ROOT = Path(__file__).resolve().parents[3]

#: The mnemonic of anvil's and Hardhat's default accounts (publicly known: never hold real funds with it).
DEV_MNEMONIC = "test test test test test test test test test test test junk"


@dataclass(frozen=True)
class DevAccount:
    """A funded development account. ``repr`` never shows the private key."""

    address: str
    private_key: str

    def __repr__(self) -> str:
        return f"DevAccount(address={self.address!r})"


@functools.lru_cache(maxsize=8)
def _derive_accounts(mnemonic: str, count: int) -> tuple[DevAccount, ...]:
    from eth_account import Account

    restore_recursion_limit()  # eth-account imports py_ecc
    Account.enable_unaudited_hdwallet_features()
    accounts = []
    for index in range(count):
        account = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}")
        key = "0x" + account.key.hex().removeprefix("0x")
        accounts.append(DevAccount(address=checksum(account.address), private_key=key))
    return tuple(accounts)


def dev_accounts(count: int = 10, mnemonic: str = DEV_MNEMONIC) -> list[DevAccount]:
    """The first ``count`` accounts of a mnemonic (BIP-44 path ``m/44'/60'/0'/0/i``, as anvil, Hardhat and Ganache)."""
    return list(_derive_accounts(mnemonic, count))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


class DevNode:
    """A running development node: RPC URL, chain id, funded accounts, test controls."""

    #: What software runs the node (set by each launcher; detected for an :class:`ExternalNode`).
    kind: NodeKind = NodeKind.OTHER

    def __init__(self, *, chain_id: int) -> None:
        self.chain_id = chain_id
        self.accounts: list[DevAccount] = []
        self._transport: JsonRpcTransport | None = None

    @property
    def rpc_url(self) -> str:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        raise NotImplementedError

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = self.rpc_url if self.running else "stopped"
        return f"{type(self).__name__}(chain_id={self.chain_id}, {state})"

    # --- JSON-RPC and test controls ---------------------------------------------------------------------------------
    def rpc(self, method: str, params: list[Any] | None = None, timeout: float = 30.0) -> Any:
        """One JSON-RPC call; node errors raise the typed :class:`~anacostia_blockchain.errors.ChainError`."""
        url = self.rpc_url
        transport = self._transport
        if transport is None or transport.http.url != url:
            transport = self._transport = JsonRpcTransport(url, timeout=timeout)
        return transport.call(method, params or [], timeout=timeout)

    @property
    def control(self) -> NodeControl:
        return NodeControl(lambda method, params: self.rpc(method, list(params)), self.kind)

    def snapshot(self) -> str:
        return self.control.snapshot()

    def revert(self, snapshot_id: str) -> bool:
        return self.control.revert(snapshot_id)

    def mine(self, blocks: int = 1) -> None:
        self.control.mine(blocks)

    def set_code(self, address: str, code: str) -> None:
        self.control.set_code(address, code)

    def set_balance(self, address: str, wei: int) -> None:
        self.control.set_balance(address, wei)

    def set_automine(self, enabled: bool) -> None:
        self.control.set_automine(enabled)

    def increase_time(self, seconds: int) -> None:
        self.control.increase_time(seconds)

    def has_code(self, address: str) -> bool:
        """True when contract code lives at ``address`` (on the latest block)."""
        return self.rpc("eth_getCode", [address, "latest"]) not in (None, "0x")

    def block_number(self) -> int:
        return quantity(self.rpc("eth_blockNumber"))


class ExternalNode(DevNode):
    """A development node started by someone else, reached at ``rpc_url``; its accounts come from ``mnemonic``."""

    def __init__(self, rpc_url: str, *, accounts: int = 10, mnemonic: str = DEV_MNEMONIC) -> None:
        super().__init__(chain_id=0)
        self._url = rpc_url
        self._num_accounts = accounts
        self._mnemonic = mnemonic
        self._started = False

    @property
    def rpc_url(self) -> str:
        return self._url

    @property
    def running(self) -> bool:
        return self._started

    def start(self) -> Self:
        try:
            self.chain_id = quantity(self.rpc("eth_chainId"))
            version = str(self.rpc("web3_clientVersion"))
        except ChainConnectionError as exc:
            raise DevNodeStartError(f"no node answers at {self._transport.url if self._transport else '?'}") from exc
        except ChainError:
            version = ""
        self.kind = node_kind_of(version)
        self.accounts = dev_accounts(self._num_accounts, self._mnemonic)
        self._started = True
        return self

    def stop(self) -> None:
        """Nothing to stop: the node belongs to whoever started it."""
        self._started = False


class ProcessNode(DevNode):
    """A development node run as a child process on a free (or given) port; stopped at interpreter exit at the
    latest. Subclasses give the command line (:meth:`_command`) and read their accounts (:meth:`_on_ready`)."""

    #: Shown in messages ("anvil", "Hardhat Network", "Ganache").
    display_name = "node"
    start_error: type[DevNodeStartError] = DevNodeStartError

    def __init__(self, *, host: str, port: int | None, chain_id: int, startup_timeout: float) -> None:
        super().__init__(chain_id=chain_id)
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    # --- what subclasses provide ------------------------------------------------------------------------------------
    def _command(self, port: int, workdir: Path) -> list[str]:
        raise NotImplementedError

    def _environment(self) -> dict[str, str] | None:
        """The child's environment (``None``: this process's)."""
        return None

    def _ready(self, workdir: Path) -> bool:
        """Extra readiness condition checked once the node answers ``eth_chainId``."""
        return True

    def _on_ready(self, workdir: Path) -> None:
        """Called once the node answers (e.g. to read its accounts)."""

    # --- lifecycle ----------------------------------------------------------------------------------------------------
    @property
    def rpc_url(self) -> str:
        if self.port is None:
            raise self.start_error(f"the {self.display_name} devnet is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        if self.running:
            return self
        port = self.requested_port or free_port(self.host)
        if self.requested_port and port_in_use(self.host, port):
            raise self.start_error(f"port {port} on {self.host} is busy: pick another port or stop what uses it")
        self._workdir = tempfile.TemporaryDirectory(prefix=f"anacostia-{self.kind.value}-")
        workdir = Path(self._workdir.name)
        log_path = workdir / "node.log"
        try:
            command = self._command(port, workdir)
        except BaseException:
            self._workdir.cleanup()
            self._workdir = None
            raise
        with open(log_path, "wb") as log:
            try:
                self._process = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    cwd=PROJECT_ROOT,
                    env=self._environment(),
                )
            except OSError as exc:
                raise self.start_error(f"could not start {self.display_name} at {command[0]}: {exc}") from exc
        self.port = port
        atexit.register(self.stop)
        if self._wait_until_ready(workdir, log_path) == "port race":
            return self.start()  # lost the race for a free port: try another
        self._on_ready(workdir)
        return self

    def _wait_until_ready(self, workdir: Path, log_path: Path) -> str:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        answered: int | None = None
        while True:
            if self._process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-800:]
                code = self._process.returncode
                self._process = None
                self.port = None
                if "address already in use" in tail.lower() and self.requested_port is None:
                    return "port race"
                raise self.start_error(f"{self.display_name} exited early (code {code}):\n{tail}")
            with contextlib.suppress(ChainConnectionError):
                answered = quantity(self.rpc("eth_chainId", timeout=2.0))
                if self._ready(workdir):
                    break
            if time.monotonic() > deadline:
                self.stop()
                raise self.start_error(f"{self.display_name} did not answer eth_chainId within {self.startup_timeout}s")
            time.sleep(0.05)
        if answered != self.chain_id:
            self.stop()
            raise self.start_error(f"{self.display_name} answered chain id {answered}, expected {self.chain_id}")
        return "ready"

    def stop(self) -> None:
        """Stop the node (SIGTERM, so it can save state; SIGKILL after 10 s)."""
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
        if self._transport is not None:
            self._transport.close()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def kill(self) -> None:
        """Kill the node abruptly (no state saved): simulates a crashed node."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self.stop()

    def restart(self) -> Self:
        """Stop and start again on the same port."""
        port = self.port
        self.stop()
        saved = self.requested_port
        self.requested_port = port
        try:
            return self.start()
        finally:
            self.requested_port = saved
