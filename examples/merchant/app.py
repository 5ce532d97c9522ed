"""The reference merchant system's routes: the contract's, signed; and /control.

Settings (environment): MERCHANT_DATABASE_URL (an SQLite URL), MERCHANT_CATALOG (jimu.catalog/1
files loaded at start, separated by the OS path separator; the last one's shop is served),
MERCHANT_SECRET (the shared secret jimu signs with).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.catalog.format import parse_catalog
from adapters.catalog.sql import SqlCatalogStore
from adapters.db import Database, utcnow
from adapters.goods.port import Position, ProductQuery, SortKey
from adapters.goods.sql import SqlGoodsCatalog
from adapters.inventory.port import (
    InventoryError,
    OutOfStock,
    PurchaseLimitExceeded,
    ReservationState,
    WantedLine,
)
from adapters.inventory.sql import ReservationRow, SqlInventory
from adapters.paging import Window
from adapters.remote import wire
from adapters.remote.signing import verify
from adapters.shops.sql import SqlShopStore
from gateway.migrate import upgrade

Handler = Callable[["Merchant", dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass
class Behaviour:
    """What /control asked for: a delay before each answer, and a way to answer wrongly."""

    delay: float = 0.0
    mode: str = "ok"  # ok | fail | garbage | wrong-ids | duplicates
    paths: frozenset[str] | None = None  # the routes it applies to; None: every route
    calls: int = 0  # contract calls answered since the last /control

    def applies(self, path: str) -> bool:
        return self.paths is None or path in self.paths


class Refused(Exception):
    """A refusal the contract names: 409 with its code and the SKU codes at fault."""

    def __init__(self, code: str, sku_codes: list[str]) -> None:
        super().__init__(code)
        self.code, self.sku_codes = code, sku_codes


class Merchant:
    def __init__(self, db: Database, shop_id: int, handle: str, secret: str) -> None:
        self.db, self.shop_id, self.handle, self.secret = db, shop_id, handle, secret
        self.goods = SqlGoodsCatalog(db)
        self.inventory = SqlInventory(db)
        self.behaviour = Behaviour()

    async def ids(self, codes: list[str]) -> dict[str, int]:
        """Its own ids of the SKUs among ``codes`` (stock is keyed by code in the contract)."""
        found = await self.goods.skus_by_code(self.shop_id, codes) if codes else []
        return {s.code: s.id for s in found if s is not None}

    async def codes(self, ids: Any) -> dict[int, str]:
        found = await self.goods.skus_by_id(self.shop_id, list(ids)) if ids else []
        return {s.id: s.code for s in found if s is not None}

    async def reservation(self, r: Any) -> dict[str, Any] | None:
        if r is None:
            return None
        codes = await self.codes([ln.sku_id for ln in r.lines])
        return wire.Reservation.from_domain(r, codes).model_dump(mode="json")


async def _products_by_id(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    return {"items": [_product(p) for p in await m.goods.products_by_id(m.shop_id, body["ids"])]}


async def _products_by_handle(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    return {"items": [_product(p) for p in await m.goods.products_by_handle(m.shop_id, body["handles"])]}


async def _skus_by_id(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    return {"items": [_sku(s) for s in await m.goods.skus_by_id(m.shop_id, body["ids"])]}


async def _skus_by_code(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    return {"items": [_sku(s) for s in await m.goods.skus_by_code(m.shop_id, body["codes"])]}


async def _skus_by_product(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    lists = await m.goods.skus_by_product(m.shop_id, body["productIds"])
    return {"items": [[_sku(s) for s in skus] for skus in lists]}


async def _categories(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    return {"items": [wire.Category(id=c.id, handle=c.handle, name=c.name, parentId=c.parent_id).model_dump(mode="json")
                      for c in await m.goods.categories(m.shop_id)]}


async def _search(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    query = _query(body["query"])
    w = body["window"]
    window = Window(size=w["size"], after=_position(query, w.get("after")), before=_position(query, w.get("before")),
                    from_end=w.get("fromEnd", False))
    page = await m.goods.search_products(m.shop_id, query, window)
    return {"items": [{"product": _product(p), "position": wire.position_of(at)} for p, at in page.items],
            "hasNextPage": page.has_next_page, "hasPreviousPage": page.has_previous_page}


async def _count(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    return {"count": await m.goods.count_products(m.shop_id, _query(body["query"]))}


async def _available(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    ids = await m.ids([k["skuCode"] for k in body["keys"]])
    keys = [(ids.get(k["skuCode"], 0), k.get("region")) for k in body["keys"]]
    return {"items": await m.inventory.available(m.shop_id, keys)}


async def _in_stock(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    return {"items": sorted((await m.codes(await m.inventory.skus_in_stock(m.shop_id, body["region"]))).values())}


async def _warehouses(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    return {"items": [{"code": w.code, "regions": list(w.regions)} for w in await m.inventory.warehouses(m.shop_id)]}


async def _units(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    ids = await m.ids(body["skuCodes"])
    units = await m.inventory.units(m.shop_id, list(ids.values()), body["warehouseCodes"])
    return {"items": [{"skuCode": code, "units": units[sku_id]} for code, sku_id in ids.items()]}


async def _levels(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    sku_id = (await m.ids([body["skuCode"]])).get(body["skuCode"])
    levels = [] if sku_id is None else await m.inventory.levels(m.shop_id, sku_id)
    return {"items": [{"skuCode": body["skuCode"], "warehouseCode": lv.warehouse_code, "onHand": lv.on_hand,
                       "reserved": lv.reserved, "sold": lv.sold} for lv in levels]}


async def _reserve(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    ids = await m.ids([ln["skuCode"] for ln in body["lines"]])
    if unknown := [ln["skuCode"] for ln in body["lines"] if ln["skuCode"] not in ids]:
        raise Refused("OUT_OF_STOCK", unknown)
    lines = [WantedLine(ids[ln["skuCode"]], ln["quantity"], ln.get("purchaseLimit")) for ln in body["lines"]]
    try:
        held = await m.inventory.reserve(m.shop_id, body["ref"], body.get("shopperId"), body["region"], lines,
                                         datetime.fromisoformat(body["expiresAt"]))
    except (OutOfStock, PurchaseLimitExceeded) as exc:
        codes = await m.codes(exc.sku_ids)
        raise Refused("OUT_OF_STOCK" if isinstance(exc, OutOfStock) else "PURCHASE_LIMIT_EXCEEDED",
                      [codes[i] for i in exc.sku_ids]) from exc
    return {"reservation": await m.reservation(held)}


async def _commit(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    return {"changed": await m.inventory.commit(m.shop_id, body["id"])}


async def _release(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    return {"changed": await m.inventory.release(m.shop_id, body["id"])}


async def _release_by_ref(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    """As the contract has it: what is held under the ref is given back; where nothing is, the ref
    is kept as released (a reservation of no lines), so a reserve of it arriving later (one jimu
    gave up waiting for) is answered with that and holds nothing."""
    ref = body["ref"]
    for _ in range(2):
        held = await m.inventory.reservation_by_ref(m.shop_id, ref)
        if held is not None:
            return {"changed": await m.inventory.release(m.shop_id, held.id)}
        try:
            async with m.db.write() as session:
                await session.execute(ReservationRow.__table__.insert().values(
                    shop_id=m.shop_id, ref=ref, shopper_id=None, state=ReservationState.RELEASED.value,
                    expires_at=utcnow(), created_at=utcnow()))
            return {"changed": False}
        except IntegrityError:  # a reserve of the ref landed meanwhile: give that back
            continue
    raise RuntimeError(f"reservation {ref} neither found nor kept as released")


async def _by_id(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    return {"reservation": await m.reservation(await m.inventory.reservation(m.shop_id, body["id"]))}


async def _by_ref(m: Merchant, body: dict[str, Any]) -> dict[str, Any]:
    return {"reservation": await m.reservation(await m.inventory.reservation_by_ref(m.shop_id, body["ref"]))}


ROUTES: dict[str, Handler] = {
    "/v1/products:byId": _products_by_id,
    "/v1/products:byHandle": _products_by_handle,
    "/v1/skus:byId": _skus_by_id,
    "/v1/skus:byCode": _skus_by_code,
    "/v1/skus:byProduct": _skus_by_product,
    "/v1/categories": _categories,
    "/v1/products:search": _search,
    "/v1/products:count": _count,
    "/v1/availability": _available,
    "/v1/skus:inStock": _in_stock,
    "/v1/warehouses": _warehouses,
    "/v1/units": _units,
    "/v1/levels": _levels,
    "/v1/reservations:reserve": _reserve,
    "/v1/reservations:commit": _commit,
    "/v1/reservations:release": _release,
    "/v1/reservations:releaseByRef": _release_by_ref,
    "/v1/reservations:byId": _by_id,
    "/v1/reservations:byRef": _by_ref,
}


def _product(p: Any) -> dict[str, Any] | None:
    return None if p is None else wire.Product.from_domain(p).model_dump(mode="json")


def _sku(s: Any) -> dict[str, Any] | None:
    return None if s is None else wire.Sku.from_domain(s).model_dump(mode="json")


def _query(q: Mapping[str, Any]) -> ProductQuery:
    ids = q.get("skuIds")
    return ProductQuery(text=q.get("text"), category_handle=q.get("categoryHandle"), min_price=q.get("minPrice"),
                        max_price=q.get("maxPrice"), sku_ids=None if ids is None else frozenset(ids),
                        sort=SortKey(q.get("sort", "RELEVANCE")), reverse=bool(q.get("reverse")))


def _position(query: ProductQuery, p: Mapping[str, Any] | None) -> Position | None:
    return None if p is None else wire.position_from(query.sort, wire.Position.model_validate(p))


def _spoiled(mode: str, answer: dict[str, Any]) -> Response:
    """The answer as a broken merchant system would give it."""
    match mode:
        case "fail":
            return JSONResponse({"message": "internal error"}, status_code=500)
        case "garbage":
            return Response(b"<html>upstream error</html>", media_type="text/html")
        case "wrong-ids":
            for item in answer.get("items", []):
                for entry in item if isinstance(item, list) else [item]:
                    if isinstance(entry, dict) and "id" in entry:
                        entry["id"] += 100_000
                    if isinstance(entry, dict) and isinstance(entry.get("product"), dict):
                        entry["product"]["handle"] += "-x"
            return JSONResponse(answer)
        case "duplicates":
            items = answer.get("items", [])
            return JSONResponse({**answer, "items": items + items[:1]} if items else answer)
    return JSONResponse(answer)


async def _expire(merchant: Merchant, every: float = 1.0) -> None:
    """As the contract has it: an ACTIVE reservation is given back at its expiresAt (a reserve
    that arrived after jimu had given the order up holds only until then)."""
    while True:
        await asyncio.sleep(every)
        await merchant.inventory.expire_due(utcnow())


def create_app(settings: Mapping[str, str] | None = None) -> Starlette:
    env = dict(os.environ if settings is None else settings)
    state: dict[str, Merchant] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        db = Database(env["MERCHANT_DATABASE_URL"])
        await upgrade(db)
        for path in env["MERCHANT_CATALOG"].split(os.pathsep):
            with open(path, encoding="utf-8") as file:
                catalog = parse_catalog(json.load(file), utcnow())
            await SqlCatalogStore(db).apply(catalog, utcnow())
        [shop] = await SqlShopStore(db).shops_by_handle([catalog.shop.handle])
        assert shop is not None
        state["merchant"] = merchant = Merchant(db, shop.id, shop.handle, env["MERCHANT_SECRET"])
        expiry = asyncio.create_task(_expire(merchant))
        yield
        expiry.cancel()
        await db.dispose()

    async def contract(request: Request) -> Response:
        merchant = state["merchant"]
        raw = await request.body()
        # served at the root, so the path is the contract's; behind a prefix, strip it first
        if not verify(merchant.secret, request.headers.get("X-Jimu-Timestamp"), request.method, request.url.path,
                      request.headers.get("X-Jimu-Shop"), raw, request.headers.get("X-Jimu-Signature"), time.time()):
            return JSONResponse({"message": "bad or stale signature"}, status_code=401)
        if request.headers.get("X-Jimu-Shop") != merchant.handle:
            return JSONResponse({"message": "not this merchant's shop"}, status_code=403)
        handler = ROUTES.get(request.url.path)
        if handler is None:
            return JSONResponse({"message": "no such route"}, status_code=404)
        behaviour = merchant.behaviour
        behaviour.calls += 1
        applies = behaviour.applies(request.url.path)
        if behaviour.delay and applies:
            await asyncio.sleep(behaviour.delay)
        try:
            answer = await handler(merchant, json.loads(raw))
        except Refused as exc:
            return JSONResponse({"error": {"code": exc.code, "skuCodes": exc.sku_codes}}, status_code=409)
        except InventoryError as exc:
            return JSONResponse({"error": {"code": "INVALID", "message": str(exc)}}, status_code=422)
        return _spoiled(behaviour.mode if applies else "ok", answer)

    async def control(request: Request) -> Response:
        merchant = state["merchant"]
        if request.headers.get("X-Control-Token") != merchant.secret:
            return JSONResponse({"message": "forbidden"}, status_code=403)
        asked = await request.json()
        paths = asked.get("paths")
        merchant.behaviour = Behaviour(delay=float(asked.get("delay", 0)), mode=str(asked.get("mode", "ok")),
                                       paths=None if paths is None else frozenset(paths))
        return JSONResponse({"ok": True})

    async def calls(request: Request) -> Response:
        return JSONResponse({"calls": state["merchant"].behaviour.calls})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": "merchant" in state})

    routes = [Route("/healthz", healthz), Route("/control", control, methods=["POST"]),
              Route("/control/calls", calls), *(Route(path, contract, methods=["POST"]) for path in ROUTES)]
    return Starlette(routes=routes, lifespan=lifespan)
