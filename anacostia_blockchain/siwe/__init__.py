"""Sign-In with Ethereum (EIP-4361), shared by the wallet side (``buyer.py``) and the server side (``service.auth``).

- :class:`SiweMessage` is one message: built from its fields (each checked against the EIP's ABNF), written as the
  exact text a wallet signs (:meth:`SiweMessage.to_text`) and parsed back strictly (:meth:`SiweMessage.parse`);
- :func:`format_rfc3339` / :func:`parse_rfc3339` are the message's time format;
- :func:`check_fields` binds a message to a domain, URI, chain and moment;
- :func:`verify_signature` finds its signer: an externally owned account by EIP-191 recovery
  (:func:`recover_signer`), a contract account (EIP-1271) by asking it on chain.

Every refusal is a one-line :class:`~anacostia_blockchain.errors.SiweError` naming the field or line. Nothing here
keeps state (nonces, sessions): that is the server's.
"""

from ._message import PREAMBLE_SUFFIX, SiweMessage
from ._rfc3339 import format_rfc3339, parse_rfc3339
from ._verify import VerifiedSigner, check_fields, recover_signer, verify_signature

__all__ = [
    "PREAMBLE_SUFFIX",
    "SiweMessage",
    "VerifiedSigner",
    "check_fields",
    "format_rfc3339",
    "parse_rfc3339",
    "recover_signer",
    "verify_signature",
]
