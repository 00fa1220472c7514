"""The marketplace service: FastAPI app (``app.create_app``), chain indexer, SIWE login, license-gated key release
and the pipeline dashboard. The only package importing FastAPI/uvicorn. See ``docs/marketplace.md``."""
