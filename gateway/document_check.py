"""Whether a GraphQL document may be persisted: it fits, it parses, and the served schema takes it.

Used for every document stored: a manifest's entries (``jimu documents push``) and what an
automatic persisted query registers, so that no text the gateway could never run fills the
table.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    validate,
)

from adapters.documents.port import Trusting
from adapters.documents.rules import (
    NotAManifest,
    id_problem,
    manifest_entries,
    sha256_of,
)
from gateway.edge import MAX_DOCUMENT
from gateway.graphql import MAX_TOKENS


def document_problem(schema: GraphQLSchema, document: str) -> str | None:
    """Why the document cannot be persisted, in plain words; None when it can."""
    if len(document) > MAX_DOCUMENT:
        return f"the document is longer than {MAX_DOCUMENT} characters"
    if "\x00" in document:
        return "the document holds U+0000 (NUL)"
    try:
        parsed = parse(document, no_location=True, max_tokens=MAX_TOKENS)
    except GraphQLError as exc:
        return f"the document does not parse: {exc.message}"
    except RecursionError:
        return "the document is nested too deeply"
    errors = validate(schema, parsed)
    if errors:
        return "; ".join(e.message for e in errors[:3]) + (f" (and {len(errors) - 3} more)" if len(errors) > 3 else "")
    return None


def operation_name(document: str) -> str | None:
    """The name of the document's first operation, for the list (None when anonymous)."""
    parsed = parse(document, no_location=True)
    for definition in parsed.definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition.name.value if definition.name else None
    return None


class ManifestRefused(Exception):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems  # (where in the file, why)


def read_manifest(schema: GraphQLSchema, path: Path) -> list[Trusting]:
    """Every document of an Apollo manifest or a Relay map, checked; ``ManifestRefused``
    listing every bad entry (then none is to be trusted)."""
    try:
        value = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ManifestRefused([(str(path), f"cannot read the file: {exc.strerror or exc}")]) from exc
    except orjson.JSONDecodeError as exc:
        raise ManifestRefused([(str(path), f"not JSON: {exc}")]) from exc
    try:
        entries = manifest_entries(value)
    except NotAManifest as exc:
        raise ManifestRefused([(str(path), str(exc))]) from exc
    problems: list[tuple[str, str]] = []
    checked: dict[str, Trusting] = {}
    for entry in entries:
        why = id_problem(entry.id)
        if why is None and not isinstance(entry.document, str):
            why = "the document (body) must be a string"
        if why is None and entry.name is not None and not isinstance(entry.name, str):
            why = "the name must be a string"
        if why is None:
            assert isinstance(entry.id, str) and isinstance(entry.document, str)
            why = document_problem(schema, entry.document)
        if why is None:
            assert isinstance(entry.id, str) and isinstance(entry.document, str)
            sha = sha256_of(entry.document)
            earlier = checked.get(entry.id)
            if earlier is not None and earlier.sha256 != sha:
                why = f"the id {entry.id!r} is given twice, with different documents"
            else:
                name = entry.name if isinstance(entry.name, str) else operation_name(entry.document)
                checked[entry.id] = Trusting(entry.id, entry.document, sha, (name or None) and name[:200])
        if why is not None:
            problems.append((entry.at, why))
    if problems:
        raise ManifestRefused(problems)
    if not checked:
        raise ManifestRefused([(str(path), "the manifest holds no documents")])
    return list(checked.values())
