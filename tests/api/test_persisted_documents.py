"""Persisted documents over HTTP: Apollo's automatic persisted queries, and trusted documents."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.db import utcnow
from adapters.documents.rules import sha256_of
from adapters.shops.port import ShopPolicy, TrustedDocuments
from gateway.document_check import read_manifest
from gateway.graphql import build_schema
from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.conftest import api_client, codes

SHOP_NAME = "query ShopName { shop { name } }"
STOCK = 'query Stock { sku(code: "DIAPER-L54") { availability(region: "1_72_2799_0") { quantityAvailable } } }'
AD_HOC = "{ shop { handle } }"
PK, SK = {"X-Jimu-Key": "pk_demo_panda"}, {"X-Jimu-Key": "sk_demo_panda"}


def apq(document: str | None = None, sha: str | None = None, **extra: Any) -> dict[str, Any]:
    """A POST body as Apollo's persisted-query link sends it: the hash, and the query when asked."""
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha or sha256_of(document or "")}}}
    if document is not None:
        body["query"] = document
    return {**body, **extra}


def get_params(body: dict[str, Any]) -> dict[str, str]:
    """The same request as GET parameters (Apollo's useGETForHashedQueries)."""
    return {k: json.dumps(v) if isinstance(v, dict) else v for k, v in body.items()}


def shop_name(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["data"]["shop"]["name"]


async def panda(adapters: Adapters) -> int:
    [shop] = await adapters.shops.shops_by_handle(["panda-care"])
    assert shop is not None
    return shop.id


async def trust(adapters: Adapters, tmp_path: Path, documents: dict[str, str]) -> None:
    """Trust documents for Panda Care as ``jimu documents push`` does, from a Relay map."""
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(documents), encoding="utf-8")
    await adapters.documents.trust(await panda(adapters), read_manifest(build_schema()._schema, path))


async def set_policy(adapters: Adapters, policy: TrustedDocuments | None) -> None:
    await adapters.shops.set_policy(await panda(adapters), ShopPolicy(trusted_documents=policy))


def refused(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert codes(response.json()) == [code]
    assert response.headers["cache-control"] in ("no-store", "private, no-cache, must-revalidate")
    return response.json()["errors"][0]["message"]


# Automatic persisted queries


async def test_the_apollo_flow_over_post(client: httpx.AsyncClient):
    # given a hash the server has never seen
    first = await client.post("/graphql", json=apq(sha=sha256_of(SHOP_NAME)), headers=PK)
    # then Apollo's exact answer, which its link reacts to by sending the query along
    assert first.status_code == 200
    assert first.json()["errors"] == [{"message": "PersistedQueryNotFound",
                                      "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
    # when the client retries with the document, then sends only the hash
    retried = await client.post("/graphql", json=apq(SHOP_NAME), headers=PK)
    later = await client.post("/graphql", json=apq(sha=sha256_of(SHOP_NAME)), headers=PK)
    # then both run, with the same answer
    assert shop_name(retried)
    assert later.json() == retried.json()


async def test_the_apollo_flow_over_get_and_a_repeat_is_served_from_the_response_cache(
    settings: Settings, demo: Adapters
):
    async with api_client(replace(settings, response_cache_seconds=30), demo) as client:
        hashed = get_params(apq(sha=sha256_of(STOCK)))
        # given the hash alone, then with the document, then alone again, all over GET
        first = await client.get("/graphql", params=hashed, headers=PK)
        assert first.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert first.headers["cache-control"] == "private, no-cache, must-revalidate"  # no CDN keeps it
        retried = await client.get("/graphql", params=get_params(apq(STOCK)), headers=PK)
        later = await client.get("/graphql", params=hashed, headers=PK)
        assert retried.status_code == later.status_code == 200
        assert later.json()["data"]["sku"]["availability"]["quantityAvailable"] == 500
        assert later.headers["cache-control"].startswith("public, max-age=")
        # when stock changes behind the cache's back
        shop_id = await panda(demo)
        [sku] = await demo.goods.skus_by_code(shop_id, ["DIAPER-L54"])
        assert sku is not None
        await demo.inventory.set_available(shop_id, sku.id, "BJ-01", 400)
        again = await client.get("/graphql", params=hashed, headers={**PK, "If-None-Match": later.headers["etag"]})
        fresh = await client.post("/graphql", json={"query": STOCK + " "}, headers=PK)
    # then the hash-only GET was answered from the cache, keyed on the document itself
    assert again.status_code == 304
    assert fresh.json()["data"]["sku"]["availability"]["quantityAvailable"] == 400


async def test_a_hash_that_is_not_the_documents_is_refused_and_nothing_is_stored(client: httpx.AsyncClient):
    other = sha256_of("{ shop { handle } }")
    response = await client.post("/graphql", json=apq(SHOP_NAME, sha=other), headers=PK)
    message = refused(response, 400, "PERSISTED_QUERY_HASH_MISMATCH")
    assert "SHA-256" in message
    after = await client.post("/graphql", json=apq(sha=other), headers=PK)
    assert codes(after.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_document_the_schema_refuses_is_answered_but_never_stored(client: httpx.AsyncClient):
    bad = "{ nope }"
    response = await client.post("/graphql", json=apq(bad), headers=PK)
    assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    after = await client.post("/graphql", json=apq(sha=sha256_of(bad)), headers=PK)
    assert codes(after.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_only_a_request_with_a_shop_key_registers_a_document(client: httpx.AsyncClient):
    await client.post("/graphql", json=apq(SHOP_NAME))  # no key: answered (UNAUTHENTICATED), not kept
    after = await client.post("/graphql", json=apq(sha=sha256_of(SHOP_NAME)), headers=PK)
    assert codes(after.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_document_registered_through_one_worker_is_found_by_another(settings: Settings, demo: Adapters):
    # given two app instances over the same database, each with its own memory (two workers)
    async with api_client(settings, demo) as one, api_client(settings, demo) as another:
        registered = await one.post("/graphql", json=apq(SHOP_NAME), headers=PK)
        # when the other is asked by hash alone
        found = await another.post("/graphql", json=apq(sha=sha256_of(SHOP_NAME)), headers=PK)
    # then it read the document from the database
    assert found.status_code == 200 and found.json() == registered.json()


async def test_a_document_the_sweep_forgot_is_registered_again_by_a_worker_that_still_holds_it(
        settings: Settings, demo: Adapters, monkeypatch: pytest.MonkeyPatch):
    # given a document registered through a worker that still holds its text, then forgotten in the store
    monkeypatch.setattr("gateway.document_cache.REGISTER_AGAIN_SECONDS", 0.0)  # "an hour later"
    sha = sha256_of(SHOP_NAME)
    async with api_client(settings, demo) as worker:
        assert shop_name(await worker.post("/graphql", json=apq(SHOP_NAME), headers=PK))
        assert await demo.documents.forget(utcnow() + timedelta(seconds=1), keep_at_most=100) == 1
        # when a client that met a fresh worker's PERSISTED_QUERY_NOT_FOUND sends hash and text to it
        assert shop_name(await worker.post("/graphql", json=apq(SHOP_NAME), headers=PK))
    # then the store has it again, for every worker
    assert await demo.documents.texts([sha]) == [SHOP_NAME]
    async with api_client(settings, demo) as fresh:
        assert shop_name(await fresh.post("/graphql", json=apq(sha=sha), headers=PK))


async def test_version_2_is_refused_clearly(client: httpx.AsyncClient):
    body = {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha256_of(SHOP_NAME)}}}
    message = refused(await client.post("/graphql", json=body, headers=PK), 400, "BAD_REQUEST")
    assert "version 1" in message


@pytest.mark.parametrize("body", [
    {"documentId": 5},
    {"documentId": ""},
    {"documentId": ["a"]},
    {"documentId": "a", "query": SHOP_NAME},
    {"extensions": {"persistedQuery": "abc"}},
    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}},
    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": 5}}},
    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "g" * 64}}},
    {"extensions": {"persistedQuery": {"version": True, "sha256Hash": "a" * 64}}},
    {"extensions": {"persistedQuery": {"sha256Hash": "a" * 64}}},
    {"documentId": "a", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "a" * 64}}},
])
async def test_garbage_is_a_coded_refusal_never_a_500(client: httpx.AsyncClient, body: dict[str, Any]):
    responses = [await client.post("/graphql", json=body, headers=PK)]
    if isinstance(body.get("documentId", ""), str):  # a GET parameter is always a string
        responses.append(await client.get("/graphql", params=get_params(body), headers=PK))
    for response in responses:
        refused(response, 400, "BAD_REQUEST")


async def test_a_store_that_does_not_answer_is_503_not_500(settings: Settings, demo: Adapters):
    class Down:
        async def texts(self, hashes: Sequence[str]) -> list[str | None]:
            raise ConnectionError("the database went away")

    async with api_client(settings, replace(demo, documents=Down())) as client:  # type: ignore[arg-type]
        response = await client.post("/graphql", json=apq(sha=sha256_of(SHOP_NAME)), headers=PK)
    refused(response, 503, "SERVICE_UNAVAILABLE")


# Trusted documents


async def test_a_document_id_runs_the_shops_trusted_document(demo: Adapters, settings: Settings, tmp_path: Path):
    await trust(demo, tmp_path, {"shop-name": SHOP_NAME})
    async with api_client(settings, demo) as client:
        post = await client.post("/graphql", json={"documentId": "shop-name"}, headers=PK)
        get = await client.get("/graphql", params={"documentId": "shop-name"}, headers=PK)
        other_shop = await client.post("/graphql", json={"documentId": "shop-name"},
                                       headers={"X-Jimu-Key": "pk_demo_aurelian"})
        unknown = await client.post("/graphql", json={"documentId": "nope"}, headers=PK)
    assert shop_name(post) == shop_name(get)
    refused(other_shop, 404, "PERSISTED_QUERY_NOT_IN_LIST")  # a shop's list is its own
    assert "jimu documents list" in refused(unknown, 404, "PERSISTED_QUERY_NOT_IN_LIST")


async def test_require_refuses_an_ad_hoc_document_and_runs_a_trusted_one(
    demo: Adapters, settings: Settings, tmp_path: Path
):
    # given a shop that runs trusted documents only
    await trust(demo, tmp_path, {"shop-name": SHOP_NAME})
    await set_policy(demo, TrustedDocuments.REQUIRE)
    async with api_client(settings, demo) as client:
        # when its publishable key sends documents
        ad_hoc = await client.post("/graphql", json={"query": AD_HOC}, headers=PK)
        ad_hoc_apq = await client.post("/graphql", json=apq(AD_HOC), headers=PK)
        ad_hoc_hash = await client.post("/graphql", json=apq(sha=sha256_of(AD_HOC)), headers=PK)
        ad_hoc_get = await client.get("/graphql", params={"query": AD_HOC}, headers=PK)
        by_id = await client.post("/graphql", json={"documentId": "shop-name"}, headers=PK)
        by_hash = await client.post("/graphql", json=apq(sha=sha256_of(SHOP_NAME)), headers=PK)
        by_text = await client.post("/graphql", json={"query": SHOP_NAME}, headers=PK)
        # and its secret key sends an ad-hoc one
        secret = await client.post("/graphql", json={"query": AD_HOC}, headers=SK)
    # then
    message = refused(ad_hoc, 403, "QUERY_NOT_IN_SAFELIST")
    assert "jimu documents push" in message and "panda-care" in message
    for response in (ad_hoc_apq, ad_hoc_hash, ad_hoc_get):
        refused(response, 403, "QUERY_NOT_IN_SAFELIST")
    assert shop_name(by_id) == shop_name(by_hash) == shop_name(by_text)
    assert secret.json()["data"]["shop"]["handle"] == "panda-care"


async def test_the_deployment_setting_applies_where_the_shop_sets_none(demo: Adapters, settings: Settings):
    required = replace(settings, trusted_documents="require")
    async with api_client(required, demo) as client:
        refused(await client.post("/graphql", json={"query": AD_HOC}, headers=PK), 403, "QUERY_NOT_IN_SAFELIST")
    await set_policy(demo, TrustedDocuments.OFF)  # the shop's own setting wins
    async with api_client(required, demo) as client:
        response = await client.post("/graphql", json={"query": AD_HOC}, headers=PK)
    assert response.json()["data"]["shop"]["handle"] == "panda-care"


async def test_the_playground_keeps_ad_hoc_documents_in_development_only(demo: Adapters, settings: Settings):
    await set_policy(demo, TrustedDocuments.REQUIRE)
    playground = {**PK, "X-Jimu-Playground": "1"}
    async with api_client(settings, demo) as client:
        development = await client.post("/graphql", json={"query": AD_HOC}, headers=playground)
    async with api_client(replace(settings, env="production"), demo) as client:
        production = await client.post("/graphql", json={"query": AD_HOC}, headers=playground)
    assert development.json()["data"]["shop"]["handle"] == "panda-care"
    refused(production, 403, "QUERY_NOT_IN_SAFELIST")


async def test_audit_runs_the_document_and_logs_what_require_would_refuse(
    demo: Adapters, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    await trust(demo, tmp_path, {"shop-name": SHOP_NAME})
    await set_policy(demo, TrustedDocuments.AUDIT)
    query = "query Handle($secret: String) { shop { handle } products(first: 1, filter: {query: $secret}) { totalCount } }"
    with caplog.at_level(logging.WARNING, logger="jimu.documents"):
        async with api_client(settings, demo) as client:
            untrusted = await client.post("/graphql", json={"query": query, "operationName": "Handle",
                                                            "variables": {"secret": "s3cr3t"}}, headers=PK)
            trusted = await client.post("/graphql", json={"query": SHOP_NAME}, headers=PK)
    assert untrusted.json()["data"]["shop"]["handle"] == "panda-care"
    assert shop_name(trusted)
    [record] = [r for r in caplog.records if r.name == "jimu.documents"]
    said = record.getMessage()
    assert "panda-care" in said and "Handle" in said and sha256_of(query) in said
    assert "s3cr3t" not in said and "pk_demo_panda" not in said


async def test_a_removed_document_no_longer_runs(demo: Adapters, settings: Settings, tmp_path: Path):
    await trust(demo, tmp_path, {"shop-name": SHOP_NAME})
    async with api_client(settings, demo) as client:  # the suite's reference cache seconds: 0
        assert shop_name(await client.post("/graphql", json={"documentId": "shop-name"}, headers=PK))
        await demo.documents.distrust(await panda(demo), ["shop-name"])
        response = await client.post("/graphql", json={"documentId": "shop-name"}, headers=PK)
    refused(response, 404, "PERSISTED_QUERY_NOT_IN_LIST")
