"""Every GraphQL error leaves with an ``extensions.code``; unexpected ones are masked.

Codes: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, SERVICE_UNAVAILABLE (from
``schema.errors``; and a merchant's own system that did not answer, ``extensions.capability``
naming which: goods or inventory), GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED (the
document), BAD_USER_INPUT (variables that do not coerce), INTERNAL_SERVER_ERROR
(anything else: a bug, logged with its traceback, its message hidden outside
development).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from adapters.unavailable import Unavailable
from schema.errors import ApiError, ServiceUnavailable

log = logging.getLogger("jimu.errors")

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL = "INTERNAL_SERVER_ERROR"
MASKED_MESSAGE = "Internal server error"


class TagValidationErrors(SchemaExtension):
    """Validation errors look like variable errors afterwards: tag them while we know."""

    def on_validate(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            _set_code(error, VALIDATION_FAILED)


def _set_code(error: GraphQLError, code: str) -> None:
    error.extensions = {**(error.extensions or {}), "code": code}


def _is_unexpected(error: GraphQLError) -> bool:
    return error.path is not None and not isinstance(error.original_error, ApiError | Unavailable)


def coded(errors: list[GraphQLError], *, mask: bool) -> list[GraphQLError]:
    """The errors, each with a code, unexpected ones masked when ``mask``."""
    out = []
    for error in errors:
        code = (error.extensions or {}).get("code")
        if code is None:
            if isinstance(error.original_error, ApiError):
                code = error.original_error.code
            elif isinstance(error.original_error, Unavailable):
                code = ServiceUnavailable.code
                error.extensions = {**(error.extensions or {}), "capability": error.original_error.capability}
            elif error.path is None:
                code = PARSE_FAILED if error.message.startswith("Syntax Error") else BAD_USER_INPUT
            else:
                code = INTERNAL
        if code == INTERNAL and mask:
            error = GraphQLError(MASKED_MESSAGE, nodes=error.nodes, path=error.path)
        _set_code(error, code)
        out.append(error)
    return out


class JimuSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected failures are answers, not incidents: only bugs reach the error log.
        for error in errors:
            if isinstance(error.original_error, Unavailable):
                log.warning("%s at %s", error.original_error, error.path)
            elif _is_unexpected(error):
                log.error("unexpected error at %s", error.path, exc_info=error.original_error or error)
