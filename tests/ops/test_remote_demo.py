"""``jimu serve --demo --remote-demo`` as a newcomer runs it: Aurelian's stock comes from the
reference merchant system the server started, which stops with it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import httpx

from gateway.settings import Settings

LISTING = '{ products(first: 5) { nodes { skus { code availability(region: "1") { quantityAvailable } } } } }'


def where_from(settings: Settings) -> str:
    jimu = shutil.which("jimu")
    assert jimu
    shown = subprocess.run([jimu, "shop", "remote", "show", "aurelian"], capture_output=True, text=True, check=True,
                           env={**os.environ, "JIMU_DATABASE_URL": settings.database_url, "COLUMNS": "200"})
    return shown.stdout


def test_the_remote_demo_serves_aurelians_stock_from_the_merchant_and_stops_it(serve, settings: Settings, db):
    with serve("--demo", "--remote-demo") as served:
        shown = where_from(settings)
        [url] = re.findall(r"stock from (http://127\.0\.0\.1:[0-9]+)", shown)
        assert httpx.get(f"{url}/healthz").json() == {"ok": True}
        headers = {"X-Jimu-Key": "pk_demo_aurelian"}
        listing = httpx.post(f"{served.url}/graphql", json={"query": LISTING}, headers=headers).json()
        assert "errors" not in listing and listing["data"]["products"]["nodes"]
        refused = httpx.post(f"{served.url}/graphql", headers={"X-Jimu-Key": "sk_demo_aurelian"}, json={
            "query": 'mutation { stockSet(skuCode: "WATCH-RG41-STEEL", warehouse: "BJ-LUX", quantity: 1) '
                     "{ userErrors { code } } }"}).json()
        assert refused["data"]["stockSet"]["userErrors"] == [{"code": "INVALID_STATE"}]  # the merchant's stock
    try:
        httpx.get(f"{url}/healthz", timeout=2)
        raise AssertionError("the merchant system outlived the server")
    except httpx.HTTPError:
        pass
    with serve("--demo"):  # the plain demo: jimu's own stock again
        assert "from jimu's database" in where_from(settings)
