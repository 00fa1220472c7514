"""Contracts as seen through their ABIs: handles, the event decoder, revert decoding and the shipped artifacts.

- :mod:`.contract` — :class:`Contract` (``Contract.at(client, "RunRegistry", address)``): encode, call, batch calls,
  query events;
- :mod:`.events` — the one decoder of logs (:class:`EventLog`, JSON-ready values) and :class:`EventReader` for many
  contracts over block ranges;
- :mod:`.revert` — :func:`decode_revert`: revert data -> a typed ``ContractRevertError``;
- :mod:`.roles` — access-control role ids by name (``neededRole=MINTER_ROLE`` in decoded reverts);
- :mod:`.artifacts` — :class:`ContractArtifact` and :func:`load_artifact` for ``chain/artifacts/*.json``;
- :mod:`.types` — canonical ABI type strings and readable values.
"""

from .artifacts import ARTIFACTS_DIR, ContractArtifact, list_artifacts, load_artifact, shipped_abis
from .contract import CallAt, Contract, FunctionSpec, deployment_data
from .events import EventLog, EventReader, EventSpec, event_specs, receipt_events, single_event
from .revert import PANIC_CODES, ErrorTable, decode_revert, register_abi
from .roles import DEFAULT_ADMIN_ROLE, name_roles, register_roles, role_id, role_name
from .types import abi_type_of, format_value, signature_of

__all__ = [
    "ARTIFACTS_DIR",
    "DEFAULT_ADMIN_ROLE",
    "PANIC_CODES",
    "CallAt",
    "Contract",
    "ContractArtifact",
    "ErrorTable",
    "EventLog",
    "EventReader",
    "EventSpec",
    "FunctionSpec",
    "abi_type_of",
    "decode_revert",
    "deployment_data",
    "event_specs",
    "format_value",
    "list_artifacts",
    "load_artifact",
    "name_roles",
    "receipt_events",
    "register_abi",
    "register_roles",
    "role_id",
    "role_name",
    "shipped_abis",
    "signature_of",
    "single_event",
]
