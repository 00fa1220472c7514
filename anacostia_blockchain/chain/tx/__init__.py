"""Signing and sending transactions.

- :mod:`.sender` — :class:`TxSender`: many threads, one account; receipt polling and stuck transactions;
- :mod:`.submission` — :class:`Submitter`, the sender's submitting side: the nonce-ordered queue, batched sends and
  what each node answer means (repairs, refused early nonces, mined reverts reported at send time);
- :mod:`.pending` — :class:`PendingTx`, the future every send returns;
- :mod:`.evm_target` — which shipped artifact set (Cancun, Shanghai) a chain's EVM runs;
- :mod:`.failed_tx` — why a transaction failed (decoded reverts of mined failures, insufficient funds);
- :mod:`.nonce`, :mod:`.fees`, :mod:`.gas_limits` — local nonces, cached EIP-1559 fees, gas limits per call shape;
- :mod:`.signer` — :class:`LocalSigner` (keys held in memory, never shown) over :mod:`.rlp_encoding`;
- :mod:`.personal_sign` — EIP-191 messages: sign one, recover its signer's address and public key.
"""

from .evm_target import artifact_for, evm_target
from .fees import FeeOracle, Fees, bump
from .gas_limits import GasLimits, call_shape
from .nonce import NonceManager
from .pending import PendingTx, TxRequest
from .personal_sign import RecoveredSigner, recover_personal_signer, sign_personal_message
from .sender import TxSender
from .signer import DEFAULT_KEY_ENV, LocalSigner, SignedTx, checked_key_text, decrypt_keystore
from .submission import MAX_REPAIRS, Submitter

__all__ = [
    "DEFAULT_KEY_ENV",
    "MAX_REPAIRS",
    "FeeOracle",
    "Fees",
    "GasLimits",
    "LocalSigner",
    "NonceManager",
    "PendingTx",
    "RecoveredSigner",
    "SignedTx",
    "Submitter",
    "TxRequest",
    "TxSender",
    "artifact_for",
    "bump",
    "call_shape",
    "checked_key_text",
    "decrypt_keystore",
    "evm_target",
    "recover_personal_signer",
    "sign_personal_message",
]
