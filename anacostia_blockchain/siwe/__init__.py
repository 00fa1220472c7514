"""Sign-In with Ethereum (EIP-4361), shared by the wallet side (``buyer.py``) and the server side (``service.auth``).

- :class:`SiweMessage` is one message: built from its fields, written as the exact text a wallet signs
  (:meth:`SiweMessage.to_text`) and parsed back strictly (:meth:`SiweMessage.parse`);
- :func:`format_rfc3339` / :func:`parse_rfc3339` are the message's time format;
- :func:`check_fields` binds a message to a domain, URI, chain and moment; :func:`recover_signer` recovers its
  signer through the chain package's ``personal_sign``.

Nothing here keeps state (nonces, sessions): that is the server's.
"""

from ._message import PREAMBLE_SUFFIX, SiweMessage
from ._rfc3339 import format_rfc3339, parse_rfc3339
from ._verify import check_fields, recover_signer

__all__ = [
    "PREAMBLE_SUFFIX",
    "SiweMessage",
    "check_fields",
    "format_rfc3339",
    "parse_rfc3339",
    "recover_signer",
]
