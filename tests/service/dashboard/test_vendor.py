"""The chart library is vendored from npm at the pinned version, with its license, and no page loads from a CDN."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient

from anacostia_blockchain.service import ServiceConfig, create_app
from anacostia_blockchain.service.dashboard import STATIC_DIR
from anacostia_blockchain.service.dashboard.vendor import MANIFEST, PROJECT_ROOT, VENDOR_DIR, package_info, vendor


def test_vendored_uplot_is_the_pinned_npm_package() -> None:
    pinned = json.loads((PROJECT_ROOT / "package.json").read_text())["devDependencies"]["uplot"]
    kept = json.loads((VENDOR_DIR / MANIFEST).read_text())
    installed = package_info(PROJECT_ROOT / "node_modules")
    assert kept == installed, "another uPlot in node_modules: python -m anacostia_blockchain.service.dashboard.vendor"
    assert kept["version"] == pinned and kept["license"] == "MIT"
    assert "MIT License" in (VENDOR_DIR / "LICENSE-uPlot.txt").read_text()
    assert (VENDOR_DIR / "uPlot.iife.min.js").read_bytes().startswith(f"/*! https://github.com/leeoniya/uPlot "
                                                                      f"(v{pinned})".encode())


def test_vendor_copies_the_files_and_writes_the_manifest(tmp_path: Path) -> None:
    info = vendor(PROJECT_ROOT / "node_modules", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*info["files"], MANIFEST])
    assert (tmp_path / "uPlot.min.css").read_bytes() == (VENDOR_DIR / "uPlot.min.css").read_bytes()


def test_pages_load_only_local_assets(tmp_path: Path) -> None:
    app = create_app(ServiceConfig(database_url=f"sqlite:///{tmp_path / 'index.db'}", chain_id=31337))
    with TestClient(app) as http:
        for page in ("/dashboard", "/dashboard/pipelines/training/runs/1", "/dashboard/models/1"):
            html = http.get(page).text
            sources = re.findall(r'(?:src|href)="([^"]+)"', html)
            assert sources and all(s.startswith(("/", "#", "data:")) for s in sources), (page, sources)
            for source in sources:
                if source.startswith("/static/"):
                    assert http.get(source).status_code == 200, source
    for script in STATIC_DIR.glob("*.js"):
        assert not re.search(r"https?://", script.read_text().replace("http://www.w3.org/2000/svg", "")), script
