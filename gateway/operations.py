"""A GraphQL request as the gateway's own stages read it, before strawberry does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True, slots=True)
class Operation:
    query: str
    name: str | None
    variables: dict[str, Any]


def operation_of(body: object, *, extensions: bool = False, lenient: bool = False) -> Operation | None:
    """The query, operation name and variables of a decoded JSON body, or None when the body
    is not one plain GraphQL request (then strawberry answers it, with its error). With
    ``extensions``, an ``extensions`` member is allowed (and ignored) when empty. With
    ``lenient``, whatever strawberry would run: other members and extensions are ignored, as
    it ignores them (what prices and charges an operation must see every one that runs)."""
    if not isinstance(body, dict):
        return None
    allowed = {"query", "variables", "operationName", "extensions"} if extensions else {"query", "variables", "operationName"}
    if not lenient and (body.keys() - allowed or body.get("extensions")):
        return None
    query, name, variables = body.get("query"), body.get("operationName"), body.get("variables")
    if not isinstance(query, str) or not (name is None or isinstance(name, str)):
        return None
    if not (variables is None or isinstance(variables, dict)):
        return None
    return Operation(query, name, variables or {})


def query_string_request(query_string: bytes) -> dict[str, Any] | None:
    """A GET request's GraphQL parameters as a body would hold them; None without a ``query``
    (the playground) or with ``variables`` that are not JSON."""
    params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))  # as Starlette reads it
    if "query" not in params:
        return None
    request: dict[str, Any] = {"query": params["query"], "operationName": params.get("operationName")}
    if "variables" in params:
        try:
            request["variables"] = json.loads(params["variables"])
        except (ValueError, RecursionError):
            return None
    if params.get("extensions"):
        request["extensions"] = params["extensions"]
    return request
