"""The per-request context: who is asking, and fresh loaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cached_property

from starlette.requests import Request

from adapters.orders.checkout import Checkout
from adapters.payments.cashier import Cashier
from adapters.shops.port import KeyKind, Shop
from gateway.auth import (
    InvalidToken,
    KeyDirectory,
    ShopAccess,
    ShopperTokens,
    access_in,
)
from gateway.edge import ATTRIBUTION_KEY
from gateway.loaders import Loaders
from gateway.observe import SHOPPER_KEY
from gateway.reference import ReferenceCache
from gateway.settings import Settings
from gateway.wiring import Adapters
from schema.errors import Forbidden, Unauthenticated

_UNSET = object()


async def _tell_nobody(shop_id: int, shopper_id: int | None) -> None:
    return None


class Context:
    def __init__(
        self,
        request: Request,
        settings: Settings,
        adapters: Adapters,
        keys: KeyDirectory,
        tokens: ShopperTokens,
        cashier: Cashier,
        reference: ReferenceCache,
        invalidate: Callable[[int], Awaitable[None]],
        revoked: Callable[[int, int | None], Awaitable[None]] | None = None,
    ) -> None:
        self.request = request
        self.reference = reference
        self.invalidate = invalidate
        self.revoked = revoked or _tell_nobody  # every worker hears of a revoked key or token
        self.cashier = cashier
        self.settings = settings
        self.adapters = adapters
        self.tokens = tokens
        self._keys = keys
        self._access: ShopAccess | None = None
        self._shopper_id: object = _UNSET

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.adapters, self.reference)

    @property
    def checkout(self) -> Checkout:
        return self.cashier.checkout

    async def shop(self) -> Shop:
        """The shop named by ``X-Jimu-Key``; UNAUTHENTICATED without a valid key."""
        if self._access is None:
            key = self.request.headers.get("x-jimu-key", "").strip()
            if not key:
                raise Unauthenticated("send a shop key in the X-Jimu-Key header")
            access = await access_in(self._keys, self.request.scope)
            if access is None:
                raise Unauthenticated("the X-Jimu-Key is not a key of any shop")
            self._access = access
        return self._access.shop

    async def merchant_shop(self) -> Shop:
        """The shop, for merchant operations: FORBIDDEN with a publishable key."""
        shop = await self.shop()
        assert self._access is not None
        if self._access.kind is not KeyKind.SECRET:
            raise Forbidden("this operation needs the shop's secret key (sk_...)")
        return shop

    @property
    def attribution(self) -> tuple[int | None, str | None]:
        """The request's ``X-Jimu-Scene`` and ``X-Jimu-Channel``, as the edge checked them
        (a request that did not pass the edge fails here, rather than losing them)."""
        return self.request.scope[ATTRIBUTION_KEY]  # type: ignore[no-any-return]

    @property
    def merchant_key(self) -> bool:
        """Whether the request came with a secret key (known once ``shop()`` ran)."""
        return self._access is not None and self._access.kind is KeyKind.SECRET

    async def shopper_id(self) -> int | None:
        """The signed-in shopper, or None without a token; UNAUTHENTICATED for a bad one."""
        if self._shopper_id is _UNSET:
            shop = await self.shop()
            header = self.request.headers.get("authorization", "")
            if not header:
                self._shopper_id = None
            else:
                scheme, _, token = header.partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    raise Unauthenticated("send the shopper token as Authorization: Bearer <token>")
                try:
                    self._shopper_id = await self.tokens.verify(token.strip(), shop.id)
                except InvalidToken as exc:
                    raise Unauthenticated(str(exc)) from exc
                self.request.scope[SHOPPER_KEY] = self._shopper_id  # for the request's log line
        return self._shopper_id  # type: ignore[return-value]

