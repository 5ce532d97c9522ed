"""Manifests, ids and naming a document in a request: pure rules, no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.documents.fake import FakeDocumentStore
from adapters.documents.rules import (
    NotAManifest,
    id_problem,
    manifest_entries,
    sha256_of,
)
from gateway.document_cache import DocumentTexts
from gateway.documents import PLAYGROUND_HEADER, named_in
from gateway.edge import Refused


def test_an_apollo_manifest_gives_its_operations_and_a_relay_map_its_pairs():
    apollo = {"format": "apollo-persisted-query-manifest", "version": 1,
              "operations": [{"id": "h1", "name": "A", "type": "query", "body": "query A { shop { name } }"}, 7]}
    assert [(e.at, e.id, e.name) for e in manifest_entries(apollo)] == [("operations[0]", "h1", "A"),
                                                                        ("operations[1]", None, None)]
    relay = {"abc": "{ shop { name } }"}
    assert [(e.at, e.id, e.document) for e in manifest_entries(relay)] == [("abc", "abc", "{ shop { name } }")]


@pytest.mark.parametrize("value", [[], {"format": "other", "version": 1}, {"a": 1},
                                   {"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}])
def test_anything_else_is_not_a_manifest(value: object):
    with pytest.raises(NotAManifest):
        manifest_entries(value)


def test_ids_are_short_printable_strings():
    assert id_problem("sha-1") is None
    assert [bool(id_problem(v)) for v in (5, "", "x" * 201, " a", "a\nb")] == [True] * 5


def test_the_hash_is_apollos():
    # the example of Apollo Server's APQ documentation, lowercase hex
    assert sha256_of("{__typename}") == "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"


def test_a_request_names_its_document_by_id_or_hash_but_not_both():
    sha = "A" * 64
    named = named_in({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}})
    assert (named.sha256, named.query, named.document_id) == ("a" * 64, None, None)
    assert named_in({"documentId": "x", "query": ""}).document_id == "x"  # an empty query is no query
    with pytest.raises(Refused) as refused:
        named_in({"documentId": "x", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}})
    assert refused.value.status == 400 and refused.value.code == "BAD_REQUEST"


async def test_a_worker_holds_texts_within_its_bound_and_reads_the_store_on_a_miss():
    # given a store another worker registered two documents in
    store = FakeDocumentStore()
    one, two = "{ a }" * 10, "{ b }" * 10
    await store.register(sha256_of(one), one)
    await store.register(sha256_of(two), two)
    texts = DocumentTexts(store, max_characters=len(one) + 10)
    # when this worker reads both
    assert await texts.text(sha256_of(one)) == one
    assert await texts.text(sha256_of(two)) == two
    # then it holds the latest only, and still finds the other through the store
    assert not texts.holds(sha256_of(one)) and texts.holds(sha256_of(two))
    assert await texts.text(sha256_of(one)) == one
    assert await texts.text("0" * 64) is None


def test_the_playground_page_sends_the_playground_header():
    script = Path(__file__).parents[2] / "gateway" / "static" / "playground.js"
    assert f'"{PLAYGROUND_HEADER}": "1"' in script.read_text(encoding="utf-8")
