"""The chain layer: the only package that imports web3 / eth-account / eth-abi."""
