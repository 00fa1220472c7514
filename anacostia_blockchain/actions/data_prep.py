"""``DataPrepNode``: validate, clean and encrypt incoming LLM training data before it is stored.

The node of seed 000's pipeline ("validate, clean and encrypt the incoming new data to the LLM"). For every input
file the run consumed, in one streaming pass:

1. **validate** each record against a :class:`~.data_prep_schema.RecordSchema` (JSONL, CSV or TSV by suffix);
2. **clean** it: text fields through :class:`~.data_prep_cleaning.TextCleaner` (Unicode NFC, invisible characters,
   whitespace), then length bounds, then **dedupe** across every file of the run;
3. write the cleaned records as JSONL, compute the plaintext's CID (UnixFS, Kubo-identical), and **encrypt** it with
   a fresh data key into an envelope (:mod:`anacostia_blockchain.crypto.envelope`) whose header is bound to that CID
   and holds the data key wrapped for ``recipient_public_keys`` (secp256k1, e.g. the operator's Ethereum key);
4. hand the envelope to the output resource (``save_artifact``), which records it as produced by this run and node,
   ``derived_from`` exactly its input file (the node lists every input of the run, but each output's records come
   from one file; which duplicates were dropped depends on the files before it, all among the run's consumed inputs).

A bad file never fails the run: the first problem found (``line 17: field 'text' is missing``) becomes the reason,
the file is moved to ``quarantine_dir/run-<id>/<location>`` with a ``.reason.json`` next to it, and the run goes on
with the next file. The reasons are also recorded in the metadata store (tag ``<node>.quarantine``) with counters
(``files_ok``, ``files_quarantined``, ``records_in``, ``records_out``, ``duplicates_dropped``). Nothing is half-done:
cleaned and encrypted outputs are staged in a work directory and only a complete envelope is saved. Errors that are
not the data's fault (the output store is down, the disk is full) raise, so the engine retries the node.

Data keys exist only in memory for the duration of one file; only their wrapped forms are stored. At least one
recipient is required, otherwise the data would be unrecoverable.

Hooks for subclasses: :meth:`DataPrepNode.open_input` / :meth:`DataPrepNode.input_file` (how to read an input
artifact), :meth:`DataPrepNode.save_output` (how to store an envelope), :meth:`DataPrepNode.output_name`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..crypto import DataKey, encrypt_file, normalize_public_key
from ..crypto.atomic_file import atomic_output
from ..crypto.envelope import DEFAULT_CHUNK_SIZE
from ..engine.action import BaseActionNode
from ..engine.artifact import Artifact
from ..engine.node import BaseNode
from ..engine.resource import BaseResourceNode
from ..errors import ArtifactWriteError, ConfigurationError, ResourceError, ValidationError
from ..ipfs.importer import import_file
from ..resources.filesystem import FilesystemStoreNode
from ..resources.ipfs_store import IPFSStoreNode
from .data_prep_cleaning import Deduplicator, TextCleaner
from .data_prep_schema import RecordSchema, detect_format, iter_records

ENVELOPE_SUFFIX = ".enc"


@dataclass
class FileOutcome:
    """What happened to one input file."""

    location: str
    records_in: int = 0
    records_out: int = 0
    duplicates: int = 0
    output: Artifact | None = None
    quarantine_reason: str | None = None


class DataPrepNode(BaseActionNode):
    """Validate -> clean -> encrypt every input file of the run into ``output_resource`` (see the module docs).

    ``input_resource`` / ``output_resource``: where files come from and where envelopes go (both become
    predecessors). ``schema``: the record schema. ``recipient_public_keys``: secp256k1 public keys (33, 64 or 65
    bytes) that receive each file's data key; at least one. ``quarantine_dir``: where bad files are moved.
    ``dedupe_fields``: the fields that make two records duplicates (``None``: the whole record). ``cleaner``: the
    text normalisation (default :class:`TextCleaner`: NFC, invisibles, whitespace). ``cid_options``: the UnixFS
    import options for the plaintext CID bound into each envelope (default: Kubo's defaults, CIDv0).
    ``chunk_size``: the envelope's chunk size. ``default_format`` (``"jsonl"``, ``"csv"``, ``"tsv"``): the format
    of inputs whose name has no known suffix (IPFS inputs named by CID); without it they are quarantined.
    ``work_dir``: where files are staged (default: a private temporary directory removed at teardown).
    """

    def __init__(
        self,
        name: str,
        input_resource: BaseResourceNode,
        output_resource: BaseResourceNode,
        *,
        schema: RecordSchema,
        recipient_public_keys: Sequence[bytes],
        quarantine_dir: str | os.PathLike[str],
        predecessors: Sequence[BaseNode] = (),
        cleaner: TextCleaner | None = None,
        dedupe_fields: Sequence[str] | None = None,
        cid_options: dict[str, Any] | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        default_format: str | None = None,
        work_dir: str | os.PathLike[str] | None = None,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        max_retries: int | None = None,
        retry_backoff: float | None = None,
    ) -> None:
        super().__init__(
            name,
            [input_resource, output_resource, *predecessors],
            loggers,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
        )
        if not recipient_public_keys:
            raise ConfigurationError(
                f"{name}: recipient_public_keys is empty; the encrypted data would be unrecoverable"
            )
        unknown = [f for f in dedupe_fields or () if f not in schema.field_names]
        if unknown:
            raise ConfigurationError(f"{name}: dedupe_fields {unknown} are not in the schema")
        self.input_resource = input_resource
        self.output_resource = output_resource
        self.schema = schema
        self.recipient_public_keys = tuple(normalize_public_key(key) for key in recipient_public_keys)
        self.quarantine_dir = Path(quarantine_dir)
        self.cleaner = cleaner or TextCleaner()
        self.dedupe_fields = tuple(dedupe_fields) if dedupe_fields is not None else None
        self.cid_options = dict(cid_options or {})
        self.chunk_size = chunk_size
        self.default_format = default_format
        if default_format is not None:
            detect_format(Path("probe"), default_format)  # rejects an unknown format now, not at run time
        self._work_dir_setting = Path(work_dir) if work_dir is not None else None
        self._work_dir: Path | None = None
        self._text_fields = tuple(f.name for f in schema.fields if f.type == "str" and f.clean)

    # --- hooks -----------------------------------------------------------------------------------------------
    def input_file(self, artifact: Artifact) -> Path | None:
        """The local file behind an input artifact (moved aside on quarantine), or ``None`` if there is none."""
        if isinstance(self.input_resource, FilesystemStoreNode):
            return self.input_resource.artifact_path(artifact)
        if isinstance(self.input_resource, IPFSStoreNode):
            return self.input_resource.staging_file(artifact)
        return None

    def open_input(self, artifact: Artifact) -> BinaryIO:
        """A binary stream of the input's content (IPFS inputs are read back from IPFS, verified against the CID)."""
        if isinstance(self.input_resource, IPFSStoreNode):
            return self.input_resource.open_artifact(artifact)
        path = self.input_file(artifact)
        if path is None:
            raise ConfigurationError(
                f"{self.name}: cannot read artifacts of {type(self.input_resource).__name__}; override open_input()"
            )
        try:
            return path.open("rb")
        except OSError as exc:
            raise ValidationError(f"cannot read the file: {exc.strerror or exc}") from exc

    def output_name(self, artifact: Artifact) -> str:
        """The name of the encrypted output for an input (``dir/data.csv`` -> ``dir/data.jsonl.enc``)."""
        location = Path(artifact.location)
        return str(location.with_suffix(".jsonl")) + ENVELOPE_SUFFIX

    def save_output(self, envelope_path: Path, name: str, *,
                    derived_from: Sequence[Artifact] | None = None) -> Artifact:
        """Store the finished envelope in the output resource, recorded as ``derived_from`` exactly those inputs
        (``None``: everything the node has read so far).

        IPFS outputs (``IPFSStoreNode``, ``Web3StorageNode``) import the staged file directly; any other resource
        gets the ``save_artifact(name, binary_file)`` form ``FilesystemStoreNode`` defines.
        """
        if isinstance(self.output_resource, IPFSStoreNode):
            return self.output_resource.save_artifact(envelope_path, name=name, derived_from=derived_from)
        with envelope_path.open("rb") as handle:
            return self.output_resource.save_artifact(name, handle, derived_from=derived_from)

    # --- the job -----------------------------------------------------------------------------------------------
    def execute(self, *args: Any, **kwargs: Any) -> bool:
        run_id = self.coordinator.store.current_run_id
        dedupe = Deduplicator(self.dedupe_fields)
        outcomes = [self.prepare_file(artifact, dedupe, run_id) for artifact in self.input_resource.current_inputs()]
        self._record(outcomes)
        return True

    def prepare_file(self, artifact: Artifact, dedupe: Deduplicator, run_id: int | None) -> FileOutcome:
        """Validate, clean, encrypt and save one input; a :class:`ValidationError` quarantines it instead."""
        outcome = FileOutcome(artifact.location)
        staged = self.work_dir / f"{artifact.id}.jsonl"
        envelope = self.work_dir / f"{artifact.id}.jsonl{ENVELOPE_SUFFIX}"
        try:
            try:
                self._clean_to(artifact, staged, dedupe, outcome)
            except ValidationError as exc:
                dedupe.discard()
                self.quarantine(artifact, str(exc), run_id)
                return FileOutcome(artifact.location, quarantine_reason=str(exc))  # its records count for nothing
            dedupe.commit()
            if outcome.records_out == 0:
                self.log(f"{artifact.location}: every record was a duplicate; nothing to store", level="INFO")
                return outcome
            cid = str(import_file(staged, **self.cid_options).cid)
            data_key = DataKey.generate()
            encrypt_file(
                staged,
                envelope,
                data_key,
                plaintext_cid=cid,
                recipient_public_keys=self.recipient_public_keys,
                chunk_size=self.chunk_size,
            )
            outcome.output = self.save_output(envelope, self.output_name(artifact), derived_from=[artifact])
            self.log(
                f"{artifact.location}: {outcome.records_out}/{outcome.records_in} records, plaintext {cid}, "
                f"saved as {outcome.output.location}"
            )
            return outcome
        finally:
            staged.unlink(missing_ok=True)
            envelope.unlink(missing_ok=True)

    def _clean_to(self, artifact: Artifact, staged: Path, dedupe: Deduplicator, outcome: FileOutcome) -> None:
        fmt = detect_format(Path(artifact.location), self.default_format)
        with self.open_input(artifact) as source, atomic_output(staged) as sink:
            for _, record in iter_records(source, fmt, self.schema):
                outcome.records_in += 1
                cleaned = self.cleaner.clean_record(record, self._text_fields)
                self.schema.check_lengths(cleaned)
                if dedupe.seen_before(cleaned):
                    outcome.duplicates += 1
                    continue
                sink.write(json.dumps(cleaned, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
                outcome.records_out += 1
        if outcome.records_in == 0:
            raise ValidationError("the file holds no records")

    def quarantine(self, artifact: Artifact, reason: str, run_id: int | None) -> Path:
        """Move the input aside with its reason; the file keeps its relative location under ``run-<id>/``."""
        target = self.quarantine_dir / f"run-{run_id if run_id is not None else 'none'}" / artifact.location
        source = self.input_file(artifact)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if source is not None and source.exists():
                shutil.move(source, target)
            else:
                with self.open_input(artifact) as content, atomic_output(target) as copy:
                    shutil.copyfileobj(content, copy)
            note = {
                "resource": artifact.resource,
                "location": artifact.location,
                "sha256": artifact.sha256,
                "cid": artifact.cid,
                "run_id": run_id,
                "node": self.name,
                "reason": reason,
                "quarantined_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            with atomic_output(target.with_name(target.name + ".reason.json")) as handle:
                handle.write(json.dumps(note, indent=2).encode("utf-8"))
        except (OSError, ResourceError) as exc:
            raise ArtifactWriteError(f"{self.name}: could not quarantine {artifact.location}: {exc}") from exc
        self.log(f"quarantined {artifact.location}: {reason}", level="WARNING")
        return target

    def _record(self, outcomes: list[FileOutcome]) -> None:
        store = self.coordinator.store
        quarantined = [o for o in outcomes if o.quarantine_reason is not None]
        store.log_metrics(
            files_ok=float(len(outcomes) - len(quarantined)),
            files_quarantined=float(len(quarantined)),
            records_in=float(sum(o.records_in for o in outcomes)),
            records_out=float(sum(o.records_out for o in outcomes)),
            duplicates_dropped=float(sum(o.duplicates for o in outcomes)),
        )
        if quarantined:
            reasons = [{"location": o.location, "reason": o.quarantine_reason} for o in quarantined]
            store.set_tags(**{f"{self.name}.quarantine": json.dumps(reasons, ensure_ascii=False)})

    # --- work directory ------------------------------------------------------------------------------------------
    @property
    def work_dir(self) -> Path:
        """Where cleaned and encrypted files are staged (a private temporary directory unless configured)."""
        if self._work_dir is None:
            if self._work_dir_setting is not None:
                self._work_dir_setting.mkdir(parents=True, exist_ok=True)
                self._work_dir = self._work_dir_setting
            else:
                self._work_dir = Path(tempfile.mkdtemp(prefix=f"anacostia-{self.name}-"))
        return self._work_dir

    def teardown(self) -> None:
        if self._work_dir is not None and self._work_dir_setting is None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None
