"""Who pays for an operation, and whether they still can: budgets where they belong.

- A secret key is one merchant's or partner app's integration: a bucket per key
  (the shop's own size and restore rate, else ``JIMU_SECRET_KEY_BUDGET``), charged
  each operation's requested cost up front; what the answer cost less is given back.
- A publishable key is shared by every shopper of a mini-program: no shared bucket,
  ever (a sale day must not be throttled because many came). Only with
  ``JIMU_CLIENT_BUDGET`` does each client get one: per signed-in shopper, else per
  client address.
- The mutations scripts abuse are limited by default, one point each:
  ``shopperLogin`` per client address, ``couponClaim`` and ``assistHelp`` per shopper.

The client address is the peer's, or, when the peer is one of ``JIMU_TRUSTED_PROXIES``,
the nearest address in ``X-Forwarded-For`` that is not a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from adapters.shops.port import KeyKind
from adapters.shops.rules import hash_key
from gateway.auth import (
    InvalidToken,
    KeyDirectory,
    ShopAccess,
    ShopperTokens,
    access_in,
)
from gateway.budgets import Buckets
from gateway.cost import Priced
from gateway.settings import Rate, Settings

PRICED_KEY = "jimu.priced"  # the scope's copy of the operation's price
CHARGE_KEY = "jimu.charge"  # ...and of the bucket it was charged to


@dataclass(frozen=True, slots=True)
class Charge:
    """A bucket an operation was charged to: settled once its answer's cost is known."""

    key: str
    rate: Rate
    requested: int
    left: float


@dataclass(frozen=True, slots=True)
class Throttled:
    """Too little left: when to try again, and why."""

    retry_after: float
    message: str
    charge: Charge | None  # the cost bucket that refused, for the answer's throttleStatus


@dataclass(frozen=True, slots=True)
class TooCostly:
    """The operation costs more than the bucket can ever hold."""

    maximum: int


class Admission:
    def __init__(self, settings: Settings, keys: KeyDirectory, tokens: ShopperTokens, buckets: Buckets) -> None:
        self._settings = settings
        self._keys = keys
        self._tokens = tokens
        self._buckets = buckets
        self._proxies = [ipaddress.ip_network(n) for n in settings.trusted_proxies]
        self._limits = {
            "shopperLogin": (settings.login_limit, False),  # (rate, per shopper; else per address)
            "couponClaim": (settings.claim_limit, True),
            "assistHelp": (settings.help_limit, True),
        }

    async def admit(self, request: Request, priced: Priced) -> Charge | Throttled | TooCostly | None:
        """The operation's charge (None: no bucket applies), or why it may not run now."""
        key = request.headers.get("x-jimu-key", "").strip()
        access = await access_in(self._keys, request.scope)
        if access is None:
            return None  # the resolvers say what is wrong with the key
        shop_id = access.shop.id
        shopper = await self._shopper(request, shop_id)
        address = client_address(request.scope, self._proxies)
        taken: list[tuple[str, Rate, int]] = []
        for field in priced.mutations:
            limit = self._limits.get(field)
            if limit is None:
                continue
            rate, per_shopper = limit
            if per_shopper and shopper is None:
                continue  # no shopper: the resolver refuses it (UNAUTHENTICATED), nothing to count
            who = f"shopper:{shopper}" if per_shopper else f"ip:{address}"
            bucket = f"limit:{field}:{shop_id}:{who}"
            found = await self._buckets.take(bucket, rate, 1)
            if not found.taken:
                await self._give_back(taken)
                return Throttled(found.retry_after, f"too many {field} calls: try again in", None)
            taken.append((bucket, rate, 1))
        chosen = self._bucket(access, key, shopper, address)
        if chosen is None:
            return None
        bucket, rate = chosen
        if priced.requested > rate.points:
            await self._give_back(taken)
            return TooCostly(rate.points)
        found = await self._buckets.take(bucket, rate, priced.requested)
        charge = Charge(bucket, rate, priced.requested, found.left)
        if not found.taken:
            await self._give_back(taken)
            return Throttled(found.retry_after, f"the budget has {int(found.left)} of the {priced.requested} points this "
                             "operation costs: try again in", charge)
        return charge

    async def settle(self, charge: Charge, actual: int) -> dict[str, Any]:
        """Give back what the answer cost less than asked; the bucket's throttleStatus."""
        left = charge.left
        if actual < charge.requested:
            left = await self._buckets.give(charge.key, charge.rate, charge.requested - actual)
        return throttle_status(charge, left)

    def _bucket(self, access: ShopAccess, key: str, shopper: int | None, address: str) -> tuple[str, Rate] | None:
        if access.kind is KeyKind.SECRET:
            policy = access.shop.policy
            rate = self._settings.secret_key_budget
            if policy.budget_points is not None and policy.budget_restore is not None:
                rate = Rate(policy.budget_points, float(policy.budget_restore))
            return f"key:{hash_key(key)[:32]}", rate
        budget = self._settings.client_budget
        if budget is None:
            return None
        who = f"shopper:{shopper}" if shopper is not None else f"ip:{address}"
        return f"client:{access.shop.id}:{who}", budget

    async def _shopper(self, request: Request, shop_id: int) -> int | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            return await self._tokens.verify(token.strip(), shop_id)
        except InvalidToken:
            return None  # the resolvers refuse the token (a revoked one too); the budget is the address's

    async def _give_back(self, taken: list[tuple[str, Rate, int]]) -> None:
        for bucket, rate, points in taken:
            await self._buckets.give(bucket, rate, points)


def throttle_status(charge: Charge, left: float) -> dict[str, Any]:
    return {"maximumAvailable": charge.rate.points, "currentlyAvailable": int(left),
            "restoreRate": charge.rate.per_second}


def client_address(scope: dict[str, Any], proxies: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy, then the
    nearest ``X-Forwarded-For`` hop that is not one (a client may write the header's
    left end, never what the proxies appended after it)."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = [value.decode("latin-1") for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"]
    hops = [hop.strip() for line in forwarded for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


def _trusted(address: str, proxies: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)
