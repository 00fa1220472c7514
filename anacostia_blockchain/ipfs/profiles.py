"""Import profiles and option resolution, mirroring Kubo's ``ipfs add`` flags and ``Import.*`` profiles.

Precedence is Kubo's: an explicit flag beats the profile, the profile beats the defaults, and ``raw_leaves``
defaults to ``True`` exactly when the resolved CID version is 1 (``--cid-version=1`` implies ``--raw-leaves``).

Every field of :class:`ImportOptions` changes CIDs; together they are what IPIP-499 calls a *CID profile*. The
directory fields follow Kubo's ``Import.UnixFS*`` settings: a basic directory becomes a HAMT shard when its size
estimate exceeds ``hamt_threshold`` (``"links"``: link names + CID bytes, Kubo's default and ``unixfs-v0-2015``;
``"block"``: the encoded dag-pb block, ``unixfs-v1-2025``; ``"disabled"``: only ``max_directory_links`` counts)
or when it has more than ``max_directory_links`` entries (0: no limit). Kubo 0.40 and Helia shard only *above*
the threshold; Kubo before 0.40 (boxo before IPIP-499) also at exactly the threshold: ``shard_at_threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import ConfigurationError

DEFAULT_CHUNK_SIZE = 256 * 1024
#: Kubo refuses chunks larger than this (a block must fit in a bitswap message).
MAX_CHUNK_SIZE = 2 * 1024 * 1024 - 256
#: Kubo's estimated-size threshold above which a directory becomes a HAMT shard.
HAMT_THRESHOLD_BYTES = 256 * 1024
#: Kubo's (and the UnixFS spec's) HAMT fan-out; the spec allows powers of two from 8 to 1024.
DEFAULT_HAMT_FANOUT = 256
HAMT_ESTIMATIONS = ("links", "block", "disabled")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """How bytes become a UnixFS DAG. Immutable; use :meth:`resolve` to build one from Kubo-style flags."""

    cid_version: int = 0
    raw_leaves: bool = False
    chunk_size: int = DEFAULT_CHUNK_SIZE
    max_links: int = 174
    max_directory_links: int = 0
    hamt_fanout: int = DEFAULT_HAMT_FANOUT
    hamt_threshold: int = HAMT_THRESHOLD_BYTES
    hamt_estimation: str = "links"
    shard_at_threshold: bool = False
    empty_dirs: bool = True

    def __post_init__(self) -> None:
        if self.cid_version not in (0, 1):
            raise ConfigurationError(f"cid_version must be 0 or 1, got {self.cid_version!r}")
        if not 1 <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise ConfigurationError(f"chunk size must be between 1 and {MAX_CHUNK_SIZE} bytes, got {self.chunk_size}")
        if self.max_links < 2:
            raise ConfigurationError(f"max_links must be at least 2, got {self.max_links}")
        if self.max_directory_links < 0:
            raise ConfigurationError(
                f"max_directory_links must be 0 (no limit) or more, got {self.max_directory_links}"
            )
        fanout = self.hamt_fanout
        if not 8 <= fanout <= 1024 or fanout & (fanout - 1):
            raise ConfigurationError(f"hamt_fanout must be a power of two between 8 and 1024, got {fanout}")
        if self.hamt_threshold < 0:
            raise ConfigurationError(f"hamt_threshold must be 0 (never shard) or more bytes, got {self.hamt_threshold}")
        if self.hamt_estimation not in HAMT_ESTIMATIONS:
            raise ConfigurationError(
                f"hamt_estimation must be one of {', '.join(HAMT_ESTIMATIONS)}, got {self.hamt_estimation!r}"
            )

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
        **directory: object,
    ) -> ImportOptions:
        if profile is not None and profile not in PROFILES:
            raise ConfigurationError(f"unknown profile {profile!r}: choose from {', '.join(PROFILES)}")
        unknown = set(directory) - set(DIRECTORY_FLAGS)
        if unknown:
            raise ConfigurationError(f"unknown import options: {', '.join(sorted(unknown))}")
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
            **{key: value for key, value in directory.items() if value is not None},  # type: ignore[arg-type]
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
    "unixfs-v0-2015": ImportOptions(cid_version=0, raw_leaves=False, chunk_size=DEFAULT_CHUNK_SIZE, max_links=174,
                                    hamt_estimation="links"),
    # Kubo's IPIP-499 profile (Kubo >= 0.40).
    "unixfs-v1-2025": ImportOptions(cid_version=1, raw_leaves=True, chunk_size=1024 * 1024, max_links=1024,
                                    hamt_estimation="block"),
}


#: The directory-shaping keyword flags :meth:`ImportOptions.resolve` accepts besides the file ones.
DIRECTORY_FLAGS = ("max_directory_links", "hamt_fanout", "hamt_threshold", "hamt_estimation", "shard_at_threshold",
                   "empty_dirs")


def resolve_options(options: ImportOptions | None = None, **flags: object) -> ImportOptions:
    """Return ``options`` unchanged, or build one from Kubo-style keyword flags (``profile``, ``cid_version``…)."""
    if options is not None:
        if flags and any(v is not None for v in flags.values()):
            raise ConfigurationError("pass either an ImportOptions or keyword flags, not both")
        return options
    known = {"profile", "cid_version", "raw_leaves", "chunker", "chunk_size", "max_links", *DIRECTORY_FLAGS}
    unknown = set(flags) - known
    if unknown:
        raise ConfigurationError(f"unknown import options: {', '.join(sorted(unknown))}")
    profile = flags.get("profile")
    if profile is not None and profile not in PROFILES:
        raise ConfigurationError(f"unknown profile {profile!r}: choose from {', '.join(PROFILES)}")
    return ImportOptions.resolve(**flags)  # type: ignore[arg-type]
