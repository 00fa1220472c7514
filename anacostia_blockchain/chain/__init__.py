"""The chain layer: the only package that imports web3 / eth-account / eth-abi / eth-utils.

The public API is documented in ``docs/chain.md``: :class:`ChainClient`, :class:`Contract`, :class:`LocalSigner`,
:class:`TxSender` / :class:`PendingTx`, :func:`decode_revert`, :class:`DeploymentManifest` / :func:`ensure_deployed`
/ :func:`deploy_all`, and :class:`Devnet` for local chains.
"""

from . import recursion_guard  # noqa: F401  (first: see its docstring)
from .client import ChainClient, checksum
from .compiler import Artifact, load_artifact
from .contract import Contract, EventLog, deployment_data
from .deploy import DeploymentManifest, DeploymentRecord, DeploymentResult, deploy_all, ensure_deployed
from .devnet import DevAccount, Devnet
from .fees import FeeOracle, Fees
from .pending import PendingTx
from .receipt import Receipt
from .revert import decode_revert, register_abi
from .signer import LocalSigner
from .tx import TxSender

__all__ = [
    "Artifact",
    "ChainClient",
    "Contract",
    "DeploymentManifest",
    "DeploymentRecord",
    "DeploymentResult",
    "DevAccount",
    "Devnet",
    "EventLog",
    "FeeOracle",
    "Fees",
    "LocalSigner",
    "PendingTx",
    "Receipt",
    "TxSender",
    "checksum",
    "decode_revert",
    "deploy_all",
    "deployment_data",
    "ensure_deployed",
    "load_artifact",
    "register_abi",
]
