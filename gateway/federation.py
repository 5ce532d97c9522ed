"""The schema as an Apollo Federation v2 subgraph (``JIMU_FEDERATION=1``).

The same types, the same root fields, plus what a federation gateway asks for:
``_service { sdl }`` (the subgraph SDL, with ``@key`` on the entities and the
``@link`` importing them) and ``_entities(representations:)`` (resolvers/entities.py).

The keys live only in this schema. strawberry reads a type's directives from its
definition, which both schemas share; so the subgraph is built while the entity types
carry their keys, which they lose again at once, and the subgraph's own GraphQL types
point its printer at keyed copies. The plain schema (its SDL, introspection, build and
every request) is exactly what it is without federation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.schema.schema_converter import GraphQLCoreConverter

from gateway.errors import JimuSchema
from resolvers.entities import ENTITY_KEYS, resolve_entities


class FederatedSchema(strawberry.federation.Schema, JimuSchema):
    """The subgraph: strawberry's federation schema, with jimu's error handling."""

    async def entities_resolver(self, info: strawberry.Info, representations: list[Any]) -> list[Any]:  # type: ignore[override]
        # strawberry's own resolves one representation at a time; jimu's batches them.
        return await resolve_entities(info, representations)

    entities_resolver.__annotations__ = dict(strawberry.federation.Schema.entities_resolver.__annotations__)


def subgraph(**parts: Any) -> FederatedSchema:
    """The federation schema of ``parts`` (what ``strawberry.Schema`` takes), the entities keyed."""
    keys = {cls: [Key(fields=key) for key in names] for cls, names in ENTITY_KEYS.items()}
    with _keyed(keys):
        schema = FederatedSchema(**parts, federation_version="2.7")
    # What the subgraph prints (its _service.sdl) is read from each type's definition
    # through the GraphQL type's back-reference: this schema's alone get a keyed copy.
    for cls, added in keys.items():
        definition = cls.__strawberry_definition__
        graphql_type = schema._schema.get_type(definition.name)
        assert graphql_type is not None and graphql_type.extensions is not None
        copy = dataclasses.replace(definition, directives=[*definition.directives, *added])
        graphql_type.extensions = {**graphql_type.extensions, GraphQLCoreConverter.DEFINITION_BACKREF: copy}
    return schema


@contextmanager
def _keyed(keys: dict[type, list[Key]]) -> Iterator[None]:
    """While it lasts, each entity type is declared with its keys: strawberry finds the
    entities (the _Entity union) and the directives to import (the @link) from these.
    The definitions themselves stay the classes' own: executing resolves a value's type
    by the identity of its class's definition."""
    originals = {cls: cls.__strawberry_definition__.directives for cls in keys}
    try:
        for cls, added in keys.items():
            cls.__strawberry_definition__.directives = [*originals[cls], *added]
        yield
    finally:
        for cls, directives in originals.items():
            cls.__strawberry_definition__.directives = directives
