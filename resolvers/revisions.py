"""One way to revise a stored thing from an update's changes: read it, check it with the
update's changes as its create would, write it only if nobody changed it meanwhile (else read it
again), and say every refusal as userErrors (coupon templates, assist campaigns)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from resolvers.user_errors import user_error
from schema.common import UserError

TRIES = 3  # reads again after another writer changed it meanwhile

Stored = TypeVar("Stored")
Spec = TypeVar("Spec")


async def revised(
    what: str,
    load: Callable[[], Awaitable[Stored | None]],
    check: Callable[[Stored], Awaitable[tuple[list[UserError], Spec | None]]],
    write: Callable[[Stored, Spec], Awaitable[Stored | None]],
    changed: type[Exception],
    refused: type[Exception],
) -> tuple[Stored | None, list[UserError]]:
    """The revised ``what`` and no userErrors, or None and why: ``write`` raises ``changed``
    when the stored one is no longer the one read, ``refused`` when its history forbids the
    change, with ``problems`` as (field, code, reason), fields named as in the API."""
    missing = [user_error("NOT_FOUND", ["id"], f"no such {what} in this shop")]
    for _ in range(TRIES):
        old = await load()
        if old is None:
            return None, missing
        errors, spec = await check(old)
        if errors or spec is None:
            return None, errors
        try:
            new = await write(old, spec)
        except changed:
            continue
        except refused as exc:
            problems: list[tuple[str, str, str]] = exc.problems  # type: ignore[attr-defined]
            return None, [user_error(code, ["input", field], reason) for field, code, reason in problems]
        return (new, []) if new is not None else (None, missing)
    return None, [user_error("INVALID_STATE", ["id"], f"the {what} kept changing meanwhile: try again")]
