"""A faster executor for query documents the generic path has already answered.

graphql-core resolves a listing page field by field: some 1,500 resolver
calls, each wrapped by strawberry, many of them tasks, for 20 products. Here
the same document is executed level by level instead: each field is resolved
for every object of its level at once (one batch call where the field's
resolver declares a batch, see ``schema.batching``; plain attributes read
directly), then serialized with the schema's own scalar and enum functions.
Fields, fragments, ``@skip``/``@include``, arguments and variables are
collected and coerced by graphql-core's own functions, so the answer is the
generic one, byte for byte (``tests/api/test_fastpath.py`` holds it so).

A plan is made only for a query document that the generic path answered
without any error (so it parsed and validated under the same limits), and
only when every type it reaches is an object type. Whenever a plan cannot
answer exactly (a resolver raises, a non-null value is missing, variables do
not coerce), it returns None and the generic path answers instead, errors
and all.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from schema.batching import batch_of

_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_MAX_MADE = 3_000


class Unsupported(Exception):
    """The document reaches something this executor does not do: the generic path always will."""


class _Fallback(Exception):
    """This request cannot be answered exactly here: the generic path answers it."""


class Plans:
    """Plans by (document, operation name), for documents already answered without errors."""

    def __init__(self, schema: GraphQLSchema, name_converter: Any, max_plans: int = 256) -> None:
        self._schema = schema
        self._names = name_converter
        self._max = max_plans
        self._plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()

    def get(self, query: str, operation_name: str | None) -> Plan | None:
        return self._plans.get((query, operation_name))

    def learn(self, query: str, operation_name: str | None) -> None:
        key = (query, operation_name)
        if key in self._plans:
            return
        try:
            plan: Plan | None = Plan(self._schema, self._names, parse(query), operation_name)
        except (Unsupported, GraphQLError):
            plan = None  # remembered: not tried again
        self._plans[key] = plan
        if len(self._plans) > self._max:
            self._plans.popitem(last=False)


class Plan:
    def __init__(self, schema: GraphQLSchema, names: Any, document: DocumentNode, operation_name: str | None) -> None:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is not None:
            operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
        if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
            raise Unsupported("one query operation")
        self._operation = operations[0]
        self.operation_name = self._operation.name.value if self._operation.name else None
        self._fragments: dict[str, FragmentDetails] = {}
        self._fragment_nodes: dict[str, FragmentDefinitionNode] = {}
        for d in document.definitions:
            if isinstance(d, FragmentDefinitionNode):
                if d.variable_definitions:
                    raise Unsupported("fragment variables")
                self._fragments[d.name.value] = FragmentDetails(d, None)
                self._fragment_nodes[d.name.value] = d
        self._schema = schema
        self._names = names
        query_type = schema.query_type
        assert query_type is not None
        self._query_type = query_type
        self._arg_names: dict[int, dict[str, str]] = {}
        # What a subtree without resolvers made of an object, by (shape, object): the same
        # object (reference data is held, see gateway.reference) always makes the same answer.
        self._collected: dict[tuple[Any, ...], tuple[dict[str, list[FieldDetails]], int]] = {}
        self._shapes = 0  # each collected selection gets a number: cheap to hash
        self._pure: dict[int, bool] = {}
        self._splits: dict[int, Any] = {}
        self._roots: dict[bytes, dict[str, list[FieldDetails]]] = {}
        self._declared = frozenset(v.variable.name.value for v in self._operation.variable_definitions or ())
        self._made: dict[tuple[int, int], tuple[Any, dict[str, Any]]] = {}

    def _next_shape(self) -> int:
        self._shapes += 1
        return self._shapes

    async def run(self, context: Any, raw_variables: dict[str, Any] | None) -> dict[str, Any] | None:
        """The response's ``data``, or None when the generic path must answer."""
        variables = get_variable_values(self._schema, self._operation.variable_definitions or (), raw_variables or {})
        if isinstance(variables, list):
            return None
        try:
            # Keyed by the declared variables only: others change nothing, and must not grow the memos.
            declared = {k: v for k, v in (raw_variables or {}).items() if k in self._declared}
            run = _Run(self, context, variables, orjson.dumps(declared, option=orjson.OPT_SORT_KEYS))
            root = self._roots.get(run.variables_key)
            if root is None:
                if len(self._roots) > 64:
                    self._roots.clear()
                collected = collect_fields(self._schema, self._fragments, variables, self._query_type, self._operation)
                root = self._roots[run.variables_key] = collected.grouped_field_set
            [data] = await run.object(self._query_type, [None], root)
        except _Fallback:
            return None
        except Unsupported:
            return None
        except Exception:  # noqa: BLE001 - any failure is the generic path's to report, with its error
            return None
        return data  # type: ignore[no-any-return]


class _Run:
    """One execution of a plan."""

    def __init__(self, plan: Plan, context: Any, variables: Any, variables_key: bytes) -> None:
        self.plan = plan
        self.context = context
        self.variables = variables
        self.variables_key = variables_key

    async def object(
        self, type_: GraphQLObjectType, sources: Sequence[Any], fields: dict[str, list[FieldDetails]], shape: int = 0
    ) -> list[dict[str, Any] | None]:
        if type_ is self.plan._query_type:
            return await self.rows(type_, list(sources), fields)
        present = [s for s in sources if s is not None]
        if self._is_pure(shape, type_, fields):
            rows = self._made_rows(shape, present)
            todo = [s for s, row in zip(present, rows, strict=True) if row is None]
            if todo:
                made = iter(await self.rows(type_, todo, fields))
                rows = [row if row is not None else next(made) for row in rows]
                self._keep(shape, todo, rows, present)
        else:
            split = self._split(shape, type_, fields)
            if split is None:
                rows = await self.rows(type_, present, fields)
            else:  # what does not resolve anything is kept per object; the rest is made again
                pure_fields, pure_shape, rest, order = split
                kept = await self.object(type_, present, pure_fields, pure_shape)
                made = await self.rows(type_, present, rest)
                rows = []
                for p, m in zip(kept, made, strict=True):
                    row = order.copy()  # the keys in the selection's order; update keeps it
                    row.update(p)  # type: ignore[arg-type]
                    row.update(m)  # type: ignore[arg-type]
                    rows.append(row)
        if len(present) == len(sources):
            return rows
        filled = iter(rows)
        return [None if s is None else next(filled) for s in sources]

    def _split(
        self, shape: int, type_: GraphQLObjectType, fields: dict[str, list[FieldDetails]]
    ) -> tuple[dict[str, list[FieldDetails]], int, dict[str, list[FieldDetails]], dict[str, None]] | None:
        """A level's fields in two: those whose answer depends on the object alone (kept
        per object under a shape of their own) and the rest, with every key in order (a
        row to fill); None when either is empty."""
        plan = self.plan
        if shape in plan._splits:
            return plan._splits[shape]
        pure = {k: d for k, d in fields.items() if self._structurally_pure(type_, {k: d})}
        split = None
        if pure and len(pure) < len(fields):
            pure_shape = plan._next_shape()
            plan._pure[pure_shape] = True
            rest = {k: d for k, d in fields.items() if k not in pure}
            split = (pure, pure_shape, rest, dict.fromkeys(fields))
        plan._splits[shape] = split
        return split

    def _made_rows(self, shape: int, present: list[Any]) -> list[Any]:
        made = self.plan._made
        out = []
        for source in present:
            kept = made.get((shape, id(source)))
            out.append(kept[1] if kept is not None and kept[0] is source else None)
        return out

    def _keep(self, shape: int, todo: list[Any], rows: list[Any], present: list[Any]) -> None:
        made = self.plan._made
        if len(made) > _MAX_MADE:
            made.clear()
        wanted = {id(s) for s in todo}
        for source, row in zip(present, rows, strict=True):
            if id(source) in wanted:
                made[(shape, id(source))] = (source, row)  # holding the source keeps its id its own

    def _is_pure(self, shape: int, type_: GraphQLObjectType, fields: dict[str, list[FieldDetails]]) -> bool:
        """Whether no field below resolves anything: then an object's answer depends on it alone."""
        known = self.plan._pure.get(shape)
        if known is None:
            known = self.plan._pure[shape] = self._structurally_pure(type_, fields)
        return known

    def _structurally_pure(self, type_: GraphQLObjectType, fields: dict[str, list[FieldDetails]]) -> bool:
        for details in fields.values():
            name = details[0].node.name.value
            if name == "__typename":
                continue
            field = type_.fields.get(name)
            if field is None or _attribute(field) is None:
                return False
            target = field.type
            while isinstance(target, GraphQLNonNull | GraphQLList):
                target = target.of_type
            if isinstance(target, GraphQLObjectType):
                sub, _ = self._subfields(target, details)
                if not self._structurally_pure(target, sub):
                    return False
            elif not isinstance(target, GraphQLScalarType | GraphQLEnumType):
                return False
        return True

    async def rows(
        self, type_: GraphQLObjectType, present: list[Any], fields: dict[str, list[FieldDetails]]
    ) -> list[dict[str, Any] | None]:
        wanted: list[tuple[str, GraphQLField | None, list[FieldDetails]]] = []
        for key, details in fields.items():
            name = details[0].node.name.value
            field = None if name == "__typename" else type_.fields.get(name)
            if field is None and name != "__typename":
                raise Unsupported(f"{type_.name}.{name}")
            wanted.append((key, field, details))
        # One field after the other: each takes its whole level in one batch call already,
        # and a task per field cost more CPU than the overlap of their waits saved.
        resolved = iter([
            await self.resolve(type_, key, field, details, present)
            for key, field, details in wanted
            if field is not None and _attribute(field) is None
        ])
        columns: list[tuple[str, list[Any]]] = []
        for key, field, details in wanted:
            if field is None:
                columns.append((key, [type_.name] * len(present)))
                continue
            name = _attribute(field)
            values = [getattr(s, name) for s in present] if name is not None else next(resolved)
            columns.append((key, await self.complete(field.type, values, details)))
        if not columns:  # everything selected was skipped
            return [{} for _ in present]
        keys = [key for key, _ in columns]
        return [dict(zip(keys, values, strict=True)) for values in zip(*(column for _, column in columns), strict=True)]

    async def resolve(
        self, parent: GraphQLObjectType, key: str, field: GraphQLField, details: list[FieldDetails], sources: list[Any]
    ) -> list[Any]:
        definition = field.extensions.get(_BACKREF)
        if not isinstance(definition, StrawberryField):
            raise Unsupported(f"{parent.name}.{details[0].node.name.value} is not strawberry's")
        args = get_argument_values(field, details[0].node, self.variables)
        batch = batch_of(definition)
        if batch is not None and sources:
            return list(await batch(self.context, sources, **self._python_args(definition, args)))
        info = GraphQLResolveInfo(
            details[0].node.name.value, [d.node for d in details], field.type, parent, Path(None, key, parent.name),
            self.plan._schema, self.plan._fragment_nodes, None, self.plan._operation, self.variables,
            self.context, inspect.isawaitable, None, None,  # type: ignore[arg-type]
        )
        resolve = field.resolve
        assert resolve is not None
        out = [resolve(source, info, **args) for source in sources]  # no batch: once per object
        if any(inspect.isawaitable(v) for v in out):
            out = await asyncio.gather(*(_awaited(v) for v in out))  # together, so loaders still batch
        return out

    def _python_args(self, definition: StrawberryField, args: dict[str, Any]) -> dict[str, Any]:
        names = self.plan._arg_names.get(id(definition))
        if names is None:
            names = {self.plan._names.get_graphql_name(a): a.python_name for a in definition.arguments}
            self.plan._arg_names[id(definition)] = names
        return {names[k]: v for k, v in args.items()}

    async def complete(self, type_: GraphQLOutputType, values: list[Any], details: list[FieldDetails]) -> list[Any]:
        if isinstance(type_, GraphQLNonNull):
            done = await self.complete(type_.of_type, values, details)
            if None in done:
                raise _Fallback  # the generic path reports the null, with its path
            return done
        if isinstance(type_, GraphQLList):
            item = type_.of_type.of_type if isinstance(type_.of_type, GraphQLNonNull) else type_.of_type
            if isinstance(item, GraphQLObjectType) and values:
                fields, shape = self._subfields(item, details)
                if self._is_pure(shape, item, fields):
                    return await self._kept_lists(type_, values, details, -shape)
            return await self._lists(type_, values, details)
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            return [None if v is None else _leaf(type_, v) for v in values]
        if isinstance(type_, GraphQLObjectType):
            if not values:
                return []
            fields, shape = self._subfields(type_, details)
            return await self.object(type_, values, fields, shape)
        raise Unsupported(f"abstract type {type_}")

    async def _kept_lists(self, type_: GraphQLList[Any], values: list[Any], details: list[FieldDetails], shape: int) -> list[Any]:
        """Lists of objects whose answers depend on the objects alone, kept per list object
        (held lists, such as a SKU's delivery options, come back as the same object)."""
        done = self._made_rows(shape, values)
        todo = [v for v, d in zip(values, done, strict=True) if d is None and v is not None]
        if todo:
            made = iter(await self._lists(type_, todo, details))
            done = [d if d is not None or v is None else next(made) for v, d in zip(values, done, strict=True)]
            self._keep(shape, todo, done, values)
        return done

    async def _lists(self, type_: GraphQLList[Any], values: list[Any], details: list[FieldDetails]) -> list[Any]:
        """Every list's items completed together, then cut back into lists."""
        items: list[Any] = []
        sizes: list[int | None] = []
        for value in values:
            if value is None:
                sizes.append(None)
                continue
            if type(value) is list:
                listed = value
            elif isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
                raise _Fallback
            else:
                listed = list(value)
            sizes.append(len(listed))
            items.extend(listed)
        done = await self.complete(type_.of_type, items, details)
        out: list[Any] = []
        at = 0
        for size in sizes:
            if size is None:
                out.append(None)
            else:
                out.append(done[at : at + size])
                at += size
        return out

    def _subfields(self, type_: GraphQLObjectType, details: list[FieldDetails]) -> tuple[dict[str, list[FieldDetails]], int]:
        """The fields selected below ``details`` on ``type_``, and a number for that shape;
        collected once per document and variables."""
        plan = self.plan
        key = (id(type_), self.variables_key, *(id(d.node) for d in details))
        known = plan._collected.get(key)
        if known is None:
            if len(plan._collected) > _MAX_MADE:
                plan._collected.clear()
                plan._made.clear()
                plan._pure.clear()
                plan._splits.clear()
            collected = collect_subfields(plan._schema, plan._fragments, self.variables, plan._operation, type_, details)
            known = plan._collected[key] = (collected.grouped_field_set, plan._next_shape())
        return known


_ATTRIBUTES: dict[int, str | None] = {}


def _attribute(field: GraphQLField) -> str | None:
    """The attribute a field without a resolver reads, or None for a field with one."""
    known = _ATTRIBUTES.get(id(field), _ATTRIBUTES)
    if known is not _ATTRIBUTES:
        return known  # type: ignore[return-value]
    definition = field.extensions.get(_BACKREF)
    name = None
    if isinstance(definition, StrawberryField) and definition.is_basic_field and not definition.extensions:
        name = definition.python_name
    _ATTRIBUTES[id(field)] = name  # fields live as long as the one schema
    return name


# Enum values serialize to their names whatever the request: remembered per (type, value).
_ENUM_NAMES: dict[tuple[int, Any], Any] = {}


async def _awaited(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _leaf(type_: GraphQLScalarType | GraphQLEnumType, value: Any) -> Any:
    # The built-in scalars' own serializers return these values unchanged; anything
    # else goes through the schema's serializer, exactly as graphql-core does.
    kind = type(value)
    if (type_ is GraphQLString or type_ is GraphQLID) and kind is str:
        return value
    if type_ is GraphQLBoolean and kind is bool:
        return value
    if type_ is GraphQLInt and kind is int and _INT_MIN <= value <= _INT_MAX:
        return value
    if isinstance(type_, GraphQLEnumType):
        key = (id(type_), value)
        name = _ENUM_NAMES.get(key)
        if name is None:
            name = _ENUM_NAMES[key] = _serialize(type_, value)
        return name
    return _serialize(type_, value)


def _serialize(type_: GraphQLScalarType | GraphQLEnumType, value: Any) -> Any:
    try:
        serialized = type_.serialize(value)
    except Exception as exc:  # the generic path turns it into a field error
        raise _Fallback from exc
    if serialized is None or serialized is Undefined:
        raise _Fallback
    return serialized
