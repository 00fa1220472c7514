"""The marketplace's HTTP API: :func:`create_app` wires the routes to the index, the chain and the key store.

Routes by concern: ``market`` (``/models``: listing, detail, quote), ``keys`` (license-gated data keys), ``runs``
(``/runs`` and their live verification), ``lineage`` (the lineage graphs of models and runs), ``auth`` (``/auth``:
SIWE login), ``status``; the request and response bodies (the OpenAPI schema) are in ``bodies``.
"""

from .app import create_app

__all__ = ["create_app"]
