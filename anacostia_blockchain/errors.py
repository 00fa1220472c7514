"""Every error anacostia-blockchain raises on purpose derives from :class:`AnacostiaError`.

Third-party exceptions (web3, httpx, SQLAlchemy, watchdog, cryptography) are translated at exactly one boundary in
the package that owns that library and re-raised ``from exc``, so callers only ever catch these types.
Messages never contain private keys, data keys or passwords.

The tree::

    AnacostiaError
    ├── ConfigurationError                 bad or missing configuration, a value out of range (a ValueError)
    ├── ToolchainError                     a local tool is missing or failed (message says the fix)
    │   ├── DevNodeStartError              a dev node (anvil, Hardhat, Ganache) missing / died early / did not answer
    │   │   ├── AnvilNotFoundError         no anvil in $ANACOSTIA_ANVIL, node_modules or PATH
    │   │   └── AnvilStartError            anvil died early / did not answer / port busy
    │   └── CompilerError                  solc missing, or compilation failed
    ├── PipelineError                      the engine
    │   ├── GraphValidationError           cycle, unknown node, duplicate name, bad edge kind, ...
    │   ├── PipelineStateError             launch twice, execute after terminate, ...
    │   ├── NoActiveRunError               logging outside a run (a RuntimeError)
    │   ├── WorkCancelledError             an action's work ended early: the pipeline is stopping (node aborted)
    │   └── ExecutorError                  where action work runs (executors/): its workers and cluster
    │       ├── ExecutorUnavailableError   the cluster cannot be reached or was lost (a ConnectionError)
    │       ├── WorkerLostError            a task's worker died and the executor's retries are spent
    │       └── TaskFailedError            a work unit's task failed; names the unit (datum)
    ├── MetadataStoreError                 the SQL store (wraps SQLAlchemy errors)
    │   ├── RunNotFoundError
    │   ├── MetadataValueError             a metric/param/tag key or value the store cannot record
    │   ├── OutboxError                    the persistent outbox (unknown entry, bad transition)
    │   └── PipelineLeaseError             another live process runs this pipeline on the database
    │       └── LeaseLostError             this process's lease was taken over: it stopped writing
    ├── ResourceError                      resource nodes
    │   ├── ArtifactNotFoundError
    │   ├── WatchedFolderNotFoundError     a watched folder that does not exist (and create=True was not given)
    │   ├── ArtifactWriteError             could not save an artifact (disk full, permissions); nothing recorded
    │   ├── InvalidArtifactPathError       an artifact name that is absolute or escapes the resource folder
    │   ├── LineageError                   save_artifact(derived_from=...) names what the node did not read (ValueError)
    │   └── ObjectStoreError               an S3-compatible store refused or failed a request (bucket, key, code)
    ├── ArtefactError                      datasets and models as artefacts (artefacts/)
    │   ├── ArtefactNotFoundError          no artefact, artifact or CID by that name (a LookupError)
    │   ├── SerializerNotFoundError        an unknown model serializer, or its library is not installed (a LookupError)
    │   └── UnsafeSerializerError          loading a pickle-based format without allow_pickle=True (a PermissionError)
    ├── ChainError                         everything below chain/
    │   ├── ChainConnectionError           RPC unreachable or failing
    │   ├── ChainIdMismatchError           the node serves another chain than expected
    │   ├── NoContractCodeError            no code at a contract address
    │   ├── SignerError                    key/keystore problems (never carries the key)
    │   ├── TransactionError               a transaction could not be sent or mined
    │   │   ├── InsufficientFundsError
    │   │   ├── NonceError
    │   │   └── TransactionTimeoutError
    │   ├── ContractRevertError            a revert, decoded: .error_name, .error_args, .selector, .data
    │   │   ├── RevertWithReason           Error(string)
    │   │   ├── PanicError                 Panic(uint256)
    │   │   └── CustomContractError        a custom error found in the shipped ABIs
    │   ├── DeploymentError                manifest / deployment problems
    │   │   ├── CodePlacementError         no way to put a contract at its canonical address on this node
    │   │   └── UnsupportedEvmError        the chain's EVM lacks opcodes a contract needs (.required, .opcodes)
    │   └── VerificationError              an anchored run does not verify
    │       ├── TamperedManifestError      .items names what changed
    │       ├── RunNotAnchoredError        the run has no root on chain (yet)
    │       ├── AnchorConflictError        the chain holds another root for the run than the local manifest
    │       └── ManifestItemNotFoundError  prove() for a key the manifest does not contain
    ├── StorageError                       everything below ipfs/
    │   ├── InvalidCIDError
    │   ├── CorruptBlockError              a block does not hash to its CID
    │   ├── ContentMismatchError           whole content does not hash to the CID it was promised under
    │   ├── CarFormatError                 a malformed or corrupt CAR
    │   ├── ContentNotFoundError
    │   ├── NotAFileError                  cat of a directory / symlink (UnixFS node that has no file content)
    │   ├── KuboError                      .code, .type from Kubo's error body or X-Stream-Error
    │   ├── StorachaError
    │   │   ├── StorachaAuthError
    │   │   └── StorachaSizeLimitError
    │   ├── PinningServiceError            IPFS Pinning Service API error (.status, .reason)
    │   └── RemoteUnavailableError         timeouts, 5xx after retries
    ├── CryptoError                        everything below crypto/
    │   ├── DecryptionError                wrong key, flipped bytes, truncation, reordering
    │   └── KeyWrapError
    ├── ValidationError                    a malformed input file/record (carries the reason)
    │   ├── MetricValueError               a metric that cannot be anchored (NaN, inf, out of int256 range)
    │   └── RequestTooLargeError           an HTTP request body over the service's size limit (413)
    ├── PriceFeedError                     Chainlink reads
    │   ├── StalePriceError
    │   ├── InvalidPriceError
    │   └── SequencerDownError
    ├── AuthError                          marketplace login (SIWE) and authorization
    │   ├── SiweError
    │   ├── SessionError                   missing, forged or expired session token
    │   └── LicenseRequiredError
    └── ServiceError                       the marketplace service and its indexer
        ├── NotFoundError                  no such model / run / key in the index
        ├── RateLimitedError               a client exceeded its request budget (.retry_after seconds)
        ├── MethodNotAllowedError          an HTTP method the endpoint does not serve (405, with Allow)
        └── IndexerError                   the indexer cannot follow the chain (e.g. reorg deeper than kept)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class AnacostiaError(Exception):
    """Root of every error this library raises on purpose."""


# --- configuration and toolchain -----------------------------------------------------------------------------------
class ConfigurationError(AnacostiaError, ValueError):
    """Bad or missing configuration, a value out of range (also a :class:`ValueError`)."""


class ToolchainError(AnacostiaError):
    """A local tool is missing or failed (message says the fix)."""


class DevNodeStartError(ToolchainError):
    """A development node (anvil, Hardhat, Ganache) is missing, died early, did not answer or found its port busy."""


class AnvilNotFoundError(DevNodeStartError):
    """No `anvil` binary in $ANACOSTIA_ANVIL, the project's node_modules or PATH (the message names all three)."""


class AnvilStartError(DevNodeStartError):
    """Anvil died early / did not answer / port busy."""


class CompilerError(ToolchainError):
    """Solc missing, or compilation failed."""


# --- engine and metadata ---------------------------------------------------------------------------------------------
class PipelineError(AnacostiaError):
    """Errors of the engine: the DAG, the pipeline's lifecycle and its runs."""


class GraphValidationError(PipelineError):
    """Cycle, unknown node, duplicate name, bad edge kind, ..."""


class PipelineStateError(PipelineError):
    """Launch twice, execute after terminate, ..."""


class NoActiveRunError(PipelineError, RuntimeError):
    """Logging outside a run (also a :class:`RuntimeError`)."""


class WorkCancelledError(PipelineError):
    """An action's work ended early because the pipeline is stopping; the node ends ``aborted``, not failed."""


class ExecutorError(PipelineError):
    """Where action work runs (``executors/``): a task's worker or the cluster failed."""


class ExecutorUnavailableError(ExecutorError, ConnectionError):
    """The cluster cannot be reached (at start) or was lost (mid-run); the message names its address."""


class WorkerLostError(ExecutorError):
    """The worker process running a task died, and the executor's retries of the task are spent."""


class TaskFailedError(ExecutorError):
    """A work unit's task failed (its work raised or returned ``False``); ``unit`` names the unit (datum)."""

    def __init__(self, message: str, *, unit: str | None = None) -> None:
        super().__init__(message)
        self.unit = unit


class MetadataStoreError(AnacostiaError):
    """The SQL store (wraps SQLAlchemy errors)."""


class RunNotFoundError(MetadataStoreError):
    """No run with that id in the metadata store."""


class MetadataValueError(MetadataStoreError):
    """A metric/param/tag key or value the store cannot record."""


class OutboxError(MetadataStoreError):
    """The persistent outbox (unknown entry, bad transition)."""


class PipelineLeaseError(MetadataStoreError):
    """Another live process holds the lease of this pipeline on this database.

    Built from facts: ``PipelineLeaseError(message, pipeline=..., holder=...)``; ``holder`` describes the process
    holding the lease (host, pid, seconds since its last heartbeat).
    """

    def __init__(self, message: str, *, pipeline: str | None = None, holder: str | None = None) -> None:
        super().__init__(message)
        self.pipeline = pipeline
        self.holder = holder


class LeaseLostError(PipelineLeaseError):
    """This process's lease of the pipeline expired and another process took it over: nothing more is written."""


class ResourceError(AnacostiaError):
    """Resource nodes."""


class ArtifactNotFoundError(ResourceError):
    """No such artifact (or it has no content to read, e.g. no CID)."""


class WatchedFolderNotFoundError(ResourceError):
    """A resource's watched folder does not exist at launch; ``path`` names it (``create=True`` creates it)."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class ArtifactWriteError(ResourceError):
    """Could not save an artifact (disk full, permissions); nothing recorded."""


class InvalidArtifactPathError(ResourceError):
    """An artifact name that is absolute or escapes the resource folder."""


class LineageError(ResourceError, ValueError):
    """``save_artifact(..., derived_from=[...])`` names an artifact the executing node did not read."""


class ObjectStoreError(ResourceError):
    """An S3 (or S3-compatible) object store refused or failed a request, or no credentials were found. One line naming
    the bucket, the key (``None`` for a request about the bucket or prefix) and ``code``: the store's error code
    (``NoSuchBucket``, ``NoSuchKey``, ``AccessDenied``, ``InvalidAccessKeyId``, ...) or, for a failure on this side,
    ``NoCredentials`` or the client's exception name. Never carries credentials."""

    def __init__(
        self, message: str, *, bucket: str | None = None, key: str | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.bucket = bucket
        self.key = key
        self.code = code


class ArtefactError(AnacostiaError):
    """Datasets and models as artefacts: batches, checkpoints, serializers, the catalog, lineage graphs."""


class ArtefactNotFoundError(ArtefactError, LookupError):
    """No artefact, artifact or CID by that name in the catalog, the run store or the content store."""


class SerializerNotFoundError(ArtefactError, LookupError):
    """An unknown model serializer, or one whose library is not installed (the message names the extra)."""


class UnsafeSerializerError(ArtefactError, PermissionError):
    """Loading a format that can run code (pickle) without ``allow_pickle=True``, or untrusted types in a skops file."""


# --- chain -----------------------------------------------------------------------------------------------------------
class ChainError(AnacostiaError):
    """Everything below chain/. ``rpc_error`` is the node's JSON-RPC error object when the error came from one."""

    def __init__(self, message: str = "", *, rpc_error: Any = None) -> None:
        super().__init__(message)
        self.rpc_error = rpc_error


class ChainConnectionError(ChainError):
    """RPC unreachable or failing; ``http_status`` when the endpoint answered with an HTTP error status."""

    def __init__(self, message: str = "", *, rpc_error: Any = None, http_status: int | None = None) -> None:
        super().__init__(message, rpc_error=rpc_error)
        self.http_status = http_status


class ChainIdMismatchError(ChainError):
    """The node serves another chain than expected (``expected`` / ``actual``)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"connected to chain id {actual}, expected {expected}: check the RPC URL")
        self.expected = expected
        self.actual = actual


class NoContractCodeError(ChainError):
    """No code at ``address`` (named ``name`` when known)."""

    def __init__(self, address: str, name: str | None = None) -> None:
        what = f"{name} at {address}" if name else address
        super().__init__(f"no contract code at {what}: wrong address or wrong chain (is it deployed here?)")
        self.address = address
        self.name = name


class SignerError(ChainError):
    """Key/keystore problems (never carries the key)."""


class TransactionError(ChainError):
    """A transaction could not be sent or mined."""


class InsufficientFundsError(TransactionError):
    """The account cannot pay: ``needed`` is what the transaction could cost in wei (gas limit x max fee + value) and
    ``available`` the balance, when known."""

    def __init__(
        self, message: str, *, needed: int | None = None, available: int | None = None, rpc_error: Any = None
    ) -> None:
        super().__init__(message, rpc_error=rpc_error)
        self.needed = needed
        self.available = available


class NonceError(TransactionError):
    """A nonce problem the sender could not repair by resyncing."""


class TransactionTimeoutError(TransactionError):
    """No receipt within the timeout; the transaction is still tracked and may be mined later."""


class ContractRevertError(ChainError):
    """A revert, decoded. ``error_name`` and ``error_args`` name the Solidity error and its arguments; ``selector`` is
    its 4-byte selector (hex) and ``data`` the raw revert data.

    ``receipt`` and ``tx_hash`` are set when the revert happened in a mined transaction (not in a call/estimate).
    """

    def __init__(
        self,
        message: str,
        *,
        error_name: str | None = None,
        args: tuple[Any, ...] = (),
        selector: str | None = None,
        data: bytes = b"",
        receipt: Any = None,
        tx_hash: str | None = None,
        rpc_error: Any = None,
    ) -> None:
        super().__init__(message, rpc_error=rpc_error)
        self.error_name = error_name
        self.error_args = tuple(args)
        self.selector = selector
        self.data = data
        self.receipt = receipt
        self.tx_hash = tx_hash


class RevertWithReason(ContractRevertError):
    """Error(string)."""


class PanicError(ContractRevertError):
    """Panic(uint256)."""


class CustomContractError(ContractRevertError):
    """A custom error found in the shipped ABIs."""


class DeploymentError(ChainError):
    """Manifest / deployment problems."""


class CodePlacementError(DeploymentError):
    """No way to put a contract at its canonical address on this node: no set-code method, no usable CREATE2 path."""

    def __init__(self, contract: str, address: str, chain_id: int, tried: Sequence[str]) -> None:
        self.contract = contract
        self.address = address
        tried_text = "; ".join(tried) or "nothing"
        super().__init__(
            f"cannot place {contract} at its canonical address {address} on chain {chain_id} (tried: {tried_text}): "
            f"deploy {contract} there with its canonical deployment transaction, or use a development node "
            "(anvil, Hardhat, Ganache)"
        )


class UnsupportedEvmError(DeploymentError):
    """The chain's EVM cannot run a contract: ``contracts`` need ``required`` (an EVM version; ``opcodes`` names the
    instructions it lacks) and the chain runs ``available`` (e.g. Story's AccessController, TSTORE/TLOAD, on a
    Shanghai chain; PUSH0 on a pre-Shanghai chain)."""

    def __init__(
        self,
        message: str,
        *,
        contracts: Sequence[str] = (),
        required: str | None = None,
        available: str | None = None,
        opcodes: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.contracts = tuple(contracts)
        self.required = required
        self.available = available
        self.opcodes = tuple(opcodes)


class VerificationError(ChainError):
    """An anchored run does not verify."""


class TamperedManifestError(VerificationError):
    """The manifest does not match its anchored root; ``items`` names the keys that changed."""

    def __init__(self, message: str, items: list[str] | None = None) -> None:
        super().__init__(message)
        self.items = list(items or [])


class RunNotAnchoredError(VerificationError):
    """The run has no root on chain (yet)."""


class AnchorConflictError(VerificationError):
    """The chain holds another root for the run than the local manifest."""


class ManifestItemNotFoundError(VerificationError):
    """Prove() for a key the manifest does not contain."""


# --- storage ---------------------------------------------------------------------------------------------------------
class StorageError(AnacostiaError):
    """Everything below ipfs/."""


class InvalidCIDError(StorageError):
    """A CID that does not parse: bad multibase, version, codec or multihash."""


class CorruptBlockError(StorageError):
    """A block does not hash to its CID."""


class ContentMismatchError(StorageError):
    """Whole content does not hash to the CID it was promised under."""


class CarFormatError(StorageError):
    """A malformed or corrupt CAR."""


class ContentNotFoundError(StorageError):
    """The content store does not have the requested CID."""


class NotAFileError(StorageError):
    """Cat of a directory / symlink (UnixFS node that has no file content)."""


class KuboError(StorageError):
    """Kubo answered with an error: ``code`` and ``type`` come from its error body or ``X-Stream-Error`` trailer."""

    def __init__(self, message: str, *, code: int | None = None, type: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.type = type


class StorachaError(StorageError):
    """Storacha (Web3.Storage) bridge errors."""


class StorachaAuthError(StorachaError):
    """Storacha refused the credentials (X-Auth-Secret / Authorization)."""


class StorachaSizeLimitError(StorachaError):
    """A shard or upload exceeds Storacha's size limit."""


class PinningServiceError(StorageError):
    """An IPFS Pinning Service API error: ``status`` is the HTTP status and ``reason`` the service's reason."""

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class RemoteUnavailableError(StorageError):
    """Timeouts, 5xx after retries."""


# --- crypto ----------------------------------------------------------------------------------------------------------
class CryptoError(AnacostiaError):
    """Everything below crypto/."""


class DecryptionError(CryptoError):
    """Wrong key, flipped bytes, truncation, reordering."""


class KeyWrapError(CryptoError):
    """A wrapped data key is malformed, not for this recipient, or was tampered with."""


# --- data, prices, auth ----------------------------------------------------------------------------------------------
class ValidationError(AnacostiaError):
    """A malformed input file/record (carries the reason)."""


class MetricValueError(ValidationError):
    """A metric that cannot be anchored (NaN, inf, out of int256 range)."""


class RequestTooLargeError(ValidationError):
    """An HTTP request body over the service's size limit (413)."""


class PriceFeedError(AnacostiaError):
    """Chainlink reads."""


class StalePriceError(PriceFeedError):
    """The feed's answer is older than its heartbeat allows."""


class InvalidPriceError(PriceFeedError):
    """The feed answered zero or a negative price, or an impossible timestamp."""


class SequencerDownError(PriceFeedError):
    """The L2 sequencer uptime feed reports down, or the grace period after it came back is running."""


class AuthError(AnacostiaError):
    """Marketplace login (SIWE) and authorization."""


class SiweError(AuthError):
    """A Sign-In with Ethereum message or signature was refused (domain, expiry, nonce, signer, ...)."""


class LicenseRequiredError(AuthError):
    """The signed-in address holds no license token for the model's IP asset."""


class SessionError(AuthError):
    """Missing, forged or expired session token."""


# --- marketplace service ---------------------------------------------------------------------------------------------
class ServiceError(AnacostiaError):
    """The marketplace service and its indexer."""


class NotFoundError(ServiceError):
    """No such model / run / key in the index."""


class RateLimitedError(ServiceError):
    """A client exceeded its request budget; ``retry_after`` is how many seconds it should wait."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MethodNotAllowedError(ServiceError):
    """An HTTP method the endpoint does not serve (405; the answer's ``Allow`` header lists those it does)."""


class IndexerError(ServiceError):
    """The indexer cannot follow the chain (e.g. reorg deeper than kept)."""
