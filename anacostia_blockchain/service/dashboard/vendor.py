"""Vendors the dashboard's chart library, uPlot (MIT), from npm into ``static/vendor/``.

The dashboard has no build step and loads nothing from a CDN: the package ships uPlot's browser build, its stylesheet
and its license. ``package.json`` pins the version (a dev dependency, installed by ``npm ci``); this module copies
the files and writes ``static/vendor/VENDORED.json`` (name, version, license, SHA-256 of each file), which
``tests/service/dashboard/test_vendor.py`` compares with ``node_modules`` so a version bump without re-vendoring
fails. Run after changing the pin::

    npm ci && python -m anacostia_blockchain.service.dashboard.vendor
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from ...errors import ConfigurationError

VENDOR_DIR = Path(__file__).parent / "static" / "vendor"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
PACKAGE = "uplot"
#: Vendored file name -> its path inside the npm package.
FILES = {
    "uPlot.iife.min.js": "dist/uPlot.iife.min.js",
    "uPlot.min.css": "dist/uPlot.min.css",
    "LICENSE-uPlot.txt": "LICENSE",
}
MANIFEST = "VENDORED.json"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_info(node_modules: Path) -> dict[str, Any]:
    """``{"name", "version", "license", "files": {vendored name: sha256}}`` of the installed npm package."""
    root = node_modules / PACKAGE
    try:
        meta = json.loads((root / "package.json").read_text())
        files = {name: sha256_file(root / source) for name, source in FILES.items()}
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"npm package {PACKAGE!r} is not in {node_modules}: run `npm ci`") from exc
    return {"name": PACKAGE, "version": meta["version"], "license": meta["license"], "files": files}


def vendor(node_modules: Path = PROJECT_ROOT / "node_modules", target: Path = VENDOR_DIR) -> dict[str, Any]:
    """Copy uPlot's files from ``node_modules`` into ``target`` and write the manifest; returns the manifest."""
    info = package_info(node_modules)
    target.mkdir(parents=True, exist_ok=True)
    for name, source in FILES.items():
        shutil.copyfile(node_modules / PACKAGE / source, target / name)
    (target / MANIFEST).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="copy uPlot from node_modules into the dashboard's static/vendor/")
    parser.add_argument("--node-modules", type=Path, default=PROJECT_ROOT / "node_modules")
    args = parser.parse_args(argv)
    info = vendor(args.node_modules)
    print(f"vendored {info['name']} {info['version']} ({info['license']}) into {VENDOR_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
