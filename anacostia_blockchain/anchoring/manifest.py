"""The canonical, deterministic manifest of one run, and its Merkle tree.

A manifest is built from ``RunStore.export_run(run_id)`` (the SQL run store stays the source of truth) and
turns every recorded entry into one *item* with a stable *key*:

=========================  ====================================  ============================================
key                        leaf kind / fields                    from the export
=========================  ====================================  ============================================
``run``                    run: pipelineId, runId, run row       ``export["run"]`` (minus ``hash``)
``node:NAME``              node: name, node result row (status,  ``export["nodes"]``
                           code fingerprint, error, times)
``metric:NAME@STEP``       metric: name, value * 1e18, step      ``export["metrics"]`` (``metric:NAME``, step 0,
                                                                 when logged without a step)
``param:NAME``             param: name, JSON value               ``export["params"]``
``tag:NAME``               tag: name, JSON value                 ``export["tags"]``
``artifact:REL:RES:LOC``   artifact: location, sha256, size,     ``export["artifacts"]["consumed"|"produced"]``
                           CID, JSON of the immutable rest
``lineage:HASH16``         lineage: the edge as JSON             ``export["lineage"]``
``output:RES:LOC``         lineage: the output's own lineage     ``export["outputs"]`` (derived_from, execution,
                                                                 cache key, reused_from_run)
``execution:NODE``         entry: the node run as JSON           ``export["executions"]`` (status, cache key, code
                                                                 fingerprint facts, source revision, reuse)
``entry:SECTION:I``        entry: any other section, as JSON     anything else the export carries
=========================  ====================================  ============================================

A key that occurs twice (a metric logged twice at one step) gets ``#2``, ``#3``... in export order. Metric leaves
cover name, value and step (what a contract checks); a metric's logging time and node are not anchored. Fields that
legitimately change after the run ended (:data:`VOLATILE_RUN_FIELDS`, :data:`VOLATILE_ARTIFACT_FIELDS`) are left
out, so re-exporting a run later gives the same manifest unless something was tampered with. An artifact's CID *is*
anchored: a CID assigned after the run ended shows up as a change of that artifact.

Serialization is canonical JSON (sorted keys, no whitespace, UTF-8, no NaN), so the same run always gives the same
bytes, the same CID and the same root. ``RunManifest.diff`` names the items that differ between two manifests —
that is how a changed SQL value or a changed manifest is reported as tampered.

Each manifest names its format (``version``), and the format fixes the Merkle tree layout (:data:`TREE_LAYOUTS`):
format 2, written by :meth:`RunManifest.from_export`, is OpenZeppelin's (``SimpleMerkleTree.of(leaves).root`` of
``@openzeppelin/merkle-tree`` equals the root); format 1 manifests are read and verified in their own layout.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..chain.contracts import merkle
from ..errors import ManifestItemNotFoundError, ValidationError
from ..ipfs import compute_cid

#: The manifest format written by :meth:`RunManifest.from_export`; the format picks the Merkle tree layout.
MANIFEST_VERSION = 2

#: Manifest format -> tree layout. Format 2 is OpenZeppelin's (``SimpleMerkleTree.of(leaves).root`` is the root);
#: format 1 promoted an odd node unchanged, and manifests in it still verify against their anchors.
TREE_LAYOUTS: dict[int, type[merkle.SortedPairTree]] = {1: merkle.OddPromotedMerkleTree, 2: merkle.MerkleTree}


def manifest_cid(data: bytes) -> str:
    """The manifest's CIDv1 exactly as ``ipfs add --cid-version=1`` computes it (raw leaves, sha2-256).

    The one place the CID of a manifest is computed: anchoring and verification both call it, so the algorithm
    can only change for both at once.
    """
    return compute_cid(data, cid_version=1)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text, NaN/inf rejected: one value, one string."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"cannot serialize {type(value).__name__} canonically: {exc}") from exc


@dataclass(frozen=True)
class ManifestItem:
    """One anchored entry: ``fields`` are exactly what its leaf encodes (all strings/ints, JSON-safe)."""

    key: str
    kind: str
    fields: Mapping[str, Any]

    def leaf(self, pipeline_id: bytes, run_id: int) -> bytes:
        f = self.fields
        try:
            if self.kind == "metric":
                return merkle.metric_leaf(f["name"], int(f["value"]), int(f["step"]))
            if self.kind == "artifact":
                sha = bytes.fromhex(str(f["sha256"]).removeprefix("0x"))
                return merkle.artifact_leaf(f["location"], sha, int(f["size"]), f["cid"], f["details"])
            if self.kind == "run":
                return merkle.run_leaf(pipeline_id, run_id, f["details"])
            if self.kind in ("param", "tag", "node"):
                return merkle.text_leaf(self.kind, f["name"], f["value"] if "value" in f else f["details"])
            return merkle.text_leaf(self.kind, self.key, f["details"])
        except (KeyError, ValueError, TypeError) as exc:
            raise ValidationError(f"manifest item {self.key!r} is malformed: {exc!r}") from exc

    def display(self) -> str:
        """A human-readable value (metrics unscaled) for verdicts."""
        if self.kind == "metric":
            return (
                f"{self.fields['name']}={merkle.unscale_metric(int(self.fields['value']))} @ step {self.fields['step']}"
            )
        return canonical_json(dict(self.fields))

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "fields": dict(self.fields)}


@dataclass(frozen=True)
class RunManifest:
    """The manifest of one run of one pipeline. Build with :meth:`from_export`, load with :meth:`from_bytes`."""

    pipeline: str
    run_id: int
    items: tuple[ManifestItem, ...] = field(default_factory=tuple)
    version: int = MANIFEST_VERSION

    def __post_init__(self) -> None:
        if isinstance(self.version, bool) or self.version not in TREE_LAYOUTS:
            supported = ", ".join(map(str, TREE_LAYOUTS))
            raise ValidationError(f"unsupported manifest version {self.version!r} (supported: {supported})")
        keys = [item.key for item in self.items]
        if len(set(keys)) != len(keys):
            raise ValidationError(f"manifest of run {self.run_id} has duplicate keys")
        object.__setattr__(self, "items", tuple(sorted(self.items, key=lambda i: i.key)))

    # --- identity ---------------------------------------------------------------------------------------------------
    @cached_property
    def pipeline_id(self) -> bytes:
        return merkle.pipeline_id(self.pipeline)

    @cached_property
    def by_key(self) -> dict[str, ManifestItem]:
        return {item.key: item for item in self.items}

    def item(self, key: str) -> ManifestItem:
        try:
            return self.by_key[key]
        except KeyError:
            near = [k for k in self.by_key if k.split(":", 1)[0] == key.split(":", 1)[0]][:5]
            hint = f"; keys of that kind include {', '.join(near)}" if near else ""
            raise ManifestItemNotFoundError(f"run {self.run_id} recorded no item {key!r}{hint}") from None

    # --- Merkle -----------------------------------------------------------------------------------------------------
    @cached_property
    def leaves(self) -> dict[str, bytes]:
        pid = self.pipeline_id
        return {item.key: item.leaf(pid, self.run_id) for item in self.items}

    @cached_property
    def tree(self) -> merkle.SortedPairTree:
        """The Merkle tree in this manifest format's layout (:data:`TREE_LAYOUTS`)."""
        return TREE_LAYOUTS[self.version](list(self.leaves.values()))

    @property
    def root(self) -> bytes:
        return self.tree.root

    def proof(self, key: str) -> tuple[bytes, list[bytes]]:
        """``(leaf, proof)`` of one item."""
        self.item(key)
        leaf = self.leaves[key]
        return leaf, self.tree.proof(leaf)

    # --- comparison -------------------------------------------------------------------------------------------------
    def diff(self, other: RunManifest) -> list[str]:
        """Keys whose item differs, appears or disappears between ``self`` and ``other`` (sorted)."""
        changed = {
            key for key in self.by_key.keys() | other.by_key.keys() if self.by_key.get(key) != other.by_key.get(key)
        }
        if (self.pipeline, self.run_id) != (other.pipeline, other.run_id):
            changed.add("run")
        return sorted(changed)

    # --- serialization ----------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "pipeline": self.pipeline,
            "pipelineId": "0x" + self.pipeline_id.hex(),
            "runId": self.run_id,
            "items": [item.to_json() for item in self.items],
        }

    def to_bytes(self) -> bytes:
        return self._bytes

    @cached_property
    def _bytes(self) -> bytes:
        return canonical_json(self.to_json()).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> RunManifest:
        """Parse manifest bytes fetched from anywhere (they are untrusted until the root is compared with the anchor).

        Anything that is not a well-formed manifest — bad JSON, absurd nesting, wrong field types, an item whose leaf
        cannot be computed — is a :class:`ValidationError`. The Merkle root is computed here, so a manifest that
        parses can always be verified.
        """
        try:
            doc = json.loads(data)
            if not isinstance(doc, dict):
                raise ValidationError(f"not a run manifest: a JSON {type(doc).__name__}, not an object")
            version = doc.get("version")
            if not isinstance(version, int) or isinstance(version, bool) or version not in TREE_LAYOUTS:
                raise ValidationError(f"unsupported manifest version {version!r}")
            pipeline, run_id = doc["pipeline"], doc["runId"]
            if not isinstance(pipeline, str) or not pipeline:
                raise ValidationError("not a run manifest: pipeline must be a non-empty string")
            if not isinstance(run_id, int) or isinstance(run_id, bool):
                raise ValidationError("not a run manifest: runId must be an integer")
            items = tuple(ManifestItem(i["key"], i["kind"], dict(i["fields"])) for i in doc["items"])
            manifest = cls(pipeline=pipeline, run_id=run_id, items=items, version=version)
            manifest.root  # noqa: B018 -- every item must have a computable leaf
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError) as exc:
            # ValueError covers JSONDecodeError and UnicodeDecodeError; RecursionError is absurd nesting
            raise ValidationError(f"not a run manifest: {type(exc).__name__}: {str(exc)[:200]}") from exc
        if doc.get("pipelineId") != "0x" + manifest.pipeline_id.hex():
            raise ValidationError("manifest pipelineId does not match keccak256(pipeline)")
        return manifest

    @classmethod
    def from_export(
        cls, pipeline: str, run_id: int, export: Mapping[str, Any], *, version: int = MANIFEST_VERSION
    ) -> RunManifest:
        """The manifest of ``export_run(run_id)``; every section of the export ends up in some leaf.

        ``version`` selects an older format (to re-export a run the way its archived manifest was written).
        """
        items: list[ManifestItem] = []
        seen: dict[str, int] = {}

        def add(key: str, kind: str, fields: dict[str, Any]) -> None:
            seen[key] = seen.get(key, 0) + 1
            items.append(ManifestItem(key if seen[key] == 1 else f"{key}#{seen[key]}", kind, fields))

        for section, content in sorted(export.items()):
            builder = _SECTION_BUILDERS.get(section)
            if builder is not None:
                for key, kind, fields in builder(content):
                    add(key, kind, fields)
            else:
                for index, value in enumerate(_as_list(content)):
                    add(f"entry:{section}:{index}", "entry", {"details": canonical_json(value)})
        if not any(item.kind == "run" for item in items):
            add("run", "run", {"details": canonical_json({"id": run_id})})
        return cls(pipeline=pipeline, run_id=run_id, items=tuple(items), version=version)


# --- export sections -> items ---------------------------------------------------------------------------------------
Built = Iterable[tuple[str, str, dict[str, Any]]]


def _as_list(content: Any) -> list[Any]:
    if isinstance(content, Mapping):
        return [{"name": k, "value": v} for k, v in sorted(content.items())]
    if isinstance(content, list | tuple):
        return list(content)
    return [content]


def _first(record: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    for name in names:
        if name in record and record[name] is not None:
            return record[name]
    return default


#: Fields that legitimately change after a run ended (the store sets ``runs.hash`` to the root; a later run that
#: consumes an artifact moves its state and ``consumed_run_id``; retries count ``attempts``): never anchored.
VOLATILE_RUN_FIELDS = frozenset({"hash"})
VOLATILE_ARTIFACT_FIELDS = frozenset({"state", "consumed_run_id", "attempts", "retry_at", "quarantine_reason"})


def _run(content: Any) -> Built:
    row = {k: v for k, v in dict(content).items() if k not in VOLATILE_RUN_FIELDS}
    yield "run", "run", {"details": canonical_json(row)}


def _nodes(content: Any) -> Built:
    for record in _as_list(content):
        name = str(_first(record, "node_name", "node", "name", default="?"))
        yield f"node:{name}", "node", {"name": name, "details": canonical_json(record)}


def _metrics(content: Any) -> Built:
    for record in _as_list(content):
        name = str(_first(record, "key", "name"))
        step = _first(record, "step")
        value = merkle.scale_metric(_first(record, "value"))
        key = f"metric:{name}" if step is None else f"metric:{name}@{int(step)}"
        yield key, "metric", {"name": name, "value": str(value), "step": int(step or 0)}


def _named_values(kind: str) -> Any:
    def build(content: Any) -> Built:
        for record in _as_list(content):
            name = str(_first(record, "name", "key"))
            yield f"{kind}:{name}", kind, {"name": name, "value": canonical_json(record.get("value"))}

    return build


_ARTIFACT_TYPED = ("sha256", "size", "cid")


def _artifacts(content: Any) -> Built:
    """``{"consumed": [...], "produced": [...]}`` or a flat list; keys ``artifact:<relation>:<resource>:<location>``."""
    groups = content.items() if isinstance(content, Mapping) else [("", content)]
    for relation, records in sorted(groups):
        for record in _as_list(records):
            location = str(_first(record, "location", "path", "uri", "name", default=""))
            resource = str(_first(record, "resource", default=""))
            sha = str(_first(record, "sha256", default="")).removeprefix("0x")
            if len(sha) != 64:
                raise ValidationError(f"artifact {location!r} has no sha256 in the export; cannot anchor it")
            rest = {k: v for k, v in record.items() if k not in _ARTIFACT_TYPED and k not in VOLATILE_ARTIFACT_FIELDS}
            key = ":".join(part for part in ("artifact", relation, resource, location) if part)
            fields = {
                "location": location,
                "sha256": sha,
                "size": int(_first(record, "size", default=0)),
                "cid": str(_first(record, "cid", default="")),
                "details": canonical_json(rest),
            }
            yield key, "artifact", fields


def _lineage(content: Any) -> Built:
    for text in sorted(canonical_json(record) for record in _as_list(content)):
        yield f"lineage:{merkle.keccak_hex(text)[:16]}", "lineage", {"details": text}


def _executions(content: Any) -> Built:
    """One ``execution:NODE`` item per node run: status, cache key, code fingerprint facts, reuse."""
    for record in _as_list(content):
        yield f"execution:{_first(record, 'node', default='?')}", "entry", {"details": canonical_json(record)}


def _outputs(content: Any) -> Built:
    """One ``output:RESOURCE:LOCATION`` lineage item per output: what it was derived from, by which execution."""
    for record in _as_list(content):
        key = f"output:{_first(record, 'resource', default='')}:{_first(record, 'location', default='')}"
        yield key, "lineage", {"details": canonical_json(record)}


_SECTION_BUILDERS: dict[str, Any] = {
    "run": _run,
    "nodes": _nodes,
    "node_results": _nodes,
    "metrics": _metrics,
    "params": _named_values("param"),
    "tags": _named_values("tag"),
    "artifacts": _artifacts,
    "lineage": _lineage,
    "executions": _executions,
    "outputs": _outputs,
}
