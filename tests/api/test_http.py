"""The HTTP surface besides GraphQL: health, SDL, playground."""

from __future__ import annotations

import re
from dataclasses import replace

import httpx

from gateway.graphql import build_schema
from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.conftest import api_client


async def test_healthz_answers_ok_when_the_database_does(client: httpx.AsyncClient):
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_healthz_is_503_when_the_database_does_not_answer(settings: Settings):
    from adapters.db import Database
    from gateway.wiring import sql_adapters

    dead = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with api_client(settings, sql_adapters(settings, dead)) as client:
        response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "unavailable"})


async def test_the_sdl_is_served_for_client_generators(client: httpx.AsyncClient):
    response = await client.get("/schema.graphql")
    assert response.status_code == 200
    assert response.text.strip() == build_schema().as_str().strip()
    assert "type Product implements Node" in response.text


async def test_the_playground_loads_every_asset_from_jimu_itself(client: httpx.AsyncClient):
    # when
    page = await client.get("/graphql", headers={"accept": "text/html"})
    # then the page names no other origin, and the browser is told to refuse any
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assets = [a for a in re.findall(r'(?:src|href)="([^"]+)"', page.text) if not a.startswith("data:")]
    assert len(assets) == 5
    for asset in assets:
        assert asset.startswith("/playground/"), asset
        served = await client.get(asset)
        assert served.status_code == 200 and len(served.content) > 100, asset
    assert not re.search(r"https?://", page.text)


async def test_the_vendored_assets_keep_their_licenses(client: httpx.AsyncClient):
    for name in ("LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom"):
        response = await client.get(f"/playground/vendor/{name}")
        assert response.status_code == 200 and "MIT" in response.text


async def test_demo_mode_preloads_the_demo_keys_and_examples(settings: Settings, demo: Adapters):
    async with api_client(replace(settings, demo=True), demo) as client:
        demo_page = (await client.get("/graphql", headers={"accept": "text/html"})).text
    async with api_client(settings, demo) as client:
        plain_page = (await client.get("/graphql", headers={"accept": "text/html"})).text
    assert "pk_demo_panda" in demo_page and "pk_demo_aurelian" in demo_page and "shopperLogin" in demo_page
    assert "pk_demo" not in plain_page and "sk_demo" not in demo_page


async def test_the_root_leads_to_the_playground(client: httpx.AsyncClient):
    response = await client.get("/")
    assert response.status_code in (302, 307) and response.headers["location"] == "/graphql"
