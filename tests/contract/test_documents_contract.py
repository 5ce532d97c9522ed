"""The document store: the same behaviour from the fake and from SQL."""

from __future__ import annotations

import pytest

from adapters.documents.port import IdTaken, TrustedDocument, Trusting
from adapters.documents.rules import sha256_of
from adapters.shops.rules import hash_key
from gateway.wiring import Adapters
from tests.conftest import load_demo

A, B = "query A { shop { name } }", "query B { shop { handle } }"


def trusting(document_id: str, document: str, name: str | None = None) -> Trusting:
    return Trusting(document_id, document, sha256_of(document), name)


@pytest.fixture
async def shops(adapters: Adapters) -> tuple[int, int]:
    await load_demo(adapters)
    panda = await adapters.shops.shop_for_key(hash_key("pk_demo_panda"))
    aurelian = await adapters.shops.shop_for_key(hash_key("pk_demo_aurelian"))
    assert panda is not None and aurelian is not None
    return panda[0].id, aurelian[0].id


async def test_texts_come_back_in_key_order_and_registering_twice_keeps_one(adapters: Adapters):
    # given
    await adapters.documents.register(sha256_of(A), A)
    await adapters.documents.register(sha256_of(A), A)
    # when
    found = await adapters.documents.texts([sha256_of(B), sha256_of(A), sha256_of(B)])
    # then
    assert found == [None, A, None]


async def test_trusting_adds_to_the_list_and_stores_the_texts(adapters: Adapters, shops: tuple[int, int]):
    panda, aurelian = shops
    first = await adapters.documents.trust(panda, [trusting("a", A, "A"), trusting("b", B)])
    again = await adapters.documents.trust(panda, [trusting("a", A, "A")])
    assert (first.added, first.unchanged, again.added, again.unchanged) == (2, 0, 0, 1)
    assert await adapters.documents.trusted(panda) == [
        TrustedDocument("a", sha256_of(A), "A", len(A)), TrustedDocument("b", sha256_of(B), None, len(B))]
    assert await adapters.documents.trusted(aurelian) == []
    assert await adapters.documents.texts([sha256_of(B)]) == [B]


async def test_an_id_trusted_with_another_document_refuses_the_whole_push(adapters: Adapters, shops: tuple[int, int]):
    panda, _ = shops
    await adapters.documents.trust(panda, [trusting("a", A)])
    with pytest.raises(IdTaken) as refused:
        await adapters.documents.trust(panda, [trusting("new", B), trusting("a", B)])
    assert refused.value.ids == ("a",)
    assert [d.id for d in await adapters.documents.trusted(panda)] == ["a"]


async def test_distrust_takes_ids_off_one_shops_list(adapters: Adapters, shops: tuple[int, int]):
    panda, aurelian = shops
    await adapters.documents.trust(panda, [trusting("a", A), trusting("b", B)])
    await adapters.documents.trust(aurelian, [trusting("a", A)])
    assert await adapters.documents.distrust(panda, ["a", "zz"]) == 1
    assert [d.id for d in await adapters.documents.trusted(panda)] == ["b"]
    assert await adapters.documents.distrust(panda, None) == 1
    assert await adapters.documents.trusted(panda) == []
    assert [d.id for d in await adapters.documents.trusted(aurelian)] == ["a"]
    assert await adapters.documents.texts([sha256_of(A)]) == [A], "a hash still names its text"
