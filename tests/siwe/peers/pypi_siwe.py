"""The PyPI ``siwe`` library (4.4.0) as a line-oriented JSON peer for the differential SIWE tests.

It runs in its own virtualenv (``make .stamps/siwe-peer``: ``siwe`` pins ``eth-account<0.14`` and needs ``abnf<2.9``),
so it imports nothing from this project. One request per stdin line, one reply per stdout line, in order:

    {"op": "parse", "messages": [text, ...]}
        -> {"results": [{"ok": true, "fields": {...}, "text": prepare_message()} | {"ok": false, "error": "..."}]}
    {"op": "verify", "rpc_url": url | null, "items": [{"message": text, "signature": hex, "time": iso}, ...]}
        -> {"results": [{"ok": true} | {"ok": false, "error": "..."}]}
"""

from __future__ import annotations

import json
import sys
import warnings
from datetime import datetime
from importlib.metadata import version
from typing import Any

warnings.simplefilter("ignore")  # abnf's GrammarWarnings about siwe's own grammar: noise on stderr

import siwe  # noqa: E402
from web3 import HTTPProvider  # noqa: E402


def _fields(message: siwe.SiweMessage) -> dict[str, Any]:
    return {
        "scheme": message.scheme,
        "domain": message.domain,
        "address": message.address,
        "statement": message.statement,
        "uri": message.uri,
        "version": str(message.version),
        "chain_id": message.chain_id,
        "nonce": message.nonce,
        "issued_at": str(message.issued_at),
        "expiration_time": None if message.expiration_time is None else str(message.expiration_time),
        "not_before": None if message.not_before is None else str(message.not_before),
        "request_id": message.request_id,
        "resources": message.resources,
    }


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _parse(text: str) -> dict[str, Any]:
    try:
        message = siwe.SiweMessage.from_message(text, abnf=True)
        return {"ok": True, "fields": _fields(message), "text": message.prepare_message()}
    except Exception as exc:
        return {"ok": False, "error": _one_line(exc)}


def _verify(item: dict[str, Any], provider: HTTPProvider | None) -> dict[str, Any]:
    try:
        message = siwe.SiweMessage.from_message(item["message"], abnf=True)
        timestamp = datetime.fromisoformat(item["time"].replace("Z", "+00:00"))
        message.verify(item["signature"], timestamp=timestamp, provider=provider)
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": _one_line(exc)}


def _handle(request: dict[str, Any]) -> dict[str, Any]:
    if request["op"] == "hello":
        return {"siwe": version("siwe"), "abnf": version("abnf"), "eth_account": version("eth-account")}
    if request["op"] == "parse":
        return {"results": [_parse(text) for text in request["messages"]]}
    if request["op"] == "verify":
        provider = HTTPProvider(request["rpc_url"]) if request.get("rpc_url") else None
        return {"results": [_verify(item, provider) for item in request["items"]]}
    return {"fatal": f"unknown op {request['op']!r}"}


def main() -> None:
    for line in sys.stdin:
        try:
            reply = _handle(json.loads(line))
        except Exception as exc:
            reply = {"fatal": _one_line(exc)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
