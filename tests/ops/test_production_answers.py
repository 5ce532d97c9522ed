"""In production nothing in an answer speaks of development."""

from __future__ import annotations

from dataclasses import replace

from tests.conftest import api_client, make_gql


async def test_production_answers_carry_no_mode(settings, demo):
    # given production settings
    async with api_client(replace(settings, env="production", sandbox_pay_secret="s" * 16), demo) as client:
        gql = make_gql(client)
        # when a query is answered, and one refused
        answered = await gql("{ shop { name } }")
        refused = await client.post("/graphql", content=b"[]", headers={"content-type": "application/json"})
    # then neither says a mode
    assert "mode" not in answered.get("extensions", {}) and answered["data"]["shop"]["name"]
    assert "extensions" not in refused.json()
