"""The document store: the same behaviour from the fake and from SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.db import utcnow
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


async def test_forgetting_drops_the_untrusted_past_their_time_or_past_the_cap_oldest_first(
        adapters: Adapters, shops: tuple[int, int], monkeypatch: pytest.MonkeyPatch):
    panda, _ = shops
    monkeypatch.setattr("adapters.documents.sql.FORGET_BATCH", 1)  # SQL forgets a batch a transaction
    docs = [f"query Q{n} {{ shop {{ name }} }}" for n in range(5)]
    # given five registered in turn, the first trusted by a shop, the second registered again last
    for doc in docs:
        await adapters.documents.register(sha256_of(doc), doc)
    await adapters.documents.trust(panda, [trusting("q0", docs[0])])
    await adapters.documents.register(sha256_of(docs[1]), docs[1])
    texts = adapters.documents.texts
    # when the cap is 2: the oldest untrusted past it go (Q2, Q3), the trusted one stays
    assert await adapters.documents.forget(utcnow() - timedelta(days=7), keep_at_most=2) == 2
    assert await texts([sha256_of(d) for d in docs]) == [docs[0], docs[1], None, None, docs[4]]
    # when all were registered before the retention's start: every untrusted one goes
    assert await adapters.documents.forget(utcnow() + timedelta(seconds=1), keep_at_most=100) == 2
    assert await texts([sha256_of(d) for d in docs]) == [docs[0], None, None, None, None]
    assert [d.id for d in await adapters.documents.trusted(panda)] == ["q0"]
    # and a forgotten one may be registered again
    await adapters.documents.register(sha256_of(docs[2]), docs[2])
    assert await texts([sha256_of(docs[2])]) == [docs[2]]
