"""What an operation costs, known before it runs (Shopify's rule, statically).

An object costs 1, a scalar or an enum 0, a root mutation field 10. A list costs its
length times what one element costs: inside a connection (a field taking ``first`` or
``last``) the ``edges`` and ``nodes`` are as long as the page asked for (``last`` if
given, else ``first`` or its default, at most ``MAX_PAGE``); any other list is as long
as it is declared to reach at most (``LIST_SIZES``, else ``DEFAULT_LIST_SIZE``), but
``_entities`` (federation) is as long as the representations given. A union's members
are priced by the fragments selecting them.
Every selection counts, whatever ``@skip``/``@include`` or the runtime type decide,
so the figure is an upper bound. Introspection costs nothing: it reads only the schema.

A document is compiled once into a tree of ``_Field``; what varies per request is only
the page sizes its variables give, so a request's cost is one walk of the tree.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    parse,
    validate,
)

from schema.common import MAX_PAGE

OBJECT_COST = 1
MUTATION_COST = 10
DEFAULT_LIST_SIZE = 10
MAX_SELECTIONS = 20_000  # a document expanding past this is priced at its size, unwalked
# The most a list without a page argument holds, where that is not DEFAULT_LIST_SIZE:
# enough for what a storefront shows, no more.
LIST_SIZES: Mapping[str, int] = {
    "Query.categories": 50,
    "Query.regions": 40,
    "Product.skus": 10,
    "Product.coupons": 5,
    "Sku.deliveryOptions": 4,  # one per tier
    "DeliveryOption.slots": 14,
    "Cart.lines": 100,
    "Order.lines": 100,
}
# Lists exactly as long as a list argument: one federation entity per representation.
COUNTED: Mapping[str, str] = {"Query._entities": "representations"}

# A page size as a document gives it: a number, a variable (its name and the document's
# default for it), or nothing.
_Given = int | tuple[str, int | None] | None


@dataclass(frozen=True, slots=True)
class _Page:
    """Where a connection field's page size comes from."""

    first: _Given
    last: _Given
    default: int

    def size(self, variables: Mapping[str, Any]) -> int:
        for given in (self.last, self.first):
            value = variables.get(given[0], given[1]) if isinstance(given, tuple) else given
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # 100.0 is an Int to GraphQL: it must cost as 100
            if isinstance(value, int) and not isinstance(value, bool):
                return min(max(value, 0), MAX_PAGE)
        return self.default


@dataclass(frozen=True, slots=True)
class _Count:
    """A list as long as an argument's: the literal list's length, or the variable holding it."""

    given: int | str

    def size(self, variables: Mapping[str, Any]) -> int:
        if isinstance(self.given, int):
            return self.given
        value = variables.get(self.given)
        return len(value) if isinstance(value, list) else 1  # GraphQL makes one value a list of one


@dataclass(frozen=True)
class _Field:
    key: str  # the response key: the alias, or the field's name
    name: str
    nullable: bool
    nullable_items: bool
    own: int  # OBJECT_COST, MUTATION_COST at the mutation root, 0 for a leaf
    length: int | None  # a list's declared length; None: as long as the enclosing page; 1: one value
    page: _Page | None  # a connection field's page, which its edges and nodes follow
    below: tuple[_Field, ...]
    count: _Count | None = None  # a list as long as an argument's (COUNTED), whatever ``length`` says

    def cost(self, variables: Mapping[str, Any], page: int) -> int:
        inner = self.page.size(variables) if self.page is not None else 1
        below = sum(field.cost(variables, inner) for field in self.below)
        if self.count is not None:
            return self.count.size(variables) * (self.own + below)
        return (page if self.length is None else self.length) * (self.own + below)

    @cached_property
    def objects(self) -> tuple[_Field, ...]:
        """The fields below that are objects (leaves cost nothing)."""
        return tuple(field for field in self.below if field.own)

    @cached_property
    def each(self) -> int | None:
        """What one object of this field costs when nothing below it can vary (no list, no
        object that may be null): then an answer's objects need not be visited to count."""
        if any(f.length != 1 or f.nullable or f.each is None for f in self.objects):
            return None
        return self.own + sum(f.each for f in self.objects)  # type: ignore[misc]


class Costs:
    """Compiled documents' costs, per worker (least recently used out first)."""

    def __init__(
        self, schema: GraphQLSchema, max_documents: int = 1024, *, limits: Sequence[type[ASTValidationRule]] = (),
        max_tokens: int | None = None,
    ) -> None:
        self._schema = schema
        self._limits = list(limits)  # checked before a document is priced: its size bounds the work
        self._max_tokens = max_tokens
        self._compiled: OrderedDict[tuple[str, str | None], _Compiled | _TooLarge | None] = OrderedDict()
        self._max = max_documents

    def of(self, query: str, operation_name: str | None, variables: Mapping[str, Any] | None) -> Priced | None:
        """The operation's cost, or None for a document that does not name one operation of
        this schema (the executor then says what is wrong with it)."""
        key = (query, operation_name)
        if key in self._compiled:
            self._compiled.move_to_end(key)
            compiled = self._compiled[key]
        else:
            found = _compile(self._schema, query, operation_name, self._limits, self._max_tokens)
            if found is None or isinstance(found, _TooLarge):
                compiled = self._compiled[key] = found
            else:
                compiled = self._compiled[key] = _Compiled(*found)
            if len(self._compiled) > self._max:
                self._compiled.popitem(last=False)
        return None if compiled is None else compiled.priced(variables or {})


@dataclass(frozen=True, slots=True)
class _TooLarge:
    """A document that expands past MAX_SELECTIONS: priced at its expanded size, never walked."""

    selections: int

    def priced(self, variables: Mapping[str, Any]) -> Priced:
        return Priced(self.selections, _nothing, ())


def _nothing(_: Mapping[str, Any]) -> int:
    return 0


class _Compiled:
    """A document's tree, its counter of answers, and its price per page size asked."""

    def __init__(self, tree: tuple[_Field, ...], mutation: bool) -> None:
        self.tree = tree
        self.count = _counter(tree)
        self.mutations = tuple(field.name for field in tree) if mutation else ()
        self._prices: dict[tuple[Any, ...], Priced] = {}
        self._page_variables = tuple(sorted(_page_variables(tree)))

    def priced(self, variables: Mapping[str, Any]) -> Priced:
        # Only the variables that size pages change the price: most requests find it here.
        sizes = tuple(_hashable(variables.get(name)) for name in self._page_variables)
        priced = self._prices.get(sizes)
        if priced is None:
            if len(self._prices) > 64:
                self._prices.clear()
            priced = self._prices[sizes] = Priced(sum(f.cost(variables, 1) for f in self.tree), self.count,
                                                  self.mutations)
        return priced


@dataclass(frozen=True, slots=True)
class Priced:
    """An operation's requested cost, and what counts its answer's."""

    requested: int
    count: Callable[[Mapping[str, Any]], int]
    mutations: tuple[str, ...]  # the root mutation fields asked for, once per response key

    def actual(self, data: Mapping[str, Any] | None) -> int:
        """What the answer cost: each object in it, priced as the request was."""
        return 0 if data is None else self.count(data)


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return ("list", len(value))  # a list prices by its length only (and a page size is never one)
    return value if isinstance(value, int | str | None) else repr(value)


def _page_variables(fields: tuple[_Field, ...]) -> set[str]:
    found: set[str] = set()
    for field in fields:
        if field.page is not None:
            found.update(given[0] for given in (field.page.first, field.page.last) if isinstance(given, tuple))
        if field.count is not None and isinstance(field.count.given, str):
            found.add(field.count.given)
        found |= _page_variables(field.below)
    return found


def _counter(tree: tuple[_Field, ...]) -> Callable[[Mapping[str, Any]], int]:
    """A function counting what an answer of ``tree``'s shape cost, written for that shape.

    It runs on every answer computed, a loop per list and a test per value that may be
    null: a walk of the answer, generic over the tree, cost ten times as much (a listing
    of 20 products: 270 µs, against 60 µs to serialize it). Subtrees that cannot vary are
    counted without a visit (``_Field.each``). Keys go in as ``repr`` of GraphQL names."""
    lines = ["def count(value0):", "    total = 0"]
    names = itertools.count(1)

    def emit(fields: tuple[_Field, ...], holder: str, depth: int) -> None:
        pad = "    " * depth
        for field in fields:
            if not field.own:
                continue
            value = f"value{next(names)}"
            lines.append(f"{pad}{value} = {holder}.get({field.key!r})")
            lines.append(f"{pad}if {value} is not None:")
            if field.length == 1 and field.each is not None:
                lines.append(f"{pad}    total += {field.each}")
            elif field.length == 1:
                lines.append(f"{pad}    total += {field.own}")
                emit(field.objects, value, depth + 1)
            elif field.each is not None and not field.nullable_items:
                lines.append(f"{pad}    total += {field.each} * len({value})")
            else:
                item = f"value{next(names)}"
                lines.append(f"{pad}    for {item} in {value}:")
                lines.append(f"{pad}        if {item} is not None:")
                if field.each is not None:
                    lines.append(f"{pad}            total += {field.each}")
                else:
                    lines.append(f"{pad}            total += {field.own}")
                    emit(field.objects, item, depth + 3)

    emit(tree, "value0", 1)
    lines.append("    return total")
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), namespace)  # noqa: S102 - our own text: numbers and repr'd GraphQL names
    return namespace["count"]  # type: ignore[no-any-return]


def _compile(
    schema: GraphQLSchema, query: str, operation_name: str | None,
    limits: list[type[ASTValidationRule]] | None = None, max_tokens: int | None = None,
) -> tuple[tuple[_Field, ...], bool] | _TooLarge | None:
    """The document's tree, and whether it is a mutation; None when it names no one operation
    or breaks a limit (the executor then says what is wrong with it)."""
    try:
        document = parse(query, max_tokens=max_tokens)
    except GraphQLError:
        return None
    operation = _operation(document, operation_name)
    if operation is None:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    expanded = _expanded_size(operation, fragments)
    if expanded > MAX_SELECTIONS:  # before validation, whose rules walk every expansion
        return _TooLarge(expanded)
    if limits and validate(schema, document, limits):
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    defaults = {
        d.variable.name.value: int(d.default_value.value)
        for d in operation.variable_definitions or ()
        if isinstance(d.default_value, IntValueNode)
    }
    mutation = operation.operation is OperationType.MUTATION
    own = MUTATION_COST if mutation else OBJECT_COST
    return _Compiler(schema, fragments, defaults).selections(root, operation.selection_set, root_cost=own), mutation


class _Compiler:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], defaults: dict[str, int]) -> None:
        self._schema = schema
        self._fragments = fragments
        self._defaults = defaults  # variables' defaults in the document, for page sizes

    def selections(
        self, parent: Any, selection_set: SelectionSetNode, *, root_cost: int | None = None, in_page: bool = False,
        seen: frozenset[str] = frozenset(),
    ) -> tuple[_Field, ...]:
        found: list[_Field] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field = _definition(parent, selection.name.value)
                if field is not None:  # __typename and introspection cost nothing; unknowns fail validation
                    found.append(self._field(parent, field, selection, root_cost, in_page))
                continue
            if isinstance(selection, InlineFragmentNode):
                condition, inner = selection.type_condition, selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments.get(selection.name.value)
                if fragment is None or fragment.name.value in seen:  # a cycle fails validation
                    continue
                condition, inner = fragment.type_condition, fragment.selection_set
                seen = seen | {fragment.name.value}
            else:
                continue
            on = self._schema.get_type(condition.name.value) if condition is not None else parent
            found.extend(self.selections(on or parent, inner, root_cost=root_cost, in_page=in_page, seen=seen))
        return _merged(found)

    def _field(self, parent: Any, field: GraphQLField, node: FieldNode, root_cost: int | None, in_page: bool) -> _Field:
        nullable = not isinstance(field.type, GraphQLNonNull)
        type_ = field.type if nullable else field.type.of_type
        named = get_named_type(type_)
        nullable_items = isinstance(type_, GraphQLList) and not isinstance(type_.of_type, GraphQLNonNull)
        key = node.alias.value if node.alias else node.name.value
        if isinstance(type_, GraphQLList):
            length = None if in_page else LIST_SIZES.get(f"{parent.name}.{node.name.value}", DEFAULT_LIST_SIZE)
        else:
            length = 1
        page = None
        if "first" in field.args or "last" in field.args:
            default = field.args["first"].default_value if "first" in field.args else None
            page = _Page(self._given(node, "first"), self._given(node, "last"),
                         default if isinstance(default, int) else DEFAULT_LIST_SIZE)
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType) or node.selection_set is None:
            return _Field(key=key, name=node.name.value, nullable=nullable, nullable_items=nullable_items, own=0, length=length, page=None,
                          below=())
        below = self.selections(named, node.selection_set, in_page=page is not None)
        counted = COUNTED.get(f"{parent.name}.{node.name.value}")
        return _Field(key=key, name=node.name.value, nullable=nullable, nullable_items=nullable_items,
                      own=OBJECT_COST if root_cost is None else root_cost, length=length, page=page, below=below,
                      count=_counted(node, counted) if counted is not None else None)

    def _given(self, node: FieldNode, name: str) -> _Given:
        value: ValueNode | None = next((a.value for a in node.arguments or () if a.name.value == name), None)
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            name = value.name.value
            return (name, self._defaults.get(name))
        return None


def _counted(node: FieldNode, argument: str) -> _Count:
    value: ValueNode | None = next((a.value for a in node.arguments or () if a.name.value == argument), None)
    if isinstance(value, VariableNode):
        return _Count(value.name.value)
    return _Count(len(value.values) if isinstance(value, ListValueNode) else 1)


def _merged(fields: list[_Field]) -> tuple[_Field, ...]:
    """One field per response key, as the executor merges them: a key selected twice (by
    two fragments, say) is one value in the answer, with both selections below it."""
    by_key: dict[str, _Field] = {}
    for field in fields:
        held = by_key.get(field.key)
        by_key[field.key] = field if held is None else replace(held, below=_merged([*held.below, *field.below]))
    return tuple(by_key.values())


def _operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [
        d for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and (operation_name is None or (d.name and d.name.value == operation_name))
    ]
    return operations[0] if len(operations) == 1 else None


def _expanded_size(operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]) -> int:
    """How many selections the operation holds once every fragment spread is written out.
    Each fragment is sized once: a few lines that spread a fragment twice, which spreads
    another twice, expand to millions, and must be refused before anything walks them."""
    sizes: dict[str, int] = {}

    def size(selection_set: SelectionSetNode | None, visiting: frozenset[str]) -> int:
        total = 0
        for selection in selection_set.selections if selection_set is not None else ():
            if isinstance(selection, FieldNode):
                total += 1 + size(selection.selection_set, visiting)
            elif isinstance(selection, InlineFragmentNode):
                total += size(selection.selection_set, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in visiting:
                    continue  # unknown or a cycle: validation says so
                if name not in sizes:
                    sizes[name] = size(fragment.selection_set, visiting | {name})
                total += sizes[name]
        return total

    return size(operation.selection_set, frozenset())


def _definition(parent: Any, name: str) -> GraphQLField | None:
    if name.startswith("__") or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return None
    return parent.fields.get(name)
