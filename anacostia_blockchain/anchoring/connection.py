"""``RegistryConnection``: the lazily made connection to ``RunRegistry`` that anchoring sends through.

Nothing touches the chain until the first call of :meth:`RegistryConnection.registry`, so a pipeline starts while
the chain is down; a failed connection is attempted again on the next call. The registry address comes from
``registry_address`` or from a deployment manifest (its ``RunRegistry`` entry).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..chain import ChainClient, DeploymentManifest, LocalSigner, TxSender
from ..chain.contracts.run_registry import RunRegistryClient
from ..errors import ConfigurationError

REGISTRY_CONTRACT = "RunRegistry"


class RegistryConnection:
    """Exactly one of ``rpc_url``/``client`` and of ``registry_address``/``deployments``; ``owner`` names the store in
    error messages. ``signer`` must hold ``ANCHOR_ROLE`` on the registry; ``tx_options`` go to the ``TxSender``."""

    def __init__(
        self,
        owner: str,
        *,
        signer: LocalSigner,
        rpc_url: str | None = None,
        client: ChainClient | None = None,
        registry_address: str | None = None,
        deployments: DeploymentManifest | str | Path | None = None,
        chain_id: int | None = None,
        tx_options: Mapping[str, Any] | None = None,
    ) -> None:
        if (rpc_url is None) == (client is None):
            raise ConfigurationError(f"{owner}: pass exactly one of rpc_url= or client=")
        if (registry_address is None) == (deployments is None):
            raise ConfigurationError(f"{owner}: pass exactly one of registry_address= or deployments=")
        if not isinstance(signer, LocalSigner):
            raise ConfigurationError(f"{owner}: signer must be a LocalSigner (from_key / from_env / from_keystore)")
        self.signer = signer
        self._rpc_url = rpc_url
        self._client = client
        self._chain_id = chain_id if chain_id is not None else (client.chain_id if client is not None else None)
        self._registry_address = registry_address
        self._deployments = deployments
        self._tx_options = dict(tx_options or {})
        self._lock = threading.Lock()
        self._tx_sender: TxSender | None = None
        self._registry: RunRegistryClient | None = None

    @property
    def connected(self) -> RunRegistryClient | None:
        """The registry client if already connected, without connecting."""
        return self._registry

    def registry(self) -> RunRegistryClient:
        """The registry client (connects on first use; raises ``ChainConnectionError`` while the chain is down)."""
        with self._lock:
            if self._registry is not None:
                return self._registry
            client = self._client or ChainClient(str(self._rpc_url), expected_chain_id=self._chain_id)
            self._client = client
            if self._tx_sender is None:
                self._tx_sender = TxSender(client, self.signer, **self._tx_options)
            self._registry = RunRegistryClient(client, self._address(client), self._tx_sender)
            return self._registry

    def _address(self, client: ChainClient) -> str:
        if self._registry_address is not None:
            return self._registry_address
        manifest = self._deployments
        if not isinstance(manifest, DeploymentManifest):
            manifest = DeploymentManifest.load(str(manifest), client.chain_id)
        return manifest.address(REGISTRY_CONTRACT)

    def close(self) -> None:
        """Close the transaction sender; the next :meth:`registry` call connects again."""
        with self._lock:
            if self._tx_sender is not None:
                self._tx_sender.close()
                self._tx_sender = None
                self._registry = None
