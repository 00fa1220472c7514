"""Examples that work in a temporary folder by default remove it when they exit (nothing is left in $TMPDIR)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("script", ["anacostia_readme.py", "llm_data_pipeline.py"])
def test_an_example_leaves_no_temporary_folder_behind(script: str, tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "ANACOSTIA_EXAMPLE_DIR"}
    result = subprocess.run([sys.executable, str(EXAMPLES / script)], env={**env, "TMPDIR": str(tmpdir)},
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout[result.stdout.index("{"):])
    assert summary["run"] == 1 or summary["run"]["status"] == "success"
    assert "workdir" not in summary  # it is gone: naming it would point at nothing
    assert list(tmpdir.iterdir()) == []
