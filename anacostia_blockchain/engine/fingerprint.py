"""Code fingerprints: which code a node ran, recorded and anchored with every node run.

A node's fingerprint covers everything its behaviour can depend on that this process can see:

- the node's class (module and qualified name) and the source of its module;
- every **project-local** module that module imports, transitively (:mod:`._imports`: read from the source, lazy
  imports included, ``if TYPE_CHECKING:`` blocks excluded; the standard library and ``site-packages`` excluded);
- the **distribution versions** of the third-party packages those modules import (``scikit-learn==1.5.2``);
- the **Python** implementation and version (``CPython 3.11.7``).

``digest`` (``sha256:<hex>``) is the sha256 of the canonical JSON of exactly those facts. Modules are named by their
dotted names and files hashed by content, so the same code gives the same digest in another run, another folder and
on another machine; editing a helper function the node imports changes it, editing a module the node does not import
does not, and upgrading a package it imports does.

Recorded next to the digest, and anchored with it, but not part of it: the **source revision** of the git checkout
holding the node's module (``git rev-parse HEAD``) and a **dirty** flag (the fingerprinted files differ from that
revision, or are untracked). Keeping them out of the digest means a commit touching unrelated files does not
invalidate cached results.

A class without readable source (defined in a REPL, or in a module that is not a file) falls back to its methods'
compiled code (bytecode, constants, names; nested functions included), so the digest still follows its behaviour.
Fingerprints are computed once per class per process (they describe the code that was loaded).
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import subprocess
import sys
import types
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from ._imports import ImportClosure, classify, import_closure

#: Version of the fingerprint recipe (part of the digest, so a change of recipe never collides).
FINGERPRINT_FORMAT = 2
#: Modules of bases every node has (``threading.Thread``, ``object``): the Python version covers them.
_INTERPRETER_MODULES = frozenset({"builtins", "abc", "threading"})


def _interpreter_class(klass: type) -> bool:
    """``object``, ``threading.Thread`` and the like (not a class that merely claims such a module)."""
    module = sys.modules.get(klass.__module__)
    return klass.__module__ in _INTERPRETER_MODULES and getattr(module, klass.__qualname__, None) is klass


@dataclass(frozen=True, slots=True)
class SourceRevision:
    """The git commit a node's code was loaded from, and whether the fingerprinted files differ from it."""

    revision: str
    dirty: bool

    def to_json(self) -> dict[str, Any]:
        return {"revision": self.revision, "dirty": self.dirty}


@dataclass(frozen=True, slots=True)
class CodeFingerprint:
    """A node class's fingerprint: the ``digest`` and the facts it was computed from (see the module docstring)."""

    digest: str
    target: str
    modules: dict[str, str] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)
    python: str = ""
    source: SourceRevision | None = None

    def hashed_facts(self) -> dict[str, Any]:
        """What :attr:`digest` is the sha256 of (as canonical JSON)."""
        return {"format": FINGERPRINT_FORMAT, "target": self.target, "modules": self.modules,
                "packages": self.packages, "python": self.python}

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: the digest, the hashed facts and the source revision."""
        return {"digest": self.digest, **self.hashed_facts(),
                "source": None if self.source is None else self.source.to_json()}


def canonical_digest(facts: dict[str, Any]) -> str:
    """``sha256:<hex>`` of canonical JSON (sorted keys, no whitespace)."""
    text = json.dumps(facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def python_version() -> str:
    """``"<implementation> <major.minor.micro>"``, e.g. ``CPython 3.11.7``."""
    return f"{platform.python_implementation()} {platform.python_version()}"


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@cache
def _top_level_index() -> dict[str, tuple[str, ...]]:
    """``{top-level import name: distributions}`` from each installed distribution's ``top_level.txt`` or, when it
    has none, the first path component of its ``RECORD`` entries (read as text: cheaper than
    ``importlib.metadata.packages_distributions``)."""
    index: dict[str, set[str]] = {}
    for dist in importlib_metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        text = dist.read_text("top_level.txt")
        if text:
            tops = {line.strip() for line in text.splitlines() if line.strip()}
        else:
            record = dist.read_text("RECORD") or ""
            tops = {line.split(",", 1)[0].split("/", 1)[0].split(".", 1)[0] for line in record.splitlines()}
        for top in tops:
            if top and top.isidentifier():
                index.setdefault(top, set()).add(name)
    return {top: tuple(sorted(names)) for top, names in index.items()}


@cache
def _distributions_providing(top: str) -> tuple[str, ...]:
    try:
        dist = importlib_metadata.distribution(top)  # the common case: the import name is the distribution name
    except importlib_metadata.PackageNotFoundError:
        return _top_level_index().get(top, ())
    name = dist.metadata["Name"]
    return (name,) if name and _normalized(name) == _normalized(top) else _top_level_index().get(top, ())


def package_versions(top_level_names: set[str]) -> dict[str, str]:
    """``{distribution: version}`` for the distributions providing these top-level packages (a package no installed
    distribution claims maps its own name to ``"unknown"``)."""
    versions: dict[str, str] = {}
    for top in sorted(top_level_names):
        dists = _distributions_providing(top)
        if not dists:
            versions[top] = "unknown"
        for dist in dists:
            try:
                versions[dist] = importlib_metadata.version(dist)
            except importlib_metadata.PackageNotFoundError:
                versions[dist] = "unknown"
    return versions


# --- classes without source ------------------------------------------------------------------------------------------
def _code_bytes(code: types.CodeType) -> bytes:
    parts = [code.co_code, repr(code.co_names).encode(), repr(code.co_varnames).encode()]
    for const in code.co_consts:
        parts.append(_code_bytes(const) if isinstance(const, types.CodeType) else repr(const).encode())
    return b"\x00".join(parts)


def _compiled_bytes(klass: type) -> bytes:
    parts = []
    for attr_name, value in sorted(vars(klass).items()):
        function = getattr(value, "__func__", value)
        code = getattr(function, "__code__", None)
        if isinstance(code, types.CodeType):
            parts.append(attr_name.encode() + b"=" + _code_bytes(code))
    return b"\x01".join(parts)


def _module_file(module_name: str) -> Path | None:
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None) if module is not None else None
    if not file:
        return None
    path = Path(file)
    return path if path.is_file() else None


def _closure_for(cls: type) -> tuple[ImportClosure, dict[str, str]]:
    """The import closure of the modules defining ``cls`` and its project-local bases, and the module hashes."""
    roots: list[tuple[str, Path]] = []
    sourceless: list[type] = []
    third_party: set[str] = set()
    for klass in cls.__mro__:
        if _interpreter_class(klass):
            continue
        path = _module_file(klass.__module__)
        kind = "sourceless" if path is None else classify(str(path))
        if path is None:
            sourceless.append(klass)
        elif kind == "local":
            roots.append((klass.__module__, path))
        elif kind == "third_party":
            third_party.add(klass.__module__.partition(".")[0])
    closure = import_closure(roots)
    closure.third_party |= third_party
    modules = {name: module.sha256 for name, module in closure.local.items()}
    for klass in sourceless:  # no file: the compiled code of the class stands in for its module
        digest = hashlib.sha256(f"{klass.__module__}.{klass.__qualname__}\n".encode() + _compiled_bytes(klass))
        modules[f"{klass.__module__}:{klass.__qualname__}"] = "compiled:" + digest.hexdigest()
    return closure, modules


# --- the source revision ---------------------------------------------------------------------------------------------
def _git_top(path: Path) -> Path | None:
    for folder in [path.parent, *path.parent.parents]:
        if (folder / ".git").exists():
            return folder
    return None


def _git(top: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(top), *args],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


@cache
def _head(top: Path) -> str | None:
    """The checkout's ``HEAD`` commit (read once per process: the revision the process started from)."""
    return _git(top, "rev-parse", "--verify", "HEAD")


def source_revision(root_file: Path | None, files: list[Path]) -> SourceRevision | None:
    """The git revision of the checkout holding ``root_file`` and whether ``files`` (those inside it) are dirty;
    ``None`` outside a git checkout or without git."""
    if root_file is None:
        return None
    top = _git_top(root_file.resolve())
    if top is None:
        return None
    head = _head(top)
    if head is None:
        return None
    inside = sorted({str(p.resolve().relative_to(top)) for p in files if p.resolve().is_relative_to(top)})
    status = _git(top, "status", "--porcelain", "--untracked-files=normal", "--", *inside) if inside else ""
    return SourceRevision(head.strip(), bool(status and status.strip()))


@cache
def fingerprint_of(cls: type) -> CodeFingerprint:
    """The :class:`CodeFingerprint` of a node class (computed once per class per process)."""
    closure, modules = _closure_for(cls)
    fingerprint = CodeFingerprint(
        digest="",
        target=f"{cls.__module__}.{cls.__qualname__}",
        modules=dict(sorted(modules.items())),
        packages=package_versions(closure.third_party),
        python=python_version(),
    )
    files = [module.path for module in closure.local.values()]
    return CodeFingerprint(
        digest=canonical_digest(fingerprint.hashed_facts()),
        target=fingerprint.target,
        modules=fingerprint.modules,
        packages=fingerprint.packages,
        python=fingerprint.python,
        source=source_revision(_module_file(cls.__module__), files),
    )


def code_fingerprint(cls: type) -> str:
    """``sha256:<hex>``: the digest of :func:`fingerprint_of` (cached per class)."""
    return fingerprint_of(cls).digest
