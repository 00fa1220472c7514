"""Import profiles and option resolution, mirroring Kubo's ``ipfs add`` flags and ``Import.*`` profiles.

Precedence is Kubo's: an explicit flag beats the profile, the profile beats the defaults, and ``raw_leaves``
defaults to ``True`` exactly when the resolved CID version is 1 (``--cid-version=1`` implies ``--raw-leaves``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import ConfigurationError

DEFAULT_CHUNK_SIZE = 256 * 1024
#: Kubo refuses chunks larger than this (a block must fit in a bitswap message).
MAX_CHUNK_SIZE = 2 * 1024 * 1024 - 256
#: Kubo's estimated-size threshold above which a directory becomes a HAMT shard.
HAMT_THRESHOLD_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How bytes become a UnixFS DAG. Immutable; use :meth:`resolve` to build one from Kubo-style flags."""

    cid_version: int = 0
    raw_leaves: bool = False
    chunk_size: int = DEFAULT_CHUNK_SIZE
    max_links: int = 174

    def __post_init__(self) -> None:
        if self.cid_version not in (0, 1):
            raise ConfigurationError(f"cid_version must be 0 or 1, got {self.cid_version!r}")
        if not 1 <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise ConfigurationError(f"chunk size must be between 1 and {MAX_CHUNK_SIZE} bytes, got {self.chunk_size}")
        if self.max_links < 2:
            raise ConfigurationError(f"max_links must be at least 2, got {self.max_links}")

    @classmethod
    def resolve(
        cls,
        *,
        profile: str | None = None,
        cid_version: int | None = None,
        raw_leaves: bool | None = None,
        chunker: str | None = None,
        chunk_size: int | None = None,
        max_links: int | None = None,
    ) -> ImportOptions:
        if profile is not None and profile not in PROFILES:
            raise ConfigurationError(f"unknown profile {profile!r}: choose from {', '.join(PROFILES)}")
        base = PROFILES[profile or DEFAULT_PROFILE]
        version = base.cid_version if cid_version is None else int(cid_version)
        if raw_leaves is None:
            raw_leaves = version == 1 if cid_version is not None else base.raw_leaves
        size = base.chunk_size
        if chunker is not None:
            size = parse_chunker(chunker)
        if chunk_size is not None:
            size = chunk_size
        return replace(
            base,
            cid_version=version,
            raw_leaves=bool(raw_leaves),
            chunk_size=size,
            max_links=base.max_links if max_links is None else max_links,
        )


def parse_chunker(spec: str) -> int:
    """Parse Kubo's fixed-size chunker spec (``size-262144``). Content-defined chunkers are refused clearly."""
    if spec.startswith("size-"):
        try:
            size = int(spec[5:])
        except ValueError:
            raise ConfigurationError(f"invalid chunker {spec!r}: size must be an integer") from None
        if not 1 <= size <= MAX_CHUNK_SIZE:
            raise ConfigurationError(f"invalid chunker {spec!r}: size must be between 1 and {MAX_CHUNK_SIZE}")
        return size
    if spec.startswith(("rabin", "buzhash")):
        raise ConfigurationError(f"chunker {spec!r} is not supported: only fixed-size chunkers ('size-N') are")
    raise ConfigurationError(f"invalid chunker {spec!r}: expected 'size-N'")


DEFAULT_PROFILE = "unixfs-v0-2015"

PROFILES: dict[str, ImportOptions] = {
    # Kubo's historical defaults.
    "unixfs-v0-2015": ImportOptions(cid_version=0, raw_leaves=False, chunk_size=DEFAULT_CHUNK_SIZE, max_links=174),
    # Kubo's IPIP-499 profile (Kubo >= 0.38).
    "unixfs-v1-2025": ImportOptions(cid_version=1, raw_leaves=True, chunk_size=1024 * 1024, max_links=1024),
}


def resolve_options(options: ImportOptions | None = None, **flags: object) -> ImportOptions:
    """Return ``options`` unchanged, or build one from Kubo-style keyword flags (``profile``, ``cid_version``…)."""
    if options is not None:
        if flags and any(v is not None for v in flags.values()):
            raise ConfigurationError("pass either an ImportOptions or keyword flags, not both")
        return options
    unknown = set(flags) - {"profile", "cid_version", "raw_leaves", "chunker", "chunk_size", "max_links"}
    if unknown:
        raise ConfigurationError(f"unknown import options: {', '.join(sorted(unknown))}")
    profile = flags.get("profile")
    if profile is not None and profile not in PROFILES:
        raise ConfigurationError(f"unknown profile {profile!r}: choose from {', '.join(PROFILES)}")
    return ImportOptions.resolve(**flags)  # type: ignore[arg-type]
