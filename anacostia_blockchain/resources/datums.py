"""Datums: the units of work a set of input resources yields, from globs with named capture groups.

A resource's files are described by a glob whose ``{name}`` parts capture one path segment each::

    GlobPattern("plates/{plate}/{well}.tif").match("plates/P1/A01.tif") == {"plate": "P1", "well": "A01"}

(``*`` matches within one segment, ``**`` any number of segments; captures never span a ``/``.) A watched folder
declares one with ``FilesystemStoreNode(..., glob="plates/{plate}/{well}.tif")``: files that do not match are not
its content. :class:`Input` pairs a resource with a glob (its own, unless given) and an ``optional`` flag.

Combining inputs (as Pachyderm does):

- :func:`join` — one datum per combination of artifacts that agree on every capture group they share (by default
  joined on the groups common to all inputs); every input must be present unless declared ``optional``, and an
  artifact whose path does not match its glob takes part in nothing;
- :func:`cross` — every combination of one artifact per input;
- :func:`union` — every artifact of every input on its own.

A :class:`Datum` is plain, picklable data: its groups and, per input, the artifact by reference (resource,
location, sha256, CID), so it can be handed to another process. :func:`process_datums` runs a function on each datum
of an action as a cached work unit (``BaseActionNode.run_units``): a datum whose inputs have the same content as in
an earlier successful execution is not processed again — its outputs are linked from that execution — so only new
datums and datums whose inputs changed are processed.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..engine import Artifact, ArtifactState, BaseResourceNode, UnitReport, WorkUnit
from ..errors import ConfigurationError

if TYPE_CHECKING:
    from ..engine import BaseActionNode

_TOKEN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}|\*\*/?|\*|[^{}*]+")


@dataclass(frozen=True)
class GlobPattern:
    """A path glob with named capture groups (see the module docstring)."""

    pattern: str
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    groups: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str) or not self.pattern or self.pattern.startswith("/"):
            raise ConfigurationError(f"glob {self.pattern!r} must be a non-empty relative path pattern")
        parts: list[str] = []
        names: list[str] = []
        position = 0
        for token in _TOKEN.finditer(self.pattern):
            if token.start() != position:
                break
            position = token.end()
            text = token.group(0)
            if token.group(1):
                if token.group(1) in names:
                    raise ConfigurationError(f"glob {self.pattern!r} captures {token.group(1)!r} twice")
                names.append(token.group(1))
                parts.append(f"(?P<{token.group(1)}>[^/]+)")
            elif text.startswith("**"):
                parts.append("(?:.*/)?" if text.endswith("/") else ".*")
            elif text == "*":
                parts.append("[^/]*")
            else:
                parts.append(re.escape(text))
        if position != len(self.pattern):
            raise ConfigurationError(
                f"glob {self.pattern!r}: unbalanced or empty braces at position {position} (captures are {{name}})"
            )
        object.__setattr__(self, "regex", re.compile("".join(parts)))
        object.__setattr__(self, "groups", tuple(names))

    def match(self, location: str) -> dict[str, str] | None:
        """The captured groups when ``location`` matches the whole pattern, else ``None``."""
        found = self.regex.fullmatch(location)
        return None if found is None else found.groupdict()


def as_glob(glob: str | GlobPattern | None) -> GlobPattern | None:
    return glob if isinstance(glob, GlobPattern) or glob is None else GlobPattern(glob)


@dataclass(frozen=True)
class Input:
    """A resource taking part in a datum set: its glob (default: the resource's own ``glob``) and whether it may be
    missing from a datum (``optional``). ``name`` (default: the resource's) names it in each datum."""

    resource: BaseResourceNode
    glob: str | GlobPattern | None = None
    optional: bool = False
    name: str | None = None

    @property
    def key(self) -> str:
        return self.name or self.resource.name

    @property
    def pattern(self) -> GlobPattern:
        pattern = as_glob(self.glob) or as_glob(getattr(self.resource, "glob", None))
        if pattern is None:
            raise ConfigurationError(f"input {self.key!r}: give a glob (or declare one on the resource)")
        return pattern

    def matched(self) -> list[tuple[Artifact, dict[str, str]]]:
        """The resource's present artifacts (``current`` and ``old``, newest version per location) that match the
        glob, with their groups, in location order (read through the resource's API, so they are recorded as
        read)."""
        pattern = self.pattern
        latest: dict[str, Artifact] = {}
        for state in (ArtifactState.OLD, ArtifactState.CURRENT):
            for artifact in self.resource.list_artifacts(state):
                if artifact.location not in latest or latest[artifact.location].id < artifact.id:
                    latest[artifact.location] = artifact
        found = []
        for location in sorted(latest):
            groups = pattern.match(location)
            if groups is not None:
                found.append((latest[location], groups))
        return found


@dataclass(frozen=True, slots=True)
class Datum:
    """One unit of work: its capture groups and, per input name, the artifact (``None``: an optional input that is
    missing). Plain data: picklable, refers to content by reference."""

    groups: tuple[tuple[str, str], ...]
    inputs: tuple[tuple[str, Artifact | None], ...]

    @property
    def name(self) -> str:
        """A stable, unique name: each input's name and location."""
        return ";".join(f"{key}={a.location}" for key, a in self.inputs if a is not None)

    @property
    def group(self) -> dict[str, str]:
        return dict(self.groups)

    def artifact(self, input_name: str) -> Artifact | None:
        """The artifact of ``input_name`` (``None`` when that optional input is missing)."""
        for key, artifact in self.inputs:
            if key == input_name:
                return artifact
        raise KeyError(f"datum {self.name!r} has no input {input_name!r}; it has {[k for k, _ in self.inputs]}")

    @property
    def artifacts(self) -> tuple[Artifact, ...]:
        return tuple(a for _, a in self.inputs if a is not None)

    def unit(self) -> WorkUnit:
        """The cached work unit of this datum: keyed on its inputs' content and on its groups and input names
        (which decide where its outputs go)."""
        present = [key for key, artifact in self.inputs if artifact is not None]
        return WorkUnit(self.name, self.artifacts, {"datum": {"groups": dict(self.groups), "inputs": present}})


Choice = tuple[str, "Artifact | None", dict[str, str]]


def _options(item: Input, matched: Sequence[tuple[Artifact, dict[str, str]]], *, missing_ok: bool) -> list[Choice]:
    """One input's choices: its matched artifacts, or ``None`` for a missing optional input."""
    found: list[Choice] = [(item.key, artifact, groups) for artifact, groups in matched]
    return found or ([(item.key, None, {})] if missing_ok else [])


def _merged(chosen: Sequence[tuple[str, Artifact | None, dict[str, str]]]) -> dict[str, str] | None:
    """The groups of a combination, or ``None`` when two of its artifacts disagree on a shared group."""
    merged: dict[str, str] = {}
    for _, _, groups in chosen:
        for name, value in groups.items():
            if merged.setdefault(name, value) != value:
                return None
    return merged


def _datum(chosen: Sequence[tuple[str, Artifact | None, dict[str, str]]]) -> Datum | None:
    merged = _merged(chosen)
    if merged is None:
        return None
    return Datum(tuple(sorted(merged.items())), tuple((key, artifact) for key, artifact, _ in chosen))


def _checked(inputs: Sequence[Input]) -> None:
    keys = [item.key for item in inputs]
    if not inputs:
        raise ConfigurationError("datums need at least one input")
    if len(set(keys)) != len(keys):
        raise ConfigurationError(f"datum inputs need distinct names, got {keys}")


def join(*inputs: Input, on: Sequence[str] | None = None) -> list[Datum]:
    """Datums of ``inputs`` joined on the capture groups ``on`` (default: those every input's glob captures)."""
    _checked(inputs)
    patterns = [item.pattern for item in inputs]
    keys = list(on) if on is not None else [g for g in patterns[0].groups if all(g in p.groups for p in patterns)]
    if not keys:
        raise ConfigurationError(
            "join: the inputs' globs share no capture group; name the groups to join on, or use cross()"
        )
    for item, pattern in zip(inputs, patterns, strict=True):
        missing = [g for g in keys if g not in pattern.groups]
        if missing:
            raise ConfigurationError(f"join: input {item.key!r} ({pattern.pattern}) does not capture {missing}")
    buckets: list[dict[tuple[str, ...], list[tuple[Artifact, dict[str, str]]]]] = []
    for item in inputs:
        bucket: dict[tuple[str, ...], list[tuple[Artifact, dict[str, str]]]] = {}
        for artifact, groups in item.matched():
            bucket.setdefault(tuple(groups[g] for g in keys), []).append((artifact, groups))
        buckets.append(bucket)
    required = [b for item, b in zip(inputs, buckets, strict=True) if not item.optional]
    candidates = set().union(*(b.keys() for b in (required or buckets)))
    datums: list[Datum] = []
    for value in sorted(candidates):
        if any(value not in bucket for bucket in required):
            continue  # a required input is missing for this key
        options = [_options(item, bucket.get(value, []), missing_ok=True)
                   for item, bucket in zip(inputs, buckets, strict=True)]
        datums += [d for combo in itertools.product(*options) if (d := _datum(combo)) is not None]
    return datums


def cross(*inputs: Input) -> list[Datum]:
    """Every combination of one matching artifact per input (combinations disagreeing on a shared group are left
    out); an optional input with no artifact contributes ``None``."""
    _checked(inputs)
    options = [_options(item, item.matched(), missing_ok=item.optional) for item in inputs]
    return [d for combo in itertools.product(*options) if (d := _datum(combo)) is not None]


def union(*inputs: Input) -> list[Datum]:
    """Every matching artifact of every input, one datum each."""
    _checked(inputs)
    return [Datum(tuple(sorted(g.items())), ((item.key, a),)) for item in inputs for a, g in item.matched()]


def process_datums(
    node: BaseActionNode, datums: Iterable[Datum], fn: Callable[[Datum], bool | None],
    params: Mapping[str, Any] | None = None,
) -> UnitReport:
    """Inside ``node.execute()``: run ``fn(datum)`` for every datum that is new or whose inputs changed; the others
    are reused from their earlier execution (see the module docstring). ``params`` join every datum's cache key."""
    by_name: dict[str, Datum] = {}
    units = []
    for datum in datums:
        unit = datum.unit()
        if params:
            unit = WorkUnit(unit.name, unit.inputs, {**unit.params, "params": dict(params)})
        by_name[unit.name] = datum
        units.append(unit)
    return node.run_units(units, lambda unit: fn(by_name[unit.name]))
