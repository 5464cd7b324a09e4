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

Profiled again with the record function's conditional UpdateItem at 10,000 jobs (py-spy, samples
holding the GIL in the DynamoDB process, ``bench/record_path.py``): about 8 ms of CPU per call, the
same at 1,000 and 10,000 jobs (nothing there grows with the table), of which:

- 19% ``copy.deepcopy`` of the cached UpdateExpression tree in moto's ``Validator``: the generic
  ``__reduce_ex__`` machinery at every node. The tree (``Node`` objects whose attributes are their
  type name, children and parent) is now copied by a walk that does what deepcopy does for it: a new
  object of the same class per node, its ``__dict__`` copied in order, children copied, the parent
  mapped to its copy, through the same memo; any other value still goes to ``copy.deepcopy``.
- 5% lexing the ConditionExpression string again (ten regular expressions tried at every token):
  the tokens are now lexed once per distinct string; each call gets fresh token nodes (their
  ``children`` lists are new), and an expression moto cannot lex still raises its error every time.
"""

from __future__ import annotations

import copy
import functools
from collections import deque
from typing import Any

from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing import expressions, validators
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


_IMMUTABLE = frozenset({str, int, float, bool, type(None)})


def _copy_tree(value: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy(value, memo)`` for a tree of moto's expression nodes, without its generic path.

    The originals are all reachable from the tree being copied, so (unlike deepcopy) nothing needs
    keeping alive in the memo while it is in use."""
    cls = type(value)
    if cls in _IMMUTABLE:
        return value
    known = memo.get(id(value), memo)
    if known is not memo:
        return known
    if cls is list:
        copied: list[Any] = []
        memo[id(value)] = copied
        for member in value:
            copied.append(member if type(member) in _IMMUTABLE else _copy_tree(member, memo))
        return copied
    if (_node_classes.get(cls) or _is_node(value)) and _plain_object(cls):
        node = object.__new__(cls)
        memo[id(value)] = node
        attrs = node.__dict__
        for name, member in value.__dict__.items():
            attrs[name] = member if type(member) in _IMMUTABLE else _copy_tree(member, memo)
        return node
    return copy.deepcopy(value, memo)


_plain_classes: dict[type, bool] = {}


def _plain_object(cls: type) -> bool:
    """A class deepcopy copies by ``__reduce_ex__(4)`` into a new object and its ``__dict__``."""
    known = _plain_classes.get(cls)
    if known is None:
        base: Any = object
        known = _plain_classes[cls] = (
            getattr(cls, "__deepcopy__", None) is None
            and getattr(cls, "__reduce_ex__", None) is base.__reduce_ex__
            and getattr(cls, "__reduce__", None) is base.__reduce__
            and getattr(cls, "__getstate__", None) is base.__getstate__
            and getattr(cls, "__setstate__", None) is None
            and not any("__slots__" in vars(c) for c in cls.__mro__)
            and getattr(cls, "__new__", None) is base.__new__
        )
    return known


def _deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """The validators module's ``deepcopy``: expression trees by :func:`_copy_tree`, the rest as is."""
    if _is_node(value) and _plain_object(type(value)):
        return _copy_tree(value, {} if memo is None else memo)
    return copy.deepcopy(value, memo)


_moto_lex = ConditionExpressionParser._lex_condition_expression


@functools.lru_cache(maxsize=1024)
def _lexed(expression: str) -> tuple[Any, ...]:
    return tuple(_moto_lex(ConditionExpressionParser(expression, {}, {})))


def _lex_condition_expression(self: ConditionExpressionParser) -> deque[Any]:
    """moto's tokens for this expression, lexed once per string (each call its own token nodes)."""
    return deque(node._replace(children=[]) for node in _lexed(self.condition_expression))


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
    validators.deepcopy = _deepcopy
    ConditionExpressionParser._lex_condition_expression = _lex_condition_expression
    ActionCountValidator.traverse = _check_outermost_only
    OverlappingPathsValidator.traverse = _check_outermost_only
    _installed = True
