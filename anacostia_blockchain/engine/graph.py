"""Validation of the node graph and the orders derived from it.

Rules (each violation is a :class:`~anacostia_blockchain.errors.GraphValidationError` naming the nodes involved):

- every entry of ``nodes`` is a node, names are unique, and every predecessor is itself in ``nodes``;
- exactly one metadata store, with no predecessors;
- a resource's only predecessor is that metadata store;
- an action has at least one predecessor, and its predecessors are resources or actions (never the store);
- the graph is acyclic (the error spells the cycle out: ``a -> b -> a``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

from ..errors import GraphValidationError
from .action import BaseActionNode
from .metadata_store import BaseMetadataStoreNode
from .node import BaseNode
from .resource import BaseResourceNode


def _find_cycle(nodes: list[BaseNode]) -> list[str] | None:
    """A cycle as a list of names (first == last), or ``None``. Iterative DFS over predecessor edges."""
    white, grey, black = 0, 1, 2
    color = {id(node): white for node in nodes}
    for root in nodes:
        if color[id(root)] != white:
            continue
        stack: list[tuple[BaseNode, int]] = [(root, 0)]
        path: list[BaseNode] = [root]
        color[id(root)] = grey
        while stack:
            node, index = stack[-1]
            if index < len(node.predecessors):
                stack[-1] = (node, index + 1)
                pred = node.predecessors[index]
                if color.get(id(pred)) == grey:
                    start = next(i for i, item in enumerate(path) if item is pred)
                    cycle = [item.name for item in path[start:]] + [pred.name]
                    return list(reversed(cycle))
                if color.get(id(pred)) == white:
                    color[id(pred)] = grey
                    stack.append((pred, 0))
                    path.append(pred)
            else:
                color[id(node)] = black
                stack.pop()
                path.pop()
    return None


class PipelineGraph:
    """The validated DAG: the store, resources, actions, and the action order (Kahn's topological sort)."""

    def __init__(self, nodes: Iterable[object]) -> None:
        items = list(nodes)
        if not items:
            raise GraphValidationError("a pipeline needs nodes: one metadata store, resources and actions")
        for item in items:
            if not isinstance(item, BaseNode):
                raise GraphValidationError(f"unknown node {item!r}: pipeline nodes must derive from BaseNode")
        node_list = [item for item in items if isinstance(item, BaseNode)]
        seen: dict[str, BaseNode] = {}
        for node in node_list:
            if node.name in seen:
                what = "listed twice" if seen[node.name] is node else "used by two nodes"
                raise GraphValidationError(f"duplicate node name {node.name!r}: {what}")
            seen[node.name] = node
        stores = [node for node in node_list if isinstance(node, BaseMetadataStoreNode)]
        if len(stores) != 1:
            names = ", ".join(repr(store.name) for store in stores) or "none"
            raise GraphValidationError(f"a pipeline needs exactly one metadata store, found {len(stores)} ({names})")
        members = {id(node) for node in node_list}
        for node in node_list:
            for pred in node.predecessors:
                if id(pred) not in members:
                    raise GraphValidationError(
                        f"node {node.name!r} has predecessor {pred.name!r}, which is missing from the pipeline's nodes"
                    )
        self.store: BaseMetadataStoreNode = stores[0]
        self.nodes = node_list
        self._check_edges()
        cycle = _find_cycle(node_list)
        if cycle:
            raise GraphValidationError("the pipeline graph has a cycle: " + " -> ".join(cycle))
        for node in node_list:
            node.successors = [other for other in node_list if any(p is node for p in other.predecessors)]

    def _check_edges(self) -> None:
        for node in self.nodes:
            if isinstance(node, BaseMetadataStoreNode):
                if node.predecessors:
                    raise GraphValidationError(f"metadata store {node.name!r} cannot have predecessors")
            elif isinstance(node, BaseResourceNode):
                if len(node.predecessors) != 1 or node.predecessors[0] is not self.store:
                    raise GraphValidationError(
                        f"resource {node.name!r}: its only predecessor must be the metadata store {self.store.name!r}"
                    )
            elif isinstance(node, BaseActionNode):
                if not node.predecessors:
                    raise GraphValidationError(
                        f"action {node.name!r} has no predecessors: give it a resource or action to follow"
                    )
                for pred in node.predecessors:
                    if not isinstance(pred, BaseResourceNode | BaseActionNode):
                        raise GraphValidationError(
                            f"invalid edge {pred.name!r} -> {node.name!r}: an action follows resources or actions, "
                            f"not a {pred.node_kind}"
                        )
            else:
                raise GraphValidationError(
                    f"unknown node kind for {node.name!r} ({type(node).__name__}): derive from "
                    "BaseMetadataStoreNode, BaseResourceNode or BaseActionNode"
                )

    @cached_property
    def resources(self) -> dict[str, BaseResourceNode]:
        return {n.name: n for n in self.nodes if isinstance(n, BaseResourceNode)}

    @cached_property
    def monitoring_resources(self) -> list[BaseResourceNode]:
        """Resources whose trigger conditions start runs (``monitoring=True``)."""
        return [r for r in self.resources.values() if r.monitoring]

    @cached_property
    def actions(self) -> dict[str, BaseActionNode]:
        return {n.name: n for n in self.nodes if isinstance(n, BaseActionNode)}

    @cached_property
    def action_in_degree(self) -> dict[str, int]:
        """Per action, how many of its predecessors are actions (resources are ready when a run starts)."""
        return {name: sum(isinstance(p, BaseActionNode) for p in node.predecessors)
                for name, node in self.actions.items()}

    @cached_property
    def action_children(self) -> dict[str, list[str]]:
        return {name: [s.name for s in node.successors if isinstance(s, BaseActionNode)]
                for name, node in self.actions.items()}

    @cached_property
    def action_order(self) -> list[str]:
        """Actions in a topological order (stable: ties keep the order of ``nodes``)."""
        degree = dict(self.action_in_degree)
        order = [name for name, count in degree.items() if count == 0]
        index = 0
        while index < len(order):
            for child in self.action_children[order[index]]:
                degree[child] -= 1
                if degree[child] == 0:
                    order.append(child)
            index += 1
        return order

    def descendants(self, name: str) -> list[str]:
        """Every action reachable from action ``name``, in topological order."""
        found: set[str] = set()
        frontier = list(self.action_children[name])
        while frontier:
            child = frontier.pop()
            if child not in found:
                found.add(child)
                frontier.extend(self.action_children[child])
        return [n for n in self.action_order if n in found]
