"""The `make demo` scenario: a devnet, the deployed suite, a training and a publishing pipeline, the marketplace and a
buyer, run end to end by `anacostia-chain demo`."""
