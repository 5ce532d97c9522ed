"""The one schema, merged from the capabilities, and the HTTP view serving it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import cache, partial
from typing import Any

import orjson
import strawberry
from cross_web import HTTPException
from graphql import GraphQLError, StringValueNode, ValidationRule
from opentelemetry.trace import TracerProvider
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from adapters.payments.cashier import Cashier
from gateway.admission import (
    CHARGE_KEY,
    PRICED_KEY,
    Admission,
    Throttled,
    TooCostly,
    throttle_status,
)
from gateway.auth import KeyDirectory, ShopperTokens
from gateway.budgets import Buckets, retry_after_header
from gateway.context import Context
from gateway.cost import Costs, Priced
from gateway.edge import NUL_REFUSED, SCOPE_KEY, Refused, graphql_refusal
from gateway.errors import JimuSchema, TagValidationErrors, coded
from gateway.fastpath import Plans
from gateway.federation import subgraph
from gateway.observe import ACTUAL_COST_KEY, CLEAN_KEY
from gateway.operations import operation_of, query_string_request
from gateway.reference import ReferenceCache
from gateway.settings import Settings
from gateway.tracing import plan_runner, schema_extensions
from gateway.wiring import Adapters
from resolvers.carts import CartMutation, CartQuery
from resolvers.catalog import CatalogMutation
from resolvers.coupons import CouponMutation
from resolvers.goods import GoodsQuery
from resolvers.inventory import InventoryMutation
from resolvers.keys import KeyMutation
from resolvers.members import MembersMutation, MembersQuery
from resolvers.merchant import MerchantMutation, MerchantQuery
from resolvers.orders import OrderMutation, OrderQuery
from resolvers.payments import PaymentMutation
from resolvers.shoppers import ShopperMutation, ShopperQuery
from resolvers.webhooks import WebhookMutation
from schema.coupons import Coupon, CouponTemplate
from schema.goods import Category, Product, Sku
from schema.members import Assist, AssistCampaign
from schema.orders import Cart, Order
from schema.payments import Payment
from schema.scalars import SCALARS
from schema.shops import Shop, Shopper

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5000
MAX_QUERY_COST_DEFAULT = Settings().max_query_cost  # what the schema's words say; JIMU_MAX_QUERY_COST sets it


class NoNulInStrings(ValidationRule):
    """A string literal holding U+0000 (``"\\u0000"`` in the document): refused as the edge
    refuses one in the variables, since no text here may hold it."""

    def enter_string_value(self, node: StringValueNode, *_: object) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError(NUL_REFUSED, node))


class InvalidateOnMerchantWrite(SchemaExtension):
    """A mutation made with a shop's secret key may change what the shop's shoppers see
    (stock, coupons, campaigns, orders' holds): drop the shop's cached responses and
    reference data, in every worker, before the answer leaves."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        ec = self.execution_context
        context = ec.context
        if ec.operation_type is OperationType.MUTATION and isinstance(context, Context) and context.merchant_key:
            await context.invalidate((await context.shop()).id)


QUERY_DOC = f"""The storefront's reads (a shop key in X-Jimu-Key; a shopper's token for me, cart, order).

Every operation is priced before it runs: an object 1, a scalar or enum 0, a root mutation field 10,
a connection's edges and nodes times its first/last, another list times its declared maximum. Every
answer says extensions.cost {{ requestedQueryCost actualQueryCost throttleStatus }}, throttleStatus where
a budget was charged: a secret key's bucket (1,000 points, 100 a second, unless the shop sets its
own), a client budget when the deployment sets one. A publishable key shares no bucket.

Refusals before an operation runs, as extensions.code: MAX_COST_EXCEEDED (above
JIMU_MAX_QUERY_COST, {MAX_QUERY_COST_DEFAULT:,} points by default, or the bucket's size), THROTTLED (HTTP 429 with Retry-After and
extensions.retryAfterSeconds: too little left in a budget or a limit), PERSISTED_QUERY_NOT_FOUND (a
persisted-query hash the server does not know: send the document with it), PERSISTED_QUERY_HASH_MISMATCH,
PERSISTED_QUERY_NOT_IN_LIST (a documentId the shop does not trust), QUERY_NOT_IN_SAFELIST (HTTP 403: a
shop that runs trusted documents only), SERVICE_UNAVAILABLE, BAD_REQUEST (a body, query
string or header the edge refuses), BAD_USER_INPUT (a malformed or repeated X-Jimu-Scene or
X-Jimu-Channel). Limits: depth {MAX_DEPTH}, {MAX_ALIASES} aliases, {MAX_TOKENS:,} tokens."""
MUTATION_DOC = """The storefront's and the merchant's writes: expected failures are userErrors on the payload.

Limits on the mutations scripts abuse, one point a call (each alias counts), THROTTLED past them:
shopperLogin per client address (100, then 2 a second), couponClaim and assistHelp per shopper (20,
then one every 5 seconds), unless the deployment sets others."""


def _root(name: str, types: tuple[type, ...], description: str) -> type:
    """One root type of the capabilities' fields, documented (strawberry's merge_types, with words)."""
    return strawberry.type(type(name, types, {}), description=description)


@cache
def limit_rules() -> list[type[ValidationRule]]:
    """The document limits, as validation rules. Made once: ValidationCache keys on the rule
    classes, and a limiter built per request makes new ones, so nothing would hit."""
    return [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
        NoNulInStrings,
    ]


@cache
def build_schema(tracer_provider: TracerProvider | None = None, federation: bool = False) -> JimuSchema:
    """The schema; built on first use (not at import) and shared, as it holds no state. With a
    tracer provider, each operation is also traced (one schema a provider: a worker has one).
    With ``federation``, the same schema served as a federation subgraph (gateway/federation.py)."""
    parts: dict[str, Any] = dict(
        query=_root("Query", (GoodsQuery, CartQuery, ShopperQuery, OrderQuery, MembersQuery, MerchantQuery), QUERY_DOC),
        mutation=_root(
            "Mutation",
            (ShopperMutation, CouponMutation, MembersMutation, CartMutation, OrderMutation, PaymentMutation,
             InventoryMutation, MerchantMutation, KeyMutation, WebhookMutation, CatalogMutation),
            MUTATION_DOC,
        ),
        types=[Shop, Shopper, Category, Product, Sku, CouponTemplate, Coupon, AssistCampaign, Assist, Cart, Order, Payment],
        # Classes or factories, never instances: strawberry makes one per request.
        extensions=[
            partial(ParserCache, maxsize=512),
            partial(ValidationCache, maxsize=512),
            partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
            partial(AddValidationRules, limit_rules()),
            TagValidationErrors,
            InvalidateOnMerchantWrite,
            *schema_extensions(tracer_provider),
        ],
        config=StrawberryConfig(scalar_map=SCALARS),
    )
    if not federation:
        return JimuSchema(**parts)
    return subgraph(**parts)


class GraphQLView(GraphQL):
    def __init__(
        self,
        settings: Settings,
        adapters: Adapters,
        keys: KeyDirectory,
        tokens: ShopperTokens,
        playground: HTMLResponse,
        cashier: Cashier,
        reference: ReferenceCache,
        invalidate: Callable[[int], Awaitable[None]],
        buckets: Buckets,
        tracer_provider: TracerProvider | None = None,
        revoked: Callable[[int, int | None], Awaitable[None]] | None = None,
    ) -> None:
        schema = build_schema(tracer_provider, settings.federation)
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self._reference = reference
        self._invalidate = invalidate
        self._revoked = revoked
        self.plans = Plans(schema._schema, schema.config.name_converter) if settings.fast_path else None
        # Priced only once the document keeps the limits: a deep one is refused before it costs.
        self.costs = Costs(schema._schema, limits=limit_rules(), max_tokens=MAX_TOKENS)
        self.admission = Admission(settings, keys, tokens, buckets)
        self._settings = settings
        self._adapters = adapters
        self._keys = keys
        self._tokens = tokens
        self._playground = playground
        self._cashier = cashier
        self._run_plan = plan_runner(tracer_provider)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # no subscriptions: refuse websockets plainly
            await send({"type": "websocket.close", "code": 1003})
            return
        request = Request(scope, receive)
        try:
            response = await self._admit(request)
            if response is None and self.plans is not None:
                response = await self._planned(request)
            if response is None:
                response = await self.run(request)  # the body, if read, is kept by the request
        except HTTPException as exc:
            # A body GraphQL cannot read (a form post, say) is 415, as HTTP has it.
            status = 415 if exc.reason == "Unsupported content type" else exc.status_code
            response = graphql_refusal(Refused(status, exc.reason), self._settings.answer_extensions)
        await response(scope, receive, send)

    async def _admit(self, request: Request) -> Response | None:
        """Price the operation and charge whoever pays for it; the refusal when it may not
        run (too costly, or too little left), else None with the price and the charge kept
        in the scope for the answer's ``extensions.cost``."""
        if request.method == "POST":
            body = request.scope.get(SCOPE_KEY)  # the edge decoded and checked it
        else:
            body = query_string_request(request.scope.get("query_string", b""))
        operation = operation_of(body, lenient=True)
        if operation is None:
            return None  # strawberry cannot run it either, and says why
        priced = self.costs.of(operation.query, operation.name, operation.variables)
        if priced is None:
            return None
        request.scope[PRICED_KEY] = priced
        if priced.mutations and request.method == "GET":
            return None  # strawberry refuses it (400): nothing to charge
        extensions = self._settings.answer_extensions
        if priced.requested > self._settings.max_query_cost:
            return _answer(too_costly(priced, self._settings.max_query_cost), extensions)
        outcome = await self.admission.admit(request, priced)
        if isinstance(outcome, TooCostly):
            return _answer(too_costly(priced, outcome.maximum), extensions)
        if isinstance(outcome, Throttled):
            return throttled(priced, outcome, extensions)
        if outcome is not None:
            request.scope[CHARGE_KEY] = outcome
        return None

    async def _settle_cost(
        self, scope: Scope, priced: Priced | None, data: dict[str, Any] | None, failed: bool = False
    ) -> dict[str, Any]:
        """The answer's ``extensions.cost``: the price and what the answer cost; where a bucket
        was charged, what the answer did not use is given back and its status told. An answer
        with errors gives nothing back: a null its errors made says nothing of the work done."""
        if priced is None:
            return {}
        actual = scope[ACTUAL_COST_KEY] = priced.actual(data)
        cost: dict[str, Any] = {"requestedQueryCost": priced.requested, "actualQueryCost": actual}
        charge = scope.get(CHARGE_KEY)
        if charge is not None:
            cost["throttleStatus"] = await self.admission.settle(charge, priced.requested if failed else actual)
        return {"cost": cost}

    async def _planned(self, request: Request) -> Response | None:
        """A POSTed query with a plan, answered without strawberry's HTTP layer (its request
        adapter, content-type parsing, sub-response); None for anything else, which then goes
        the usual way. The answer is what ``run`` would give: 200, ``{"data": ...}``."""
        if request.method != "POST":
            return None
        if request.headers.get("content-type", "").partition(";")[0].strip().lower() != "application/json":
            return None
        body = request.scope.get(SCOPE_KEY)  # the edge decoded and checked it
        if body is None:
            return None
        operation = operation_of(body)
        if operation is None:
            return None
        assert self.plans is not None
        plan = self.plans.get(operation.query, operation.name)
        if plan is None:
            return None
        data = await self._run_plan(plan, await self.get_context(request, None), operation.query, operation.variables)
        if data is None:
            return None
        cost = await self._settle_cost(request.scope, request.scope.get(PRICED_KEY), data)
        body = {"data": data, "extensions": {**cost, **self._settings.answer_extensions}}
        request.scope[CLEAN_KEY] = True  # a plan answers only what it can answer without errors
        return Response(orjson.dumps(body), media_type="application/json")

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return super().decode_json(data)
        except UnicodeDecodeError as exc:
            raise HTTPException(400, "the request body is not UTF-8 JSON") from exc

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(request, self._settings, self._adapters, self._keys, self._tokens, self._cashier,
                       self._reference, self._invalidate, self._revoked)

    async def execute_single(
        self, request: Any, request_adapter: Any, sub_response: Any, context: Any, root_value: Any, request_data: Any,
    ) -> ExecutionResult:
        """A query seen before without errors runs on its plan; anything else, and any plan
        that cannot answer exactly, runs on strawberry's executor."""
        plans, query, name, scope = self.plans, request_data.query, request_data.operation_name, request.scope
        priced = scope.get(PRICED_KEY)
        if priced is None and isinstance(query, str):  # a request the admission could not read first
            priced = self.costs.of(query, name, request_data.variables)
            if priced is not None and priced.requested > self._settings.max_query_cost:
                return too_costly(priced, self._settings.max_query_cost)
        if plans is not None and isinstance(query, str):
            plan = plans.get(query, name)
            if plan is not None:
                data = await self._run_plan(plan, context, query, request_data.variables)
                if data is not None:
                    return ExecutionResult(data=data, errors=None, extensions=await self._settle_cost(scope, priced, data))
        try:
            result = await super().execute_single(request, request_adapter, sub_response, context, root_value,
                                                  request_data)
        except HTTPException:
            await self._settle_cost(scope, priced, None)  # refused unrun (a mutation over GET): all given back
            raise
        if plans is not None and isinstance(query, str) and not result.errors and result.data is not None:
            plans.learn(query, name)
        cost = await self._settle_cost(scope, priced, result.data, failed=bool(result.errors))
        if cost:
            result.extensions = {**(result.extensions or {}), **cost}
        return result

    async def render_graphql_ide(self, request: Request) -> Response:
        return self._playground

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        if result.errors:
            result.errors = coded(result.errors, mask=self._settings.production)
        if self._settings.answer_extensions:
            result.extensions = {**(result.extensions or {}), **self._settings.answer_extensions}
        return await super().process_result(request, result)


def too_costly(priced: Priced, maximum: int) -> ExecutionResult:
    """An operation refused before it runs: its cost is above what one operation may cost."""
    error = GraphQLError(
        f"the operation costs {priced.requested}, above the {maximum} one operation may cost: ask for smaller "
        "pages (first/last), fewer lists or fewer aliases",
        extensions={"code": "MAX_COST_EXCEEDED", "cost": priced.requested, "maxCost": maximum},
    )
    return ExecutionResult(data=None, errors=[error], extensions={"cost": {"requestedQueryCost": priced.requested,
                                                                           "actualQueryCost": 0}})


def throttled(priced: Priced, outcome: Throttled, extensions: dict[str, str]) -> Response:
    """429 with Retry-After: the operation may run once enough is given back."""
    wait = retry_after_header(outcome.retry_after)
    cost: dict[str, Any] = {"requestedQueryCost": priced.requested, "actualQueryCost": 0}
    if outcome.charge is not None:
        cost["throttleStatus"] = throttle_status(outcome.charge, outcome.charge.left)
    error = {"message": f"{outcome.message} {wait} s", "extensions": {"code": "THROTTLED", "retryAfterSeconds": int(wait)}}
    body = {"data": None, "errors": [error], "extensions": {"cost": cost, **extensions}}
    return Response(orjson.dumps(body), status_code=429, media_type="application/json", headers={"Retry-After": wait})


def _answer(result: ExecutionResult, extensions: dict[str, str]) -> Response:
    """A refusal made before strawberry runs, in the shape it would answer: 200, GraphQL errors."""
    body = {"data": result.data, "errors": [e.formatted for e in result.errors or ()],
            "extensions": {**(result.extensions or {}), **extensions}}
    return Response(orjson.dumps(body), media_type="application/json")
