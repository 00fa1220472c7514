"""The package depends directly on what it imports: every third-party module imported anywhere in
``anacostia_blockchain`` belongs to a distribution declared in ``pyproject.toml`` (the core list or an extra), the
Ethereum libraries the chain code imports are core dependencies, and web3.py is an extra that the runtime never loads.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "anacostia_blockchain"
#: Imported but not a dependency: pytest loads the plugin module itself; _typeshed exists for type checkers only.
NOT_DEPENDENCIES = {"pytest", "_typeshed"}


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_normalized(Requirement(r).name) for r in project["dependencies"]}
    extras = {extra: {_normalized(Requirement(r).name) for r in requirements}
              for extra, requirements in project["optional-dependencies"].items()}
    return core, extras


def _imported_modules() -> dict[str, set[str]]:
    """Top-level third-party modules imported anywhere in the package (also inside functions), with their files."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "anacostia_blockchain" and top not in NOT_DEPENDENCIES:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_module_comes_from_a_declared_distribution() -> None:
    core, extras = _declared()
    declared = core.union(*extras.values())
    distributions = importlib.metadata.packages_distributions()
    undeclared = {
        module: sorted(files)
        for module, files in _imported_modules().items()
        if not {_normalized(d) for d in distributions.get(module, [module])} & declared
    }
    assert undeclared == {}


def test_the_ethereum_libraries_are_core_and_web3_is_an_extra() -> None:
    core, extras = _declared()
    assert {"eth-abi", "eth-account", "eth-keys", "eth-utils", "eth-hash"} <= core
    assert "web3" not in core and "web3" in extras["web3"]
    web3_users = _imported_modules().get("web3", set())
    assert web3_users <= {"anacostia_blockchain/chain/rpc/client.py"}  # the ChainClient.w3 escape hatch only


def test_the_runtime_never_loads_web3() -> None:
    probe = ("import sys, anacostia_blockchain, anacostia_blockchain.chain, anacostia_blockchain.metadata, "
             "anacostia_blockchain.service; print('web3' in sys.modules)")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == "False"
