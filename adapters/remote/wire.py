"""The remote contract's JSON (docs/remote-adapters.md), as pydantic models: what jimu sends,
what it accepts back, and the domain types each becomes.

Money is integer fen, times ISO 8601 with their offset, ids the merchant's own positive
integers (below 2**53, so that JavaScript reads them whole). Unknown keys are allowed in
answers (a merchant may send more), a missing or mistyped one is not. Whether an answer
answers the question asked (key order, no strangers, no duplicates) is checked here too:
a batch answer for other ids than those asked is as unusable as a 500.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from adapters.goods import port as goods
from adapters.inventory import port as inventory

Id = Annotated[int, Field(strict=True, ge=1, lt=2**53)]
Fen = Annotated[int, Field(strict=True, ge=0, le=10**15)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Image(_Wire):
    url: str
    altText: str | None = None


class Product(_Wire):
    id: Id
    handle: str
    title: str
    description: str = ""
    brand: str = ""
    categoryId: Id | None = None
    tags: list[str] = []
    images: list[Image] = []
    minPrice: Fen
    maxPrice: Fen
    createdAt: datetime
    archivedAt: datetime | None = None

    def of(self, shop_id: int) -> goods.Product:
        return goods.Product(
            id=self.id, shop_id=shop_id, handle=self.handle, title=self.title, description=self.description,
            brand=self.brand, category_id=self.categoryId, tags=tuple(self.tags),
            images=tuple(goods.Image(i.url, i.altText) for i in self.images), min_price=self.minPrice,
            max_price=self.maxPrice, created_at=self.createdAt, archived_at=self.archivedAt)

    @classmethod
    def from_domain(cls, p: goods.Product) -> Product:
        return cls(id=p.id, handle=p.handle, title=p.title, description=p.description, brand=p.brand,
                   categoryId=p.category_id, tags=list(p.tags),
                   images=[Image(url=i.url, altText=i.alt_text) for i in p.images], minPrice=p.min_price,
                   maxPrice=p.max_price, createdAt=p.created_at, archivedAt=p.archived_at)


class Option(_Wire):
    name: str
    value: str


class Deposit(_Wire):
    deposit: Annotated[int, Field(strict=True, ge=1)]
    creditedValue: Annotated[int, Field(strict=True, ge=1)]
    balanceDueHours: Annotated[int, Field(strict=True, ge=1)]
    balanceMethods: list[Literal["ONLINE", "POS_ON_DELIVERY"]] = Field(min_length=1)


class Sku(_Wire):
    id: Id
    productId: Id
    code: str
    title: str
    options: list[Option] = []
    price: Fen
    compareAtPrice: Fen | None = None
    purchaseLimit: Annotated[int, Field(strict=True, ge=1)] | None = None
    premiumDeliveryEligible: bool = False
    deposit: Deposit | None = None

    def of(self, shop_id: int) -> goods.Sku:
        d = self.deposit
        policy = None if d is None else goods.DepositPolicy(d.deposit, d.creditedValue, d.balanceDueHours,
                                                            tuple(d.balanceMethods))
        return goods.Sku(
            id=self.id, shop_id=shop_id, product_id=self.productId, code=self.code, title=self.title,
            options=tuple((o.name, o.value) for o in self.options), price=self.price,
            compare_at_price=self.compareAtPrice, purchase_limit=self.purchaseLimit,
            premium_delivery_eligible=self.premiumDeliveryEligible, deposit_policy=policy)

    @classmethod
    def from_domain(cls, s: goods.Sku) -> Sku:
        d = s.deposit_policy
        return cls(id=s.id, productId=s.product_id, code=s.code, title=s.title,
                   options=[Option(name=n, value=v) for n, v in s.options], price=s.price,
                   compareAtPrice=s.compare_at_price, purchaseLimit=s.purchase_limit,
                   premiumDeliveryEligible=s.premium_delivery_eligible,
                   deposit=None if d is None else Deposit(deposit=d.deposit, creditedValue=d.credited_value,
                                                          balanceDueHours=d.balance_due_hours,
                                                          balanceMethods=list(d.balance_methods)))  # type: ignore[arg-type]


class Category(_Wire):
    id: Id
    handle: str
    name: str
    parentId: Id | None = None

    def of(self, shop_id: int) -> goods.Category:
        return goods.Category(id=self.id, shop_id=shop_id, handle=self.handle, name=self.name,
                              parent_id=self.parentId)


class Position(_Wire):
    value: int | str | datetime
    id: Id


class Found(_Wire):
    product: Product
    position: Position


class Page(_Wire):
    items: list[Found]
    hasNextPage: bool
    hasPreviousPage: bool = False


class Items(_Wire):
    items: list[Any]


class Count(_Wire):
    count: Annotated[int, Field(strict=True, ge=0)]


def in_key_order(found: Sequence[Any], keys: Sequence[Any], key_of: Any) -> list[Any]:
    """A batch answer as the port's list: one entry (or None) per key, in key order; raises
    ValueError where the answer is for other keys, or for as many."""
    if len(found) != len(keys):
        raise ValueError(f"{len(found)} answers for {len(keys)} keys")
    for asked, got in zip(keys, found, strict=True):
        if got is not None and key_of(got) != asked:
            raise ValueError(f"asked for {asked!r}, answered {key_of(got)!r}")
    return list(found)


def query_of(q: goods.ProductQuery) -> dict[str, Any]:
    return {"text": q.text, "categoryHandle": q.category_handle, "minPrice": q.min_price, "maxPrice": q.max_price,
            "skuIds": None if q.sku_ids is None else sorted(q.sku_ids), "sort": q.sort.value, "reverse": q.reverse}


def position_of(p: goods.Position) -> dict[str, Any]:
    value = p.value.isoformat() if isinstance(p.value, datetime) else p.value
    return {"value": value, "id": p.id}


def position_from(sort: goods.SortKey, p: Position) -> goods.Position:
    """A position as the ordering holds it: a time for CREATED_AT, a title, a price or a rank."""
    expected: type = {goods.SortKey.CREATED_AT: datetime, goods.SortKey.TITLE: str}.get(sort, int)
    value = p.value
    if expected is datetime and isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, expected) or isinstance(value, bool):
        raise ValueError(f"a {sort.value} position is not a {expected.__name__}")
    return goods.Position(value=value, id=p.id)


Quantity = Annotated[int, Field(strict=True, ge=0)]


class Warehouse(_Wire):
    code: str
    regions: list[str] = Field(min_length=1)


class Units(_Wire):
    skuCode: str
    units: Quantity


class Level(_Wire):
    skuCode: str
    warehouseCode: str
    onHand: Quantity
    reserved: Quantity
    sold: Quantity


class HeldLine(_Wire):
    skuCode: str
    warehouseCode: str
    quantity: Annotated[int, Field(strict=True, ge=1)]


class Reservation(_Wire):
    id: Id
    ref: str
    shopperId: int | None = None
    state: Literal["ACTIVE", "COMMITTED", "RELEASED", "EXPIRED"]
    expiresAt: datetime
    lines: list[HeldLine]

    def of(self, shop_id: int, ids: Mapping[str, int]) -> inventory.Reservation:
        """As jimu holds it: ``ids`` maps the lines' SKU codes to the shop's SKU ids."""
        return inventory.Reservation(
            id=self.id, shop_id=shop_id, ref=self.ref, shopper_id=self.shopperId,
            state=inventory.ReservationState(self.state), expires_at=self.expiresAt,
            lines=tuple(inventory.HeldLine(ids[ln.skuCode], ln.warehouseCode, ln.quantity) for ln in self.lines))

    @classmethod
    def from_domain(cls, r: inventory.Reservation, codes: Mapping[int, str]) -> Reservation:
        return cls(id=r.id, ref=r.ref, shopperId=r.shopper_id, state=r.state.value, expiresAt=r.expires_at,
                   lines=[HeldLine(skuCode=codes[ln.sku_id], warehouseCode=ln.warehouse_code, quantity=ln.quantity)
                          for ln in r.lines])


class Held(_Wire):
    reservation: Reservation | None


class Changed(_Wire):
    changed: bool
