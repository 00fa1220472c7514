"""``ContentRef``: a piece of content by reference — its CID, sha256 and size, and where a pipeline recorded it.

Artefact documents never embed content; they point at it. A reference is enough to fetch the bytes from any IPFS
node (``cid``), to check them (``sha256``, ``size``) and to find the artifact version a run recorded
(``resource``, ``location``). Its :attr:`ContentRef.id` is the CID, or ``sha256:<hex>`` for content that has none.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..engine import Artifact
from ..errors import ArtefactNotFoundError, ValidationError
from ..ipfs import compute_cid

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class ContentRef:
    """Content by reference (see the module docstring). ``cid`` may be ``None`` for content that was never added
    to IPFS; ``resource``/``location`` say where a pipeline recorded it (``None`` when it did not)."""

    sha256: str
    size: int
    cid: str | None = None
    resource: str | None = None
    location: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.sha256, str) or not _SHA256.fullmatch(self.sha256):
            raise ValidationError(f"a content reference needs a sha256 of 64 lowercase hex digits, got {self.sha256!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise ValidationError(f"a content reference needs a size >= 0, got {self.size!r}")

    @property
    def id(self) -> str:
        """The CID, else ``sha256:<hex>``: how artefacts and relationships name this content."""
        return self.cid or f"sha256:{self.sha256}"

    @classmethod
    def of_bytes(cls, data: bytes, *, cid: str | None = None, resource: str | None = None,
                 location: str | None = None) -> ContentRef:
        """The reference of ``data`` (its CID computed as ``ipfs add`` does by default, unless given)."""
        return cls(hashlib.sha256(data).hexdigest(), len(data), cid or compute_cid(data), resource, location)

    @classmethod
    def of_artifact(cls, artifact: Artifact, read: Callable[[Artifact], bytes] | None = None) -> ContentRef:
        """The reference of a recorded artifact version. An artifact without a CID gets one computed from its
        content when ``read`` (e.g. ``resource.read_bytes``) is given."""
        cid = artifact.cid
        if cid is None and read is not None:
            cid = compute_cid(read(artifact))
        return cls(artifact.sha256, artifact.size, cid, artifact.resource, artifact.location)

    def matches(self, artifact: Artifact) -> bool:
        """Whether ``artifact`` is this content (same sha256, and the same CID when both have one)."""
        return artifact.sha256 == self.sha256 and (self.cid is None or artifact.cid in (None, self.cid))

    def check(self, data: bytes) -> None:
        """Raise :class:`ValidationError` unless ``data`` is exactly this content."""
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256 or len(data) != self.size:
            raise ValidationError(
                f"content {self.id} does not match its reference: sha256 {digest[:16]}..., {len(data)} bytes "
                f"(expected {self.sha256[:16]}..., {self.size} bytes)"
            )

    def fetch(self, cat: Callable[[str], bytes]) -> bytes:
        """The content fetched by CID with ``cat`` (e.g. a content store's ``cat``), checked against the reference."""
        if self.cid is None:
            raise ArtefactNotFoundError(f"content sha256:{self.sha256} has no CID: it cannot be fetched from IPFS")
        data = cat(self.cid)
        self.check(data)
        return data

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"sha256": self.sha256, "size": self.size, "cid": self.cid}
        if self.resource is not None:
            data["resource"] = self.resource
        if self.location is not None:
            data["location"] = self.location
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ContentRef:
        if not isinstance(data, Mapping):
            raise ValidationError(f"a content reference is a JSON object, got {type(data).__name__}")
        try:
            return cls(str(data["sha256"]), data["size"], _optional_str(data.get("cid")),
                       _optional_str(data.get("resource")), _optional_str(data.get("location")))
        except KeyError as exc:
            raise ValidationError(f"a content reference needs {exc.args[0]!r}") from None


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)
