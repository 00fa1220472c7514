"""Trigger policies: when a pipeline starts a run.

``Pipeline(..., trigger=...)``:

- ``"all"`` (default): every monitoring resource's ``trigger_condition()`` holds — the metadata store's
  ``run_trigger`` hook decides, so a store subclass can still override it;
- ``"any"``: at least one monitoring resource's ``trigger_condition()`` holds; the run consumes the ready inputs of
  every monitoring resource, and actions none of whose inputs changed do not execute (``unchanged``);
- a callable ``policy(resources) -> bool | str | None``: ``True`` or a string starts a run (the string is recorded
  as ``runs.trigger``; ``True`` records the resources whose condition holds), ``False``/``None`` does not.

The recorded trigger names what started the run (``"data,labels"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from .metadata_store import BaseMetadataStoreNode
    from .resource import BaseResourceNode

#: A custom policy: sees the monitoring resources, says whether (and why) a run starts.
TriggerCallable = Callable[[Sequence["BaseResourceNode"]], "bool | str | None"]
TriggerPolicy = Literal["all", "any"] | TriggerCallable
#: What the coordinator calls: ``(store, resources) -> trigger description | None``.
Trigger = Callable[["BaseMetadataStoreNode", Sequence["BaseResourceNode"]], "str | None"]


def _all(store: BaseMetadataStoreNode, resources: Sequence[BaseResourceNode]) -> str | None:
    return store.run_trigger(resources)


def _any(store: BaseMetadataStoreNode, resources: Sequence[BaseResourceNode]) -> str | None:
    ready = [resource.name for resource in resources if resource.trigger_condition()]
    return ",".join(ready) or None


def _custom(policy: TriggerCallable) -> Trigger:
    def trigger(store: BaseMetadataStoreNode, resources: Sequence[BaseResourceNode]) -> str | None:
        decision = policy(resources)
        if decision is None or decision is False:
            return None
        if decision is True:
            return _any(store, resources) or getattr(policy, "__name__", "custom")
        if isinstance(decision, str) and decision:
            return decision
        raise ConfigurationError(f"trigger policy returned {decision!r}; return True/False, None or a description")

    return trigger


def resolve_trigger(policy: TriggerPolicy) -> Trigger:
    """The coordinator's trigger function for ``policy`` (:class:`ConfigurationError` for anything else)."""
    if policy == "all":
        return _all
    if policy == "any":
        return _any
    if callable(policy):
        return _custom(policy)
    raise ConfigurationError(f"trigger must be 'all', 'any' or a callable(resources), got {policy!r}")
