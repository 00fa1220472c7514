"""Deep code fingerprints on real project trees, computed by fresh interpreters (as a new run or another machine
would): what changes the digest, what does not, and what is recorded next to it."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import anacostia_blockchain
from anacostia_blockchain.engine import BaseActionNode, fingerprint_of
from anacostia_blockchain.engine._imports import imported_names

# The project imports nothing from this package, so files other engineers edit meanwhile cannot change its digest.
NODE = '''
from helpers import scale
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    import typeonly

class Base:
    pass

class Scale(Base):
    def execute(self) -> bool:
        import lazyhelper
        return scale(2) == 4 and lazyhelper.ok()
'''
FILES = {
    "node.py": NODE,
    "helpers.py": "def scale(x):\n    return x * 2\n",
    "lazyhelper.py": "def ok():\n    return True\n",
    "typeonly.py": "X = 1\n",
    "unrelated.py": "def other():\n    return 0\n",
}
PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from anacostia_blockchain.engine import fingerprint_of
from node import Scale
print(json.dumps(fingerprint_of(Scale).to_json()))
"""


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (root / name).write_text(textwrap.dedent(text))
    return root


def probe(project: Path, extra_path: Path | None = None) -> dict[str, object]:
    """The node's fingerprint as a fresh interpreter computes it."""
    env = dict(os.environ)
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", PROBE, str(project)], capture_output=True, text=True, env=env,
                          cwd=project, check=True, timeout=120)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()


def test_the_closure_holds_the_node_module_its_helpers_and_lazy_imports_but_not_type_only_or_unrelated_ones(
    tmp_path: Path,
) -> None:
    facts = probe(make_project(tmp_path / "project"))
    modules = facts["modules"]
    assert isinstance(modules, dict)
    assert set(modules) == {"node", "helpers", "lazyhelper"}
    assert facts["target"] == "node.Scale"
    assert facts["python"] == f"CPython {sys.version.split()[0]}"
    assert str(facts["digest"]).startswith("sha256:")
    assert str(tmp_path) not in json.dumps(facts)  # no absolute path is recorded


def test_editing_a_helper_changes_the_fingerprint_and_editing_an_unrelated_module_does_not(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    before = probe(project)["digest"]
    assert probe(project)["digest"] == before  # deterministic across runs
    (project / "unrelated.py").write_text("def other():\n    return 1\n")
    (project / "typeonly.py").write_text("X = 2\n")
    assert probe(project)["digest"] == before
    (project / "helpers.py").write_text("def scale(x):\n    return x + x\n")
    assert probe(project)["digest"] != before


def test_a_lazily_imported_helper_counts_too(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    before = probe(project)["digest"]
    (project / "lazyhelper.py").write_text("def ok():\n    return 1 == 1\n")
    assert probe(project)["digest"] != before


def test_the_same_code_in_another_folder_has_the_same_fingerprint(tmp_path: Path) -> None:
    first = probe(make_project(tmp_path / "here"))
    second = probe(make_project(tmp_path / "elsewhere" / "deeper"))
    assert first["digest"] == second["digest"]
    assert first["modules"] == second["modules"]


def write_distribution(site: Path, version: str) -> None:
    """A third-party package ``fakepkg`` of distribution ``fake-dist`` at ``version``, in a site-packages folder."""
    shutil.rmtree(site, ignore_errors=True)
    (site / "fakepkg").mkdir(parents=True)
    (site / "fakepkg" / "__init__.py").write_text(f"VERSION = {version!r}\n")
    info = site / f"fake_dist-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fake-dist\nVersion: {version}\n")
    (info / "top_level.txt").write_text("fakepkg\n")
    (info / "RECORD").write_text("fakepkg/__init__.py,,\n")


def test_a_third_party_package_is_pinned_by_its_distribution_version_and_an_upgrade_changes_the_fingerprint(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path / "project")
    (project / "helpers.py").write_text("import fakepkg\n\ndef scale(x):\n    return x * 2\n")
    site = tmp_path / "venv" / "lib" / "site-packages"
    write_distribution(site, "1.0")
    old = probe(project, site)
    assert old["packages"] == {"fake-dist": "1.0"}
    assert "fakepkg" not in old["modules"]  # third-party code is pinned by version, not hashed
    write_distribution(site, "1.1")
    new = probe(project, site)
    assert new["packages"] == {"fake-dist": "1.1"}
    assert new["digest"] != old["digest"]


def test_the_source_revision_and_dirty_flag_are_recorded_but_not_hashed(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    assert probe(project)["source"] is None  # not a git checkout
    git(project, "init", "-q")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "first")
    clean = probe(project)
    assert clean["source"] == {"revision": git(project, "rev-parse", "HEAD"), "dirty": False}
    (project / "unrelated.py").write_text("def other():\n    return 2\n")
    assert probe(project)["source"] == clean["source"]  # outside the closure: still clean
    git(project, "commit", "-q", "-am", "unrelated change")
    moved = probe(project)
    assert moved["source"] == {"revision": git(project, "rev-parse", "HEAD"), "dirty": False}
    assert moved["digest"] == clean["digest"]  # a commit elsewhere does not invalidate results
    (project / "helpers.py").write_text("def scale(x):\n    return 2 * x\n")
    dirty = probe(project)
    assert dirty["source"] == {"revision": git(project, "rev-parse", "HEAD"), "dirty": True}


class Local(BaseActionNode):
    def execute(self) -> bool:
        return True


def test_the_modules_of_project_local_base_classes_are_roots_of_the_closure() -> None:
    facts = fingerprint_of(Local)
    # this test module imports the package lazily (PEP 562 names); the base class's module is walked anyway
    assert "anacostia_blockchain.engine.action" in facts.modules
    assert "anacostia_blockchain.engine.context" in facts.modules  # imported by engine.action
    assert facts.packages.get("pytest") == pytest.__version__


def test_a_class_without_source_is_fingerprinted_by_its_compiled_code() -> None:
    def make(body: str) -> type:
        namespace: dict[str, object] = {}
        exec(f"class Dyn:\n    def run(self):\n        {body}\n", namespace)  # no file behind it
        made = namespace["Dyn"]
        assert isinstance(made, type)
        return made

    first, same, other = make("return 1"), make("return 1"), make("return 2")
    assert fingerprint_of(first).digest == fingerprint_of(same).digest != fingerprint_of(other).digest


def _ast_imports(source: bytes, module: str, is_package: bool) -> set[str]:
    """The same question answered with the ``ast`` module (slow, exact), ``if TYPE_CHECKING:`` bodies skipped."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    stack: list[ast.AST] = [ast.parse(source)]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                names.update(".".join(parts[: i + 1]) for i in range(len(parts)))
        elif isinstance(node, ast.ImportFrom):
            anchor = package.split(".") if package else []
            anchor = anchor[: len(anchor) - max(node.level - 1, 0)] if node.level else []
            base = ".".join([*anchor, *([node.module] if node.module else [])])
            parts = base.split(".")
            names.update(".".join(parts[: i + 1]) for i in range(len(parts)))
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        else:
            stack.extend(ast.iter_child_nodes(node))
    return {name for name in names if name}


@pytest.mark.slow
def test_the_line_scanner_finds_exactly_the_imports_the_ast_finds_in_every_module_of_this_repository() -> None:
    root = Path(anacostia_blockchain.__file__).parent.parent
    files = sorted([*(root / "anacostia_blockchain").rglob("*.py"), *(root / "tests").rglob("*.py")])
    assert len(files) > 300
    for path in files:
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        data = path.read_bytes()
        assert set(imported_names(data, module, is_package)) == _ast_imports(data, module, is_package), path
