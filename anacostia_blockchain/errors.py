"""Every error anacostia-blockchain raises on purpose derives from :class:`AnacostiaError`.

Third-party exceptions (web3, httpx, SQLAlchemy, watchdog, cryptography) are translated at exactly one boundary in
the package that owns that library and re-raised ``from exc``, so callers only ever catch these types.
Messages never contain private keys, data keys or passwords.

The tree::

    AnacostiaError
    ├── ConfigurationError                 bad or missing configuration, a value out of range
    ├── ToolchainError                     a local tool is missing or failed (message says the fix)
    │   ├── AnvilNotFoundError             `anvil` binary missing: run `npm ci`
    │   ├── AnvilStartError                anvil died early / did not answer / port busy
    │   └── CompilerError                  solc missing, or compilation failed
    ├── PipelineError                      the engine
    │   ├── GraphValidationError           cycle, unknown node, duplicate name, bad edge kind, ...
    │   ├── PipelineStateError             launch twice, execute after terminate, ...
    │   └── NoActiveRunError               logging outside a run
    ├── MetadataStoreError                 the SQL store (wraps SQLAlchemy errors)
    │   ├── RunNotFoundError
    │   ├── MetadataValueError             a metric/param/tag key or value the store cannot record
    │   └── OutboxError                    the persistent outbox (unknown entry, bad transition)
    ├── ResourceError                      resource nodes
    │   ├── ArtifactNotFoundError
    │   ├── ArtifactWriteError             could not save an artifact (disk full, permissions); nothing recorded
    │   └── InvalidArtifactPathError       an artifact name that is absolute or escapes the resource folder
    ├── ChainError                         everything below chain/
    │   ├── ChainConnectionError           RPC unreachable or failing
    │   ├── ChainIdMismatchError           the node serves another chain than expected
    │   ├── NoContractCodeError            no code at a contract address
    │   ├── SignerError                    key/keystore problems (never carries the key)
    │   ├── TransactionError               a transaction could not be sent or mined
    │   │   ├── InsufficientFundsError
    │   │   ├── NonceError
    │   │   └── TransactionTimeoutError
    │   ├── ContractRevertError            a revert, decoded: .error_name, .args, .selector, .data
    │   │   ├── RevertWithReason           Error(string)
    │   │   ├── PanicError                 Panic(uint256)
    │   │   └── CustomContractError        a custom error found in the shipped ABIs
    │   ├── DeploymentError                manifest / deployment problems
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
        └── IndexerError                   the indexer cannot follow the chain (e.g. reorg deeper than kept)
"""

from __future__ import annotations

from typing import Any


class AnacostiaError(Exception):
    """Root of every error this library raises on purpose."""


# --- configuration and toolchain -----------------------------------------------------------------------------------
class ConfigurationError(AnacostiaError):
    pass


class ToolchainError(AnacostiaError):
    pass


class AnvilNotFoundError(ToolchainError):
    pass


class AnvilStartError(ToolchainError):
    pass


class CompilerError(ToolchainError):
    pass


# --- engine and metadata ---------------------------------------------------------------------------------------------
class PipelineError(AnacostiaError):
    pass


class GraphValidationError(PipelineError):
    pass


class PipelineStateError(PipelineError):
    pass


class NoActiveRunError(PipelineError):
    pass


class MetadataStoreError(AnacostiaError):
    pass


class RunNotFoundError(MetadataStoreError):
    pass


class MetadataValueError(MetadataStoreError):
    pass


class OutboxError(MetadataStoreError):
    pass


class ResourceError(AnacostiaError):
    pass


class ArtifactNotFoundError(ResourceError):
    pass


class ArtifactWriteError(ResourceError):
    pass


class InvalidArtifactPathError(ResourceError):
    pass


# --- chain -----------------------------------------------------------------------------------------------------------
class ChainError(AnacostiaError):
    #: The node's JSON-RPC error object (``chain.rpc.RpcErrorReply``) when the error came from one.
    rpc_error: Any = None


class ChainConnectionError(ChainError):
    pass


class ChainIdMismatchError(ChainError):
    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"connected to chain id {actual}, expected {expected}: check the RPC URL")
        self.expected = expected
        self.actual = actual


class NoContractCodeError(ChainError):
    def __init__(self, address: str, name: str | None = None) -> None:
        what = f"{name} at {address}" if name else address
        super().__init__(f"no contract code at {what}: wrong address or wrong chain (is it deployed here?)")
        self.address = address
        self.name = name


class SignerError(ChainError):
    pass


class TransactionError(ChainError):
    pass


class InsufficientFundsError(TransactionError):
    #: Wei the transaction could cost (gas limit x max fee + value) and the balance, when known.
    needed: int | None = None
    available: int | None = None


class NonceError(TransactionError):
    pass


class TransactionTimeoutError(TransactionError):
    pass


class ContractRevertError(ChainError):
    """A revert, decoded. ``error_name`` and ``args`` name the Solidity error; ``data`` is the raw revert data.

    ``receipt`` and ``tx_hash`` are set when the revert happened in a mined transaction (not in a call/estimate).
    """

    receipt: Any = None
    tx_hash: str | None = None

    def __init__(
        self,
        message: str,
        *,
        error_name: str | None = None,
        args: tuple[Any, ...] = (),
        selector: str | None = None,
        data: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.error_args = tuple(args)
        self.selector = selector
        self.data = data


class RevertWithReason(ContractRevertError):
    pass


class PanicError(ContractRevertError):
    pass


class CustomContractError(ContractRevertError):
    pass


class DeploymentError(ChainError):
    pass


class VerificationError(ChainError):
    pass


class TamperedManifestError(VerificationError):
    def __init__(self, message: str, items: list[str] | None = None) -> None:
        super().__init__(message)
        self.items = list(items or [])


class RunNotAnchoredError(VerificationError):
    pass


class AnchorConflictError(VerificationError):
    pass


class ManifestItemNotFoundError(VerificationError):
    pass


# --- storage ---------------------------------------------------------------------------------------------------------
class StorageError(AnacostiaError):
    pass


class InvalidCIDError(StorageError):
    pass


class CorruptBlockError(StorageError):
    pass


class ContentMismatchError(StorageError):
    pass


class CarFormatError(StorageError):
    pass


class ContentNotFoundError(StorageError):
    pass


class NotAFileError(StorageError):
    pass


class KuboError(StorageError):
    def __init__(self, message: str, *, code: int | None = None, type: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.type = type


class StorachaError(StorageError):
    pass


class StorachaAuthError(StorachaError):
    pass


class StorachaSizeLimitError(StorachaError):
    pass


class PinningServiceError(StorageError):
    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class RemoteUnavailableError(StorageError):
    pass


# --- crypto ----------------------------------------------------------------------------------------------------------
class CryptoError(AnacostiaError):
    pass


class DecryptionError(CryptoError):
    pass


class KeyWrapError(CryptoError):
    pass


# --- data, prices, auth ----------------------------------------------------------------------------------------------
class ValidationError(AnacostiaError):
    pass


class MetricValueError(ValidationError):
    pass


class RequestTooLargeError(ValidationError):
    pass


class PriceFeedError(AnacostiaError):
    pass


class StalePriceError(PriceFeedError):
    pass


class InvalidPriceError(PriceFeedError):
    pass


class SequencerDownError(PriceFeedError):
    pass


class AuthError(AnacostiaError):
    pass


class SiweError(AuthError):
    pass


class LicenseRequiredError(AuthError):
    pass


class SessionError(AuthError):
    pass


# --- marketplace service ---------------------------------------------------------------------------------------------
class ServiceError(AnacostiaError):
    pass


class NotFoundError(ServiceError):
    pass


class RateLimitedError(ServiceError):
    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IndexerError(ServiceError):
    pass
