"""Compile the Solidity sources in ``contracts/`` into artifacts shipped inside the package.

Users never need a compiler: the wheel carries ``chain/artifacts/<Name>.json`` (abi, bytecode, deployed bytecode,
compiler version, source hash), read by :mod:`anacostia_blockchain.chain.abi.artifacts`. Developers regenerate them
with ``make compile`` (``scripts/compile_contracts.py``).

The compiler is py-solc-x driving a native ``solc`` (``$ANACOSTIA_SOLC``, installed by ``solcx``, or on PATH) or else
the solc-js adapter ``scripts/solc-js-adapter.js`` (offline, from npm; :func:`find_solc_binary`). Import remappings
live in :data:`REMAPPINGS` and nowhere else (``foundry.toml`` mirrors them for Foundry users).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import warnings
from pathlib import Path

from ...errors import CompilerError
from ..abi.artifacts import (
    ARTIFACT_EVM_VERSIONS,
    ARTIFACTS_DIR,
    DEFAULT_EVM_VERSION,
    ContractArtifact,
    artifacts_dir,
    list_artifacts,
    load_artifact,
)

__all__ = [
    "ARTIFACTS_DIR",
    "ARTIFACT_EVM_VERSIONS",
    "CONTRACTS_DIR",
    "PROJECT_ROOT",
    "SOLC_ENV",
    "ContractArtifact",
    "artifacts_dir",
    "cancun_only_sources",
    "compile_sources",
    "find_solc_binary",
    "list_artifacts",
    "load_artifact",
    "source_files",
    "sources_for",
    "stale_artifacts",
    "variant_sources",
    "write_artifacts",
]

logger = logging.getLogger(__name__)


def __getattr__(name: str) -> object:
    """``Artifact`` is the old name of :class:`ContractArtifact` (kept for one release, with a warning)."""
    if name == "Artifact":
        warnings.warn(
            "anacostia_blockchain.chain.dev.compiler.Artifact is now anacostia_blockchain.chain.abi.ContractArtifact; "
            "the old name will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return ContractArtifact
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

PACKAGE_DIR = ARTIFACTS_DIR.parent
PROJECT_ROOT = PACKAGE_DIR.parent.parent
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
NODE_MODULES = PROJECT_ROOT / "node_modules"
SOLC_JS_ADAPTER = PROJECT_ROOT / "scripts" / "solc-js-adapter.js"

SOLC_VERSION = "0.8.28"
#: The default build target, and every target an artifact set is shipped for (``chain/artifacts/`` holds the
#: default set, ``chain/artifacts/<version>/`` the others): Cancun, and Shanghai for chains without Cancun opcodes.
EVM_VERSION = DEFAULT_EVM_VERSION
OPTIMIZER_RUNS = 200

#: The only place import remappings are defined (mirrored in foundry.toml).
REMAPPINGS: dict[str, str] = {
    "@openzeppelin/contracts/": "node_modules/@openzeppelin/contracts/",
    "@chainlink/contracts/": "node_modules/@chainlink/contracts/",
}

#: Sources from npm packages compiled into artifacts next to our own (e.g. Chainlink's mock feed).
EXTERNAL_SOURCES: tuple[str, ...] = ("node_modules/@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol",)


#: Folder name of per-target source variants: ``D/variants/<evm_version>/X.sol`` is compiled in place of ``D/X.sol``
#: (same source path, so its imports are written as from ``D``) for that target only.
VARIANTS_DIRNAME = "variants"


def source_files(contracts_dir: Path = CONTRACTS_DIR) -> list[Path]:
    """Our own Solidity sources (recursively, per-target variants excepted), in a stable order."""
    return sorted(
        p for p in contracts_dir.rglob("*.sol") if VARIANTS_DIRNAME not in p.relative_to(contracts_dir).parts[:-1]
    )


def variant_sources(evm_version: str, contracts_dir: Path = CONTRACTS_DIR) -> dict[Path, Path]:
    """The sources replaced for ``evm_version``: ``{original: variant}`` (e.g. Story's AccessController for
    Shanghai, which keeps transient permissions in storage)."""
    return {
        (variant.parent.parent.parent / variant.name).resolve(): variant.resolve()
        for variant in sorted(contracts_dir.rglob(f"{VARIANTS_DIRNAME}/{evm_version}/*.sol"))
    }


def _variant_files(contracts_dir: Path = CONTRACTS_DIR) -> list[Path]:
    own = set(source_files(contracts_dir))
    return sorted(p for p in contracts_dir.rglob("*.sol") if p not in own)


def _original_of(path: Path) -> Path:
    """The source a variant replaces (``D/variants/<version>/X.sol`` -> ``D/X.sol``); any other path itself."""
    if path.parent.parent.name == VARIANTS_DIRNAME:
        return path.parent.parent.parent / path.name
    return path


def sources_digest(paths: list[Path]) -> str:
    """sha256 over the given sources' relative paths and bytes: an artifact is stale when this changes."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return "0x" + digest.hexdigest()


#: Opcodes only Cancun (and later) EVMs run, as inline assembly uses them (transient storage, MCOPY, blobs).
_CANCUN_OPCODES = re.compile(r"\b(tstore|tload|mcopy|blobhash|blobbasefee)\s*\(")
_IMPORT = re.compile(r"""^\s*import\s+(?:[^"']*from\s+)?["']([^"']+)["']""", re.MULTILINE)


def _resolve_import(source: Path, target: str) -> Path:
    if target.startswith("."):
        return (source.parent / target).resolve()
    for prefix, replacement in REMAPPINGS.items():
        if target.startswith(prefix):
            return PROJECT_ROOT / replacement / target[len(prefix) :]
    return PROJECT_ROOT / target


def cancun_only_sources(paths: list[Path] | None = None, evm_version: str | None = None) -> list[Path]:
    """Our sources that only compile for Cancun: they, or a file they import (transitively, OpenZeppelin included),
    use a Cancun opcode in assembly. With ``evm_version``, a source with a variant for it is judged by the variant.
    Those contracts ship in the Cancun set only."""
    needs: dict[Path, bool] = {}
    variants = variant_sources(evm_version) if evm_version else {}

    def visit(path: Path, seen: frozenset[Path]) -> bool:
        if path in needs:
            return needs[path]
        if path in seen or not path.is_file():
            return False
        text = variants.get(path, path).read_text()
        found = bool(_CANCUN_OPCODES.search(text)) or any(
            visit(_resolve_import(path, target), seen | {path}) for target in _IMPORT.findall(text)
        )
        needs[path] = found
        return found

    return [p for p in (paths if paths is not None else source_files()) if visit(p.resolve(), frozenset())]


def sources_for(evm_version: str, paths: list[Path] | None = None) -> list[Path]:
    """The sources compiled for ``evm_version``: all of them for Cancun, those not :func:`cancun_only_sources` for
    older targets."""
    own = [Path(p).resolve() for p in paths] if paths is not None else source_files()
    if evm_version == DEFAULT_EVM_VERSION:
        return own
    excluded = set(cancun_only_sources(own, evm_version))
    return [p for p in own if p not in excluded]


#: The variable naming a solc binary (or a solc-compatible command) explicitly.
SOLC_ENV = "ANACOSTIA_SOLC"


def find_solc_binary() -> Path:
    """The compiler: ``$ANACOSTIA_SOLC``, a py-solc-x-installed solc of the pinned version, ``solc`` on PATH, else the
    solc-js adapter (Node.js and the project's ``node_modules/solc`` from ``npm ci``). Not found: an error naming
    every way to get one."""
    named = os.environ.get(SOLC_ENV)
    if named:
        if not Path(named).is_file():
            raise CompilerError(f"{SOLC_ENV}={named} does not exist")
        return Path(named)
    try:
        import solcx
        from solcx.install import get_executable

        for version in solcx.get_installed_solc_versions():
            if str(version) == SOLC_VERSION:
                return Path(get_executable(version))
    except (ImportError, OSError, ValueError):
        logger.debug("no solcx-installed compiler; looking further")
    native = shutil.which("solc")
    if native:
        return Path(native)
    options = (
        f"put solc {SOLC_VERSION} on PATH (or `python -c \"import solcx; solcx.install_solc('{SOLC_VERSION}')\"`), "
        f"or set {SOLC_ENV}=/path/to/solc"
    )
    if shutil.which("node") is None:
        raise CompilerError(f"no Solidity compiler found: {options}, or install Node.js and run `npm ci` (solc-js)")
    if not (NODE_MODULES / "solc").exists() or not SOLC_JS_ADAPTER.is_file():
        raise CompilerError(
            f"no Solidity compiler found: {options}, or run `npm ci` in a checkout of anacostia-blockchain (solc-js "
            "and its adapter scripts/solc-js-adapter.js)"
        )
    return SOLC_JS_ADAPTER


def compile_sources(
    paths: list[Path] | None = None, solc_binary: Path | None = None, evm_version: str = EVM_VERSION
) -> dict[str, ContractArtifact]:
    """Compile our sources (plus :data:`EXTERNAL_SOURCES`) for ``evm_version``; returns artifacts by contract name."""
    try:
        import solcx
        from solcx.exceptions import SolcError
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise CompilerError("py-solc-x is not installed: pip install 'anacostia-blockchain[compile]'") from exc

    # A variant named on the command line stands for the source it replaces (compiled as the variant where it applies).
    requested = [_original_of(Path(p).resolve()) for p in paths] if paths is not None else source_files()
    own = sources_for(evm_version, requested)
    if not own:
        return {}
    for path in own:
        if not path.is_file():
            raise CompilerError(f"Solidity source {path} does not exist")
        if not path.is_relative_to(PROJECT_ROOT):
            raise CompilerError(f"Solidity source {path} is outside the project {PROJECT_ROOT}: move it inside")
    binary = solc_binary or find_solc_binary()
    all_paths = [*own, *(PROJECT_ROOT / p for p in EXTERNAL_SOURCES)]
    variants = variant_sources(evm_version)
    sources = {str(p.relative_to(PROJECT_ROOT)): {"content": variants.get(p, p).read_text()} for p in all_paths}
    standard_input = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "remappings": [f"{k}={v}" for k, v in REMAPPINGS.items()],
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "evmVersion": evm_version,
            "viaIR": False,
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
        },
    }
    try:
        output = solcx.compile_standard(
            standard_input, base_path=str(PROJECT_ROOT), allow_paths=[str(PROJECT_ROOT)], solc_binary=binary
        )
        version = str(solcx.wrapper.get_solc_version(binary, with_commit_hash=True))
    except SolcError as exc:
        raise CompilerError(f"solc failed:\n{exc.message if hasattr(exc, 'message') else exc}") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise CompilerError(f"could not run the compiler {binary}: {exc}") from exc

    # One digest over every source requested (for every target, so the sets agree): a change to a shared interface
    # makes all artifacts stale.
    digest = sources_digest([*requested, *_variant_files(), *(PROJECT_ROOT / p for p in EXTERNAL_SOURCES)])
    own_sources = {str(p.relative_to(PROJECT_ROOT)) for p in all_paths}
    artifacts: dict[str, ContractArtifact] = {}
    for source_path, contracts in output.get("contracts", {}).items():
        if source_path not in own_sources:
            continue  # imported library code (OpenZeppelin, interfaces): not shipped on its own
        for name, data in contracts.items():
            bytecode = data["evm"]["bytecode"]["object"]
            if not bytecode:
                continue  # interfaces and abstract contracts
            if name in artifacts:
                raise CompilerError(f"two contracts are named {name}: {artifacts[name].source_path}, {source_path}")
            artifacts[name] = ContractArtifact(
                name=name,
                abi=data["abi"],
                bytecode="0x" + bytecode,
                deployed_bytecode="0x" + data["evm"]["deployedBytecode"]["object"],
                compiler_version=version,
                source_path=source_path,
                source_hash=digest,
            )
    return artifacts


def write_artifacts(
    artifacts: dict[str, ContractArtifact], out_dir: Path = ARTIFACTS_DIR, prune: bool = True
) -> list[Path]:
    """Write artifacts as JSON (atomically); with ``prune``, remove artifacts whose contract no longer exists."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, artifact in sorted(artifacts.items()):
        path = out_dir / f"{name}.json"
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(artifact.to_json(), indent=1, sort_keys=True) + "\n")
        tmp.replace(path)
        written.append(path)
    for stale in out_dir.glob("*.json") if prune else ():
        if stale.stem not in artifacts:
            stale.unlink()
    return written


def current_sources_digest() -> str:
    return sources_digest([*source_files(), *_variant_files(), *(PROJECT_ROOT / p for p in EXTERNAL_SOURCES)])


def stale_artifacts() -> list[str]:
    """Shipped artifacts (every set) whose recorded source hash no longer matches the sources on disk, and
    contracts missing from a set (except Cancun-only contracts in older sets): ``Name`` for the default set,
    ``<version>/Name`` for the others."""
    digest = current_sources_digest()
    default_names = set(list_artifacts())
    stale = []
    for version in ARTIFACT_EVM_VERSIONS:
        cancun_only = {str(p.relative_to(PROJECT_ROOT)) for p in cancun_only_sources(evm_version=version)}
        cancun_names = {name for name in default_names if load_artifact(name).source_path in cancun_only}
        prefix = "" if version == DEFAULT_EVM_VERSION else f"{version}/"
        names = set(list_artifacts(version))
        expected = default_names if version == DEFAULT_EVM_VERSION else default_names - cancun_names
        stale += [f"{prefix}{name}" for name in sorted(expected - names)]
        stale += [f"{prefix}{name}" for name in sorted(names) if load_artifact(name, version).source_hash != digest]
    return stale
