"""Copy the runs of a run store into an MLflow tracking store (``anacostia-chain export mlflow``).

Each ended run becomes one MLflow run in one experiment (default: the pipeline's name), so a team can look at
anchored runs in the MLflow UI it already uses:

- metrics with their steps and timestamps (a metric logged without a step is MLflow's step 0), params and tags
  (MLflow stores strings: a string as it is, any other value as its JSON);
- ``anacostia.artifact.<consumed|produced>.<resource>/<location>`` tags holding each artifact's CID (its
  ``sha256:<hex>`` when it has none);
- the anchor: ``anacostia.root`` (the run's Merkle root), ``anacostia.manifest_cid``, ``anacostia.anchor.status``,
  ``anacostia.anchor.tx``, ``anacostia.anchor.block``; and the verdict of verifying the run now,
  ``anacostia.verification`` (``verified``, ``tampered``, ``conflict``, ``not-anchored``) with
  ``anacostia.verified_against`` (``chain`` or ``recorded-root`` when no chain was given);
- ``anacostia.source_run`` = ``<pipeline>/<run id>`` (``<experiment>/<run id>`` for a store that does not
  anchor): the key that makes a re-export idempotent. A run exported
  before is found by it and only its anchor and verification tags are brought up to date (no duplicate run, no
  duplicate metric points). ``anacostia.export`` = ``complete`` is set last: a run an interrupted export left
  without it is deleted and exported again.

Names MLflow refuses (characters outside ``/ \\w . - space``, ``..`` segments) are rewritten with ``_``; values longer
than MLflow keeps (params 6,000, tags 8,000 characters) end in ``…``. Runs still running are skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect

from ..anchoring import ANCHOR_KIND, ManifestArchive, RunVerifier, anchor_key
from ..engine import RunStatus
from ..errors import AnchorConflictError, ConfigurationError, RunNotAnchoredError, TamperedManifestError
from ..outbox import Outbox
from .run_store import RunStore

if TYPE_CHECKING:
    from mlflow import MlflowClient

SOURCE_TAG = "anacostia.source_run"
COMPLETE_TAG = "anacostia.export"
#: MLflow's limits (``mlflow.utils.validation``): key length, value lengths, entities per ``log_batch``.
MAX_KEY, MAX_PARAM_VALUE, MAX_TAG_VALUE, MAX_METRICS_PER_BATCH, MAX_PER_BATCH = 250, 6000, 8000, 1000, 100
_STATUS = {RunStatus.SUCCESS.value: "FINISHED", RunStatus.FAILED.value: "FAILED", RunStatus.ABORTED.value: "KILLED"}
_BAD_NAME_CHARS = re.compile(r"[^/\w.\- ]")


@dataclass(frozen=True)
class ExportedRun:
    """One run's export: the MLflow run id, whether it was ``created`` (or found and ``updated``) and its
    verification verdict."""

    run_id: int
    mlflow_run_id: str
    action: str
    verification: str


class MlflowExport:
    """Exports the runs of ``runs`` to MLflow through ``client`` (see the module docstring).

    ``pipeline``: the anchored pipeline's name (``None`` for a store that does not anchor: no anchor tags,
    verification ``not-anchored``); ``verifier``: how runs are verified (``None``: against the root recorded when
    each run ended, i.e. offline).
    """

    def __init__(
        self,
        runs: RunStore,
        client: MlflowClient,
        *,
        experiment: str,
        pipeline: str | None = None,
        verifier: RunVerifier | None = None,
    ) -> None:
        self.runs = runs
        self.client = client
        self.experiment = experiment
        self.pipeline = pipeline
        self._source = pipeline or experiment
        self._outbox: Outbox | None = None
        self._verifier: RunVerifier | None = None
        if pipeline is not None:
            if not anchors_runs(runs):
                raise ConfigurationError(f"the database anchors no runs, so it has none of pipeline {pipeline!r}")
            self._outbox = Outbox(runs.engine)
            self._verifier = verifier or RunVerifier(
                pipeline, runs.export_run, ManifestArchive(runs.engine), None, self._outbox
            )
        self._offline = verifier is None or verifier.registry is None

    def export(self, run_ids: Iterable[int] | None = None) -> list[ExportedRun]:
        """Export ``run_ids`` (default: every ended run), oldest first."""
        wanted = None if run_ids is None else {int(r) for r in run_ids}
        experiment_id = self._experiment_id()
        done = []
        for run in self.runs.get_runs():
            if (wanted is not None and run["id"] not in wanted) or run["status"] == RunStatus.RUNNING.value:
                continue
            done.append(self._export_run(experiment_id, run))
        missing = sorted((wanted or set()) - {exported.run_id for exported in done})
        if missing:
            raise ConfigurationError(f"no ended run {', '.join(map(str, missing))} in {self.runs.url}")
        return done

    # --- one run ----------------------------------------------------------------------------------------------------
    def _export_run(self, experiment_id: str, run: dict[str, Any]) -> ExportedRun:
        run_id = int(run["id"])
        evidence = self._evidence(run_id, run)
        existing = self._find(experiment_id, run_id)
        if existing is not None and existing.data.tags.get(COMPLETE_TAG) == "complete":
            for key, value in evidence.items():
                self.client.set_tag(existing.info.run_id, key, value)
            return ExportedRun(run_id, existing.info.run_id, "updated", evidence["anacostia.verification"])
        if existing is not None:  # an interrupted export: start over
            self.client.delete_run(existing.info.run_id)
        created = self.client.create_run(
            experiment_id, start_time=_ms(run["started_at"]), run_name=f"{self._source}-run-{run_id}",
            tags={SOURCE_TAG: self._source_key(run_id)},
        )
        mlflow_id = created.info.run_id
        self._log_records(mlflow_id, run_id, evidence)
        self.client.set_terminated(mlflow_id, _STATUS.get(str(run["status"]), "FINISHED"),
                                   end_time=_ms(run["ended_at"]) if run["ended_at"] else None)
        self.client.set_tag(mlflow_id, COMPLETE_TAG, "complete")
        return ExportedRun(run_id, mlflow_id, "created", evidence["anacostia.verification"])

    def _log_records(self, mlflow_id: str, run_id: int, evidence: dict[str, str]) -> None:
        from mlflow.entities import Metric, Param, RunTag

        metrics = [Metric(_name(m["key"]), m["value"], _ms(m["timestamp"]), m["step"] or 0)
                   for m in self.runs.get_metrics(run_id)]
        for chunk in _chunks(metrics, MAX_METRICS_PER_BATCH):
            self.client.log_batch(mlflow_id, metrics=chunk)
        params = [Param(_name(k), _text(v, MAX_PARAM_VALUE)) for k, v in self.runs.get_params(run_id).items()]
        tags = {_name(k): _text(v, MAX_TAG_VALUE) for k, v in self.runs.get_tags(run_id).items()}
        tags.update(self._artifact_tags(run_id))
        tags.update(evidence)
        tag_list = [RunTag(k, v) for k, v in tags.items()]
        for chunk in _chunks(params, MAX_PER_BATCH):
            self.client.log_batch(mlflow_id, params=chunk)
        for tag_chunk in _chunks(tag_list, MAX_PER_BATCH):
            self.client.log_batch(mlflow_id, tags=tag_chunk)

    def _artifact_tags(self, run_id: int) -> dict[str, str]:
        tags = {}
        for relation, artifacts in self.runs.run_artifacts(run_id).items():
            for artifact in artifacts:
                key = _name(f"anacostia.artifact.{relation}.{artifact.resource}/{artifact.location}")
                tags[key] = artifact.cid or f"sha256:{artifact.sha256}"
        return tags

    def _evidence(self, run_id: int, run: dict[str, Any]) -> dict[str, str]:
        """The anchor and verification tags of a run (brought up to date on every export)."""
        if self._outbox is None or self._verifier is None:
            return {"anacostia.verification": "not-anchored"}
        tags = {"anacostia.root": str(run["hash"] or "")}
        entry = self._outbox.get(ANCHOR_KIND, anchor_key(self._verifier.pipeline_id, run_id))
        if entry is not None:
            result = entry.result or {}
            tags.update({"anacostia.manifest_cid": str(entry.payload.get("manifestCid", "")),
                         "anacostia.anchor.status": entry.status,
                         "anacostia.anchor.tx": str(result.get("txHash", "")),
                         "anacostia.anchor.block": str(result.get("block", ""))})
        tags["anacostia.verification"] = self._verdict(self._verifier, run_id)
        tags["anacostia.verified_against"] = "recorded-root" if self._offline else "chain"
        return {key: value for key, value in tags.items() if value}

    def _verdict(self, verifier: RunVerifier, run_id: int) -> str:
        try:
            if self._offline:
                verifier.verify_local(run_id)
            else:
                verifier.verify_run(run_id)
        except TamperedManifestError:
            return "tampered"
        except AnchorConflictError:
            return "conflict"
        except RunNotAnchoredError:
            return "not-anchored"
        return "verified"

    # --- MLflow side ------------------------------------------------------------------------------------------------
    def _experiment_id(self) -> str:
        found = self.client.get_experiment_by_name(self.experiment)
        return str(found.experiment_id) if found is not None else str(self.client.create_experiment(self.experiment))

    def _source_key(self, run_id: int) -> str:
        return f"{self._source}/{run_id}"

    def _find(self, experiment_id: str, run_id: int) -> Any:
        quoted = self._source_key(run_id).replace("'", "\\'")
        found = self.client.search_runs([experiment_id], filter_string=f"tags.`{SOURCE_TAG}` = '{quoted}'",
                                        max_results=2)
        return found[0] if found else None


def tracking_client(tracking_uri: str) -> MlflowClient:
    """An ``MlflowClient`` on ``tracking_uri`` (``mlflow`` is the optional ``[mlflow]`` extra; this module is the
    only one that imports it)."""
    try:
        from mlflow import MlflowClient
    except ImportError as exc:
        raise ConfigurationError(
            "exporting to MLflow needs the mlflow package: pip install 'anacostia-blockchain[mlflow]'"
        ) from exc
    return MlflowClient(tracking_uri)


def anchors_runs(runs: RunStore) -> bool:
    """Whether the database holds run anchors: it has :class:`ManifestArchive`'s table (checked without creating
    any table, so exporting never writes to the source database)."""
    return bool(inspect(runs.engine).has_table("anacostia_run_manifests"))


def _ms(seconds: float) -> int:
    return round(float(seconds) * 1000)


def _name(key: str) -> str:
    """``key`` as a name MLflow accepts (see the module docstring)."""
    cleaned = _BAD_NAME_CHARS.sub("_", key)
    parts = [part if part not in (".", "..") else "_" for part in cleaned.split("/") if part]
    return "/".join(parts)[:MAX_KEY] or "_"


def _text(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
