"""``jimu documents``: push, list and remove a shop's trusted documents, as an operator would."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.documents.rules import sha256_of
from gateway.settings import Settings
from gateway.wiring import Adapters, sql_adapters
from tests.conftest import load_demo
from tests.test_cli import jimu

NAME = "query ShopName { shop { name } }"
HANDLE = "query ShopHandle { shop { handle } }"


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def apollo(*operations: dict[str, str]) -> dict[str, object]:
    return {"format": "apollo-persisted-query-manifest", "version": 1, "operations": list(operations)}


async def trusted_ids(database_url: str) -> list[str]:
    adapters = sql_adapters(Settings(database_url=database_url))
    try:
        [shop] = await adapters.shops.shops_by_handle(["panda-care"])
        assert shop is not None
        return [d.id for d in await adapters.documents.trusted(shop.id)]
    finally:
        await adapters.close()


async def test_push_takes_an_apollo_manifest_and_a_relay_map(tmp_path: Path, sql: Adapters, database_url: str):
    # given
    await load_demo(sql)
    env = {"JIMU_DATABASE_URL": database_url}
    manifest = apollo({"id": sha256_of(NAME), "name": "ShopName", "type": "query", "body": NAME})
    # when
    first = await jimu("documents", "push", "panda-care", str(write(tmp_path, manifest)), env=env)
    second = await jimu("documents", "push", "panda-care", str(write(tmp_path, {"relay-1": HANDLE})), env=env)
    listed = await jimu("documents", "list", "panda-care", env=env)
    # then
    assert first.exit_code == 0 and "1 document(s) trusted" in first.output
    assert second.exit_code == 0
    assert sorted(await trusted_ids(database_url)) == sorted([sha256_of(NAME), "relay-1"])
    assert "ShopName" in listed.output and "ShopHandle" in listed.output, "Relay's names come from the documents"
    assert sha256_of(HANDLE) in listed.output


async def test_one_bad_document_refuses_the_whole_push_and_every_fault_is_listed(tmp_path: Path, sql: Adapters,
                                                                                 database_url: str):
    await load_demo(sql)
    env = {"JIMU_DATABASE_URL": database_url}
    manifest = apollo({"id": "good", "body": NAME}, {"id": "typo", "body": "{ shop { nam } }"},
                      {"id": "broken", "body": "{ shop "}, {"id": "", "body": NAME})
    result = await jimu("documents", "push", "panda-care", str(write(tmp_path, manifest)), env=env)
    assert result.exit_code == 1
    assert "Nothing was trusted: 3 problem(s)" in result.output
    for where in ("operations[1]", "operations[2]", "operations[3]"):
        assert where in result.output
    assert "Cannot query field 'nam'" in result.output
    assert await trusted_ids(database_url) == []


async def test_remove_takes_ids_or_all(tmp_path: Path, sql: Adapters, database_url: str):
    await load_demo(sql)
    env = {"JIMU_DATABASE_URL": database_url}
    await jimu("documents", "push", "panda-care", str(write(tmp_path, {"a": NAME, "b": HANDLE, "c": NAME})), env=env)
    one = await jimu("documents", "remove", "panda-care", "a", env=env)
    assert one.exit_code == 0 and await trusted_ids(database_url) == ["b", "c"]
    neither = await jimu("documents", "remove", "panda-care", env=env)
    assert neither.exit_code == 2
    every = await jimu("documents", "remove", "panda-care", "--all", env=env)
    assert every.exit_code == 0 and "2 document(s) no longer trusted" in every.output
    assert await trusted_ids(database_url) == []


async def test_an_unknown_shop_and_a_reused_id_are_refused(tmp_path: Path, sql: Adapters, database_url: str):
    await load_demo(sql)
    env = {"JIMU_DATABASE_URL": database_url}
    await jimu("documents", "push", "panda-care", str(write(tmp_path, {"a": NAME})), env=env)
    reused = await jimu("documents", "push", "panda-care", str(write(tmp_path, {"a": HANDLE, "b": HANDLE})), env=env)
    nobody = await jimu("documents", "list", "no-such-shop", env=env)
    assert reused.exit_code == 1 and "already trusted with another document: a" in reused.output
    assert await trusted_ids(database_url) == ["a"]
    assert nobody.exit_code == 1 and "no shop 'no-such-shop'" in nobody.output
