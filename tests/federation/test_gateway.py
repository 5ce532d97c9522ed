"""jimu behind a real Apollo gateway, beside a second subgraph, end to end.

jimu runs as ``jimu serve --demo`` with JIMU_FEDERATION=1; the reviews subgraph (Node,
@apollo/subgraph) extends Product by its handle; the gateway composes both with
@apollo/composition and forwards the client's X-Jimu-Key to every subgraph.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.settings import Settings
from tests.concurrency.conftest import free_port
from tests.federation.conftest import node_process
from tests.ops.conftest import jimu_serve

QUERY = """{
  products(first: 10) { nodes { handle title reviews { rating body } } }
  topReviews { rating product { handle title skus { code price { amount } } } }
}"""


@pytest.fixture(scope="module")
def gateway_url(database_url: str, tmp_path_factory: pytest.TempPathFactory, node_modules: Path) -> Iterator[str]:
    """The three processes, started once for this module's tests (each only reads): about 6 s."""
    settings = Settings(database_url=database_url, response_cache_seconds=0, reference_cache_seconds=0)
    tmp_path = tmp_path_factory.mktemp("federation")
    sdl = tmp_path / "jimu.graphql"
    sdl.write_text(subprocess.run(["jimu", "export-schema", "--federation"], check=True, capture_output=True,
                                  text=True).stdout)
    reviews_port, gateway_port = free_port(), free_port()
    reviews_url = f"http://127.0.0.1:{reviews_port}/"
    with (
        jimu_serve(settings, tmp_path / "jimu.log", "--demo", JIMU_FEDERATION="1") as jimu,
        node_process("reviews.mjs", tmp_path / "reviews.log", PORT=str(reviews_port)),
        node_process("gateway.mjs", tmp_path / "gateway.log", PORT=str(gateway_port), JIMU_URL=f"{jimu.url}/graphql",
                     REVIEWS_URL=reviews_url, JIMU_SDL_FILE=str(sdl)),
    ):
        yield f"http://127.0.0.1:{gateway_port}/"


def ask(url: str, key: str | None) -> dict[str, Any]:
    headers = {"content-type": "application/json"} | ({"x-jimu-key": key} if key else {})
    response = httpx.post(url, json={"query": QUERY}, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_products_from_jimu_with_reviews_from_the_other_subgraph(gateway_url: str):
    # when Panda's key asks through the gateway
    body = ask(gateway_url, "pk_demo_panda")
    # then: the products are jimu's, each with its reviews from the reviews subgraph
    assert "errors" not in body, body
    nodes = {n["handle"]: n for n in body["data"]["products"]["nodes"]}
    assert {"diaper-soft", "wipes-80"} <= set(nodes)
    assert [r["rating"] for r in nodes["diaper-soft"]["reviews"]] == [5, 4]
    assert [r["body"] for r in nodes["wipes-80"]["reviews"]] == ["Fine wipes."]
    assert nodes["diaper-soft"]["title"]
    # and the reviews' products are jimu's entities, found by handle in Panda's shop
    top = body["data"]["topReviews"]
    assert [r["rating"] for r in top] == [5, 4]
    assert all(r["product"]["handle"] == "diaper-soft" and r["product"]["title"] == nodes["diaper-soft"]["title"]
               for r in top)
    assert {s["code"] for s in top[0]["product"]["skus"]} == {"DIAPER-L54", "DIAPER-XL44"}


def test_the_key_forwarded_decides_the_shop_of_every_entity(gateway_url: str):
    # when Aurelian's key asks the same
    body = ask(gateway_url, "pk_demo_aurelian")
    # then: Aurelian's products, and Panda's diapers, reviewed elsewhere, are no product of this shop
    assert "errors" not in body, body
    handles = [n["handle"] for n in body["data"]["products"]["nodes"]]
    assert handles and "diaper-soft" not in handles
    assert [r["product"] for r in body["data"]["topReviews"]] == [None, None]


def test_without_a_key_jimu_refuses_through_the_gateway(gateway_url: str):
    body = ask(gateway_url, None)
    assert "UNAUTHENTICATED" in str(body["errors"])
