"""The engine: node threads, DAG validation, runs. Imports no database, storage or chain library.

See docs/engine.md for the full API and the design choices behind it.
"""

from .action import BaseActionNode
from .artifact import Artifact
from .cache import ExecutionSpec, ReusableExecution
from .context import ExecutionContext, attributed_context, current_execution, executing
from .coordinator import RunCoordinator
from .fingerprint import CodeFingerprint, SourceRevision, code_fingerprint, fingerprint_of
from .graph import PipelineGraph
from .metadata_store import BaseMetadataStoreNode
from .node import BaseNode
from .pipeline import Pipeline
from .reads import Read, ReadLog
from .resource import BaseResourceNode
from .run_records import MetricRow, RunRecords
from .states import ArtifactState, NodeStatus, RunStatus
from .trigger import TriggerPolicy
from .work import UnitReport, WorkUnit

__all__ = [
    "Artifact",
    "ArtifactState",
    "BaseActionNode",
    "BaseMetadataStoreNode",
    "BaseNode",
    "BaseResourceNode",
    "CodeFingerprint",
    "ExecutionContext",
    "ExecutionSpec",
    "MetricRow",
    "NodeStatus",
    "Pipeline",
    "PipelineGraph",
    "Read",
    "ReadLog",
    "ReusableExecution",
    "RunCoordinator",
    "RunRecords",
    "RunStatus",
    "SourceRevision",
    "TriggerPolicy",
    "UnitReport",
    "WorkUnit",
    "attributed_context",
    "code_fingerprint",
    "current_execution",
    "executing",
    "fingerprint_of",
]
