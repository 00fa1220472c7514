"""Who may do what: wallet login (SIWE nonces, verification, session tokens) and the store of model data keys.

- :class:`SiweAuthenticator` turns a signed EIP-4361 message into a :class:`Session`; :class:`NonceStore` hands out
  its single-use nonces and :class:`SessionTokens` the stateless tokens. Message building and parsing is shared with
  clients in :mod:`anacostia_blockchain.siwe`.
- :class:`KeyStore` keeps model data keys sealed for the service key and rewraps one for a licensed buyer.
"""

from .authenticator import SiweAuthenticator
from .keystore import KeyStore
from .nonces import NonceStore
from .sessions import Session, SessionTokens

__all__ = ["KeyStore", "NonceStore", "Session", "SessionTokens", "SiweAuthenticator"]
