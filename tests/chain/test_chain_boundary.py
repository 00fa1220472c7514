"""One typed chain boundary: raw JSON-RPC methods and contract function names appear only inside ``chain/``.

Every other package talks to the chain through typed methods (``RunRegistryClient.check_anchors``,
``MarketplaceClient.listing``, ...). The check reads the source of every module outside ``chain/`` and flags:

- a string that is a JSON-RPC method name (``"eth_getLogs"``, ``"anvil_mine"``, ...): a namespace prefix followed by
  a camelCase method, or one of the one-word methods (``"eth_call"``), so that ``"eth_usd"`` (a metric) passes;
- a function name of a shipped ABI (read from ``chain/artifacts/*.json``) passed to a contract-call method
  (``.call``, ``.send``, ``.transact``, ``.encode``, ``.call_many``, ...), whatever the word;
- a camelCase function name of a shipped ABI anywhere else (``"runRoot"`` is no English word), except as a key:
  a subscript, a dict-literal key or ``.get()`` — event arguments and JSON fields share those names.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import anacostia_blockchain
from anacostia_blockchain.chain.abi import ARTIFACTS_DIR

PACKAGE = Path(anacostia_blockchain.__file__).parent
CHAIN = PACKAGE / "chain"

_RPC_PREFIXES = r"(eth|net|web3|anvil|evm|debug|hardhat|txpool|trace|personal|admin|miner|engine)"
_CAMEL_RPC = re.compile(rf"^{_RPC_PREFIXES}_[a-z]+[A-Z][A-Za-z0-9]*$")
_ONE_WORD_RPC = {
    "eth_accounts", "eth_call", "eth_coinbase", "eth_hashrate", "eth_mining", "eth_sign", "eth_subscribe",
    "eth_syncing", "eth_unsubscribe", "net_listening", "net_version", "evm_mine", "evm_revert", "evm_snapshot",
    "anvil_mine", "anvil_reorg", "anvil_reset", "anvil_rollback", "hardhat_mine", "hardhat_reset",
}  # fmt: skip
#: Methods whose string arguments name a contract function.
_CALL_METHODS = {
    "call", "call_many", "call_request", "send", "transact", "encode", "function", "decode_output", "decode_reply",
    "cached_gas",
}  # fmt: skip


def _abi_function_names() -> set[str]:
    names = set()
    for path in ARTIFACTS_DIR.glob("*.json"):
        names |= {e["name"] for e in json.loads(path.read_text())["abi"] if e.get("type") == "function"}
    return names


def _modules_outside_chain() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if CHAIN not in path.parents:
            yield path


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _keys(tree: ast.AST) -> set[int]:
    """String constants used as keys: ``x["k"]``, ``{"k": v}``, ``x.get("k")``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            found.add(id(node.slice))
        elif isinstance(node, ast.Dict):
            found |= {id(key) for key in node.keys if key is not None}
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            found |= {id(arg) for arg in node.args[:1]}
    return found


def _call_arguments(tree: ast.AST) -> set[int]:
    """String constants passed to a contract-call method (positionally)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if callee in _CALL_METHODS:
                found |= {id(arg) for arg in node.args}
    return found


def violations(source: str, functions: set[str]) -> list[tuple[int, str, str]]:
    """``(line, string, why)`` for each boundary violation in one module's source."""
    tree = ast.parse(source)
    docstrings, keys, call_arguments = _docstrings(tree), _keys(tree), _call_arguments(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or id(node) in docstrings:
            continue
        text = node.value
        if _CAMEL_RPC.match(text) or text in _ONE_WORD_RPC:
            found.append((node.lineno, text, "raw JSON-RPC method"))
        elif text in functions and id(node) in call_arguments:
            found.append((node.lineno, text, "contract function called by name"))
        elif text in functions and text != text.lower() and id(node) not in keys:
            found.append((node.lineno, text, "contract function name"))
    return sorted(found)


def test_the_check_flags_what_it_should_and_nothing_else() -> None:
    functions = {"runRoot", "quote", "ownerOf"}
    source = """
x = client.rpc("eth_getLogs", [])
y = [("eth_call", [])]
z = market.call("quote", 1)
s = sender.transact(nft, "ownerOf", 1)
w = "runRoot"
metric = "eth_usd"
label = {"runRoot": 1}["runRoot"]
args.get("ownerOf")
words = "quote"
"""
    assert [(line, text) for line, text, _ in violations(source, functions)] == [
        (2, "eth_getLogs"), (3, "eth_call"), (4, "quote"), (5, "ownerOf"), (6, "runRoot")
    ]  # fmt: skip


def test_no_raw_rpc_or_contract_function_names_outside_chain() -> None:
    functions = _abi_function_names()
    assert {"runRoot", "tokenURI", "listing"} <= functions  # the artifacts were read
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {text!r} ({why})"
        for path in _modules_outside_chain()
        for line, text, why in violations(path.read_text(), functions)
    ]
    assert found == [], "use (or add) a typed method in anacostia_blockchain.chain:\n" + "\n".join(found)
