"""Take repeated work out of moto's DynamoDB (same results, less Python per call).

A conditional UpdateItem cost moto about 7 ms of Python here, and at a thousand jobs the control
plane's table writes (the submit function's lease and job id, the record function's state) set the
pace of the whole local cloud; on AWS they are a few milliseconds each and run in parallel. Profiled
(cProfile, the submit function's lease write), moto spent the time on:

- parsing the same UpdateExpression twice per call (once to check names, once to run it): now
  parsed once per distinct expression string. The parsed tree is never changed in place: moto's
  validator deep-copies it before it resolves names and values, and the other use only reads it.
- ``ActionCountValidator`` and ``OverlappingPathsValidator``, which ran their whole-expression check
  at every nested ``UpdateExpression`` node (each a list of all clauses below it), O(n^2) in the
  number of clauses. The outermost node's check sees every clause, so it alone decides; it now runs
  once. (Only an invalid expression could tell the difference, by which duplicate it names first.)
- each of the ten tree walks rebuilding its processor's type map at every node, and testing every
  node's class against moto's abstract base classes (``isinstance`` through ``ABCMeta``, the costliest
  line of the profile): the map is built once per walk, and each answer is remembered per class.

And in every response that carries items (Query, GetItem, BatchGetItem, UpdateItem's ReturnValues):
moto's generic serializer walked each attribute value through its ten-member shape, ten lookups per
attribute, 180,000 for a Query of 1,000 job records (over a second, 80% of the call; the plugin's
status round at 1,000 jobs). An attribute value that is a string, number, boolean, null or a
string/number set is already in its wire form and is now copied as it is; binary values, lists and
maps still take moto's path (their members come back here).
"""

from __future__ import annotations

import functools
from typing import Any

from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.parsing import expressions
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node, UpdateExpression
from moto.dynamodb.parsing.validators import ActionCountValidator, OverlappingPathsValidator

_installed = False
_node_classes: dict[type, bool] = {}


def _is_node(value: Any) -> bool:
    cls = type(value)
    known = _node_classes.get(cls)
    if known is None:
        known = _node_classes[cls] = isinstance(value, Node)
    return known


def _map(self: DepthFirstTraverser) -> dict[type, Any]:
    cached = self.__dict__.get("_lc_processing_map")
    if cached is None:
        cached = self.__dict__["_lc_processing_map"] = self._processing_map()
    return cached


def _processor_for(self: DepthFirstTraverser, cls: type) -> Any:
    """The processor moto's ``process`` would pick for a node of this class (the map's first match)."""
    chosen = self.__dict__.setdefault("_lc_chosen", {})
    if cls not in chosen:
        chosen[cls] = next((p for node_type, p in _map(self).items() if issubclass(cls, node_type)), None)
    return chosen[cls]


def _process(self: DepthFirstTraverser, node: Any) -> Any:
    processor = _processor_for(self, type(node))
    return processor(node) if processor is not None else None


def _traverse_node_recursively(self: DepthFirstTraverser, node: Any, child_id: int = -1) -> Any:
    """moto's depth-first walk, line for line, with the class tests remembered."""
    if _is_node(node):
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                self.pre_processing_of_child(node, i)
                self.traverse_node_recursively(child_node, i)
        if _processor_for(self, type(node)) is not None:
            node = self.process(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
    return node


def _check_outermost_only(self: DepthFirstTraverser, node: Any) -> Any:
    if isinstance(node, UpdateExpression):
        _map(self)[UpdateExpression](node)
    return node


_PLAIN_SCALARS = {"S": str, "N": str, "BOOL": bool, "NULL": bool}
_PLAIN_SETS = ("SS", "NS")


def _is_wire_form(value: Any) -> bool:
    """An AttributeValue that needs no serializing: one scalar member or a set of strings."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((member, inner),) = value.items()
    if member in _PLAIN_SCALARS:
        return isinstance(inner, _PLAIN_SCALARS[member])
    return member in _PLAIN_SETS and isinstance(inner, list) and all(isinstance(v, str) for v in inner)


def install() -> None:
    global _installed
    if _installed:
        return
    parser = expressions.UpdateExpressionParser
    parse = functools.lru_cache(maxsize=1024)(parser.make)
    parser.make = staticmethod(parse)
    DepthFirstTraverser.process = _process
    DepthFirstTraverser.traverse_node_recursively = _traverse_node_recursively
    serialize_structure = BaseJSONSerializer._serialize_type_structure

    def _serialize_type_structure(
        self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str
    ) -> None:
        if key and shape.name == "AttributeValue" and _is_wire_form(value):
            self._default_serialize(serialized, value, shape, key)
            return
        serialize_structure(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = _serialize_type_structure
    ActionCountValidator.traverse = _check_outermost_only
    OverlappingPathsValidator.traverse = _check_outermost_only
    _installed = True
