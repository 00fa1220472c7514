# The two commands a user needs: `make demo` and `make test`. Each sets up what it needs first and is quick when
# everything is already in place (stamp files track the inputs).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMPS := .stamps

.PHONY: demo test setup lint compile bench clean

demo: $(STAMPS)/venv $(STAMPS)/npm
	$(VENV)/bin/anacostia-chain demo

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 2 -q -p no:cacheprovider --dist loadgroup
	# The chain and anchoring tests once more, on Hardhat Network and on Ganache instead of anvil (only those using the chain).
	$(PY) -m pytest -n 2 -q -p no:cacheprovider --chain-node hardhat --chain-tests-only tests/chain tests/anchoring
	# And on Ganache (a shanghai EVM: the Story suite is skipped with its reason, the rest must run).
	$(PY) -m pytest -n 2 -q -p no:cacheprovider --chain-node ganache --chain-tests-only tests/chain tests/anchoring

setup: $(STAMPS)/venv $(STAMPS)/npm $(STAMPS)/chromium $(STAMPS)/tinyproxy $(STAMPS)/jsipfs $(STAMPS)/siwe-peer $(STAMPS)/story-sdk

$(STAMPS)/venv: pyproject.toml
	@mkdir -p $(STAMPS)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

$(STAMPS)/npm: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# js-ipfs 0.66 (the RPC-wire peer of tests/ipfs/test_ipfs_peers_jsipfs.py) in its own node_modules: the root tree's
# newer multiformats packages would break its libp2p. `npm install --no-save` and not `npm ci`: an optional dependency
# deep in its tree names a git tarball, which `npm ci` refuses to validate against the lock file.
JSIPFS := tests/ipfs/peers/jsipfs
$(STAMPS)/jsipfs: $(JSIPFS)/package.json $(JSIPFS)/package-lock.json
	@mkdir -p $(STAMPS)
	npm install --prefix $(JSIPFS) --no-save --no-audit --no-fund --loglevel=error
	@touch $@

# PyPI siwe (a reference of tests/siwe/test_siwe_differential.py) in its own virtualenv: it pins eth-account<0.14
# and imports only with abnf<2.9, the project uses eth-account 0.14.
SIWE_PEER := tests/siwe/peers/requirements.txt
$(STAMPS)/siwe-peer: $(SIWE_PEER)
	@mkdir -p $(STAMPS)
	test -x $(STAMPS)/siwe-venv/bin/python || python3 -m venv $(STAMPS)/siwe-venv
	$(STAMPS)/siwe-venv/bin/python -m pip install -q -r $(SIWE_PEER)
	@touch $@

# A forward HTTP proxy for the IPFS clients' proxy test (tests/ipfs/test_ipfs_http_transport.py).
$(STAMPS)/tinyproxy:
	@mkdir -p $(STAMPS)
	command -v tinyproxy >/dev/null 2>&1 || apt-get install -y -q tinyproxy >/dev/null 2>&1 \
		|| (apt-get update -q >/dev/null && apt-get install -y -q tinyproxy >/dev/null)
	@touch $@

# Story's official Python SDK in its own venv (it needs web3 7.15): driven by tests/story/test_sdk_clients.py.
STORY_VENV := .venv-story
$(STAMPS)/story-sdk: tests/story/sdk/requirements.txt
	@mkdir -p $(STAMPS)
	test -x $(STORY_VENV)/bin/python || python3 -m venv $(STORY_VENV)
	$(STORY_VENV)/bin/python -m pip install -q --upgrade pip
	$(STORY_VENV)/bin/python -m pip install -q -r tests/story/sdk/requirements.txt
	@touch $@

# Headless Chromium for the dashboard's browser test (tests/service/dashboard/test_dashboard.py); quick when already installed.
$(STAMPS)/chromium:
	@mkdir -p $(STAMPS)
	command -v chromium >/dev/null 2>&1 || apt-get install -y -q chromium >/dev/null 2>&1 \
		|| (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)
	@touch $@

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

compile: setup
	$(PY) scripts/compile_contracts.py

bench: setup
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/chain.py
	$(PY) benchmarks/storage.py
	$(PY) benchmarks/marketplace.py
	$(PY) benchmarks/onchain_actions.py
	$(PY) benchmarks/anchor_finality.py
	$(PY) benchmarks/soak.py

clean:
	rm -rf $(STAMPS) .pytest_cache .ruff_cache build dist *.egg-info
