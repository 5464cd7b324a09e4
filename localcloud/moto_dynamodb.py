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

And every Query (and Scan) sorted the whole table first: moto's ``Table.all_items`` orders every item
by its keys, comparing moto's ``DynamoType`` objects in Python (``__eq__`` and ``__lt__`` per
comparison), and an index Query sorts its matches again the same way (``Table.sorted_items``). At a
10,000-job run (20,000 items: records and array children's commands) the plugin's status Query took
0.7-1 s with nothing to return and reconcile's 16 live-jobs shard Queries 8-10 s, each holding the
DynamoDB process's request lock while the record function's writes waited. Both sorts now sort by
the keys' own values (what ``DynamoType.cast_value`` gives: the string, or the number as a Decimal) when every
item's key at a position is a string or every one a number: the same order (a stable sort with the
same comparisons: for one type, moto's equality and order are those of the values). Any other case
(binary keys, mixed types, a missing attribute) takes moto's own sort, errors included.
"""

from __future__ import annotations

import copy
import functools
from collections import deque
from decimal import Decimal
from typing import Any

from moto.core.serialize import BaseJSONSerializer
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.models.table import Table
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


_NATIVE_TYPES = ("S", "N")


def _native_sorted(items: list[Any], keys: Any) -> list[Any] | None:
    """``sorted(items, key=lambda x: tuple(keys(x)))`` when each key position holds one type, S or N
    (compared by their values, as moto's DynamoType compares them); None to let moto sort."""
    rows = []
    types: list[Any] | None = None
    for item in items:
        values = keys(item)
        if values is None:
            return None
        row_types = [getattr(v, "type", None) for v in values]
        if types is None:
            if any(t not in _NATIVE_TYPES for t in row_types):
                return None
            types = row_types
        elif row_types != types:
            return None
        rows.append((tuple(v.value if v.type == "S" else Decimal(v.value) for v in values), item))
    rows.sort(key=lambda row: row[0])
    return [item for _, item in rows]


_moto_all_items = Table.all_items


def _all_items(self: Table) -> list[Any]:
    """moto's ``Table.all_items``: every item, by (hash key, range key), sorted by native values."""
    items: list[Any] = []
    for hash_set in self.items.values():
        if self.range_key_attr:
            items.extend(hash_set.values())
        else:
            items.append(hash_set)
    if self.range_key_attr and {(x.hash_key.type, getattr(x.range_key, "type", None)) for x in items} == {
        ("S", "S")
    }:  # the jobs table: string keys only
        return sorted(items, key=lambda x: (x.hash_key.value, x.range_key.value))
    ranged = [bool(x.range_key) for x in items]
    if all(ranged):
        found = _native_sorted(items, lambda x: (x.hash_key, x.range_key))
    elif not any(ranged):
        found = _native_sorted(items, lambda x: (x.hash_key,))
    else:
        found = None
    if found is not None:
        return found
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _sorted_items(
    self: Table, hash_key_attrs: list[str], range_key_attrs: list[str | None], items: list[Any]
) -> list[Any]:
    """moto's ``Table.sorted_items`` (sorts ``items`` in place and returns it), by native values."""
    attrs = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)

    def keys(item: Any) -> list[Any] | None:
        values = [item.attrs.get(name) for name in attrs]
        return None if any(v is None for v in values) else values

    found = _native_sorted(items, keys)
    if found is None:
        return _moto_sorted_items(self, hash_key_attrs, range_key_attrs, items)
    items[:] = found
    return items


_moto_sorted_items = Table.sorted_items


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
    Table.all_items = _all_items
    Table.sorted_items = _sorted_items
    ConditionExpressionParser._lex_condition_expression = _lex_condition_expression
    ActionCountValidator.traverse = _check_outermost_only
    OverlappingPathsValidator.traverse = _check_outermost_only
    _installed = True
