"""What a deployed pipeline or service imports from chain/ never loads the dev tooling (anvil launcher, compiler)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import sys
    import anacostia_blockchain.chain
    import anacostia_blockchain.chain.abi
    import anacostia_blockchain.chain.contracts
    import anacostia_blockchain.chain.rpc
    import anacostia_blockchain.chain.story
    import anacostia_blockchain.chain.tx
    from anacostia_blockchain.chain import ChainClient, Contract, DeploymentManifest, TxSender  # noqa: F401

    loaded = sorted(m for m in sys.modules if m.startswith("anacostia_blockchain.chain.dev") or m == "solcx"
                    or m.startswith("solcx.") or m == "pytest")
    print("loaded:", ",".join(loaded))
    from anacostia_blockchain.chain import Devnet  # noqa: E402  (the lazy export still works)
    print("devnet:", Devnet.__module__)
    """
)


def test_runtime_packages_do_not_import_dev_tooling() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(": ", 1) if ": " in line else (line.rstrip(":"), "") for line in done.stdout.splitlines())
    assert lines["loaded"] == "", f"runtime imports loaded dev tooling: {lines['loaded']}"
    assert lines["devnet"] == "anacostia_blockchain.chain.dev.devnet"
