"""Errors that reach the client as GraphQL errors with ``extensions.code``.

Expected failures of a mutation are ``userErrors`` in its payload, not these;
these are for requests that cannot be answered at all::

    ApiError
    ├── Unauthenticated      no key, an unknown key, a bad or expired shopper token
    ├── Forbidden            a storefront key on a merchant operation, another shopper's data
    ├── BadUserInput         an argument out of range or malformed
    └── ServiceUnavailable   an upstream provider did not answer
"""

from __future__ import annotations


class ApiError(Exception):
    code = "INTERNAL_SERVER_ERROR"


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"


class Forbidden(ApiError):
    code = "FORBIDDEN"


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


class ServiceUnavailable(ApiError):
    code = "SERVICE_UNAVAILABLE"
