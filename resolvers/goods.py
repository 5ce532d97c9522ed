"""Root fields of the goods capability."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache, partial

import strawberry

from adapters.goods import rules
from adapters.goods.port import Position, ProductQuery, SortKey
from adapters.goods.regions import regions_under
from resolvers.nodes import resolve_node
from resolvers.on_sale import products_by_handle, products_by_id, skus_by_code
from schema.common import (
    DEFAULT_PAGE,
    NOT_MONEY,
    Connection,
    Node,
    PageInfo,
    listed_connection,
    minor_units,
    page_window,
    parse_gid,
)
from schema.errors import BadUserInput
from schema.goods import (
    Category,
    Product,
    ProductConnection,
    ProductEdge,
    ProductFilter,
    ProductSortKey,
    Region,
    Sku,
)
from schema.shops import Shop


def product_query(filter: ProductFilter | None, sort_key: ProductSortKey, reverse: bool) -> ProductQuery:
    f = filter or ProductFilter()
    if f.query is not None and len(f.query) > rules.MAX_QUERY_LENGTH:
        raise BadUserInput(f"filter.query is longer than {rules.MAX_QUERY_LENGTH} characters")
    prices: dict[str, int | None] = {}
    for name, value in (("minPrice", f.min_price), ("maxPrice", f.max_price)):
        fen = None if value is None else minor_units(value)
        if value is not None and fen is None:
            raise BadUserInput(f"filter.{name}: {NOT_MONEY}")
        if fen is not None and fen < 0:
            raise BadUserInput(f"filter.{name} must not be negative")
        prices[name] = fen
    low, high = prices["minPrice"], prices["maxPrice"]
    if low is not None and high is not None and low > high:
        raise BadUserInput("filter.minPrice must not be above filter.maxPrice")
    return ProductQuery(
        text=f.query,
        category_handle=f.category_handle,
        min_price=low,
        max_price=high,
        sort=SortKey(sort_key.value),
        reverse=reverse,
    )


@lru_cache(maxsize=4096)
def _cursor(query: ProductQuery, at: Position) -> str:
    # The same position in the same ordering is the same cursor: a page asked again costs none.
    return rules.encode_cursor(query, at)


@strawberry.type
class GoodsQuery:
    @strawberry.field
    async def shop(self, info: strawberry.Info) -> Shop:
        return Shop.of(await info.context.shop())

    @strawberry.field
    async def products(
        self,
        info: strawberry.Info,
        first: int | None = DEFAULT_PAGE,
        after: str | None = None,
        filter: ProductFilter | None = None,
        sort_key: ProductSortKey | None = ProductSortKey.RELEVANCE,
        reverse: bool | None = False,
        last: int | None = None,
        before: str | None = None,
    ) -> ProductConnection:
        # An explicit null means the default, as the contract's nullable arguments allow.
        query = product_query(filter, sort_key or ProductSortKey.RELEVANCE, bool(reverse))
        window = page_window(info, first, after, last, before, partial(rules.decode_cursor, query))
        shop = await info.context.shop()
        region = filter.available_in_region if filter else None
        if region is not None:
            if (problem := rules.region_problem(region)) is not None:
                raise BadUserInput(f"filter.availableInRegion: {problem}")
            in_stock = await info.context.adapters.inventory.skus_in_stock(shop.id, region)
            query = replace(query, sku_ids=frozenset(in_stock))
        loaders, view = info.context.loaders, info.context.reference.view
        page = await loaders.product_page(shop.id, query, window)
        edges = []
        for product, at in page.items:
            loaders.product_by_id.prime((shop.id, product.id), product)
            edges.append(ProductEdge(cursor=_cursor(query, at), node=view(product, Product.of)))
        return ProductConnection(
            edges=edges,
            nodes=[edge.node for edge in edges],
            page_info=PageInfo.of(edges, page.has_next_page, page.has_previous_page),
            shop_id=shop.id,
            query=query,
        )

    @strawberry.field
    async def product(
        self, info: strawberry.Info, handle: str | None = None, id: strawberry.ID | None = None
    ) -> Product | None:
        if (handle is None) == (id is None):
            raise BadUserInput("give exactly one of handle or id")
        shop = await info.context.shop()
        if handle is not None:
            [found] = await products_by_handle(info, shop.id, [handle])
            return Product.of(found) if found else None
        parsed = parse_gid(str(id))
        if parsed is None:
            raise BadUserInput("id is not a jimu global id (gid://jimu/Product/<n>)")
        if parsed[0] != "Product":
            return None
        [found] = await products_by_id(info, shop.id, [parsed[1]])
        return Product.of(found) if found else None

    @strawberry.field
    async def sku(self, info: strawberry.Info, code: str) -> Sku | None:
        shop = await info.context.shop()
        [found] = await skus_by_code(info, shop.id, [code])
        return Sku.of(found) if found else None

    @strawberry.field
    async def categories(self, info: strawberry.Info) -> list[Category]:
        shop = await info.context.shop()
        return [Category.of(c) for c in await info.context.loaders.shop_categories(shop.id)]

    @strawberry.field(description="The shop's categories, a page at a time (categories is the whole list).")
    async def categories_connection(
        self, info: strawberry.Info, first: int | None = DEFAULT_PAGE, after: str | None = None, last: int | None = None,
        before: str | None = None,
    ) -> Connection[Category]:
        shop = await info.context.shop()
        held = await info.context.loaders.shop_categories(shop.id)
        return listed_connection(info, "category", held, Category.of, first, after, last, before)

    @strawberry.field
    async def regions(self, info: strawberry.Info, parent_code: str | None = None) -> list[Region]:
        await info.context.shop()
        if parent_code is not None and (problem := rules.region_problem(parent_code)) is not None:
            raise BadUserInput(f"parentCode: {problem}")
        return [Region.of(r) for r in regions_under(parent_code)]

    @strawberry.field
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, str(id))
