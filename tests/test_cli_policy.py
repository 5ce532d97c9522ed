"""`jimu shop policy`: a shop's trusted-documents mode and its secret key's budget."""

from __future__ import annotations

from adapters.shops.port import ShopPolicy, TrustedDocuments
from adapters.shops.rules import hash_key
from gateway.settings import Settings
from gateway.wiring import sql_adapters
from tests.test_cli import env, jimu  # noqa: F401 - env is a fixture


async def policy_of(database_url: str, key: str) -> ShopPolicy:
    adapters = sql_adapters(Settings(database_url=database_url))
    try:
        found = await adapters.shops.shop_for_key(hash_key(key))
        assert found is not None
        return found[0].policy
    finally:
        await adapters.close()


async def test_a_shops_policy_is_shown_changed_and_given_back_to_the_deployment(env, database_url: str):  # noqa: F811
    created = await jimu("shop", "create", "policy-brand", "--name", "P", env=env)
    publishable = next(line.split(":", 1)[1].strip() for line in created.output.splitlines() if line.startswith("publishable"))
    shown = await jimu("shop", "policy", "policy-brand", env=env)
    assert shown.exit_code == 0 and "trusted documents off (the deployment's)" in shown.output
    assert "budget 1000/100 (the deployment's)" in shown.output
    changed = await jimu("shop", "policy", "policy-brand", "--trusted-documents", "require", "--budget", "2000/200", env=env)
    assert changed.exit_code == 0 and "trusted documents require; a secret key's budget 2000/200" in changed.output
    assert await policy_of(database_url, publishable) == ShopPolicy(TrustedDocuments.REQUIRE, 2000, 200)
    # an option not given keeps what is set
    await jimu("shop", "policy", "policy-brand", "--budget", "default", env=env)
    assert await policy_of(database_url, publishable) == ShopPolicy(TrustedDocuments.REQUIRE, None, None)
    for bad in (["--budget", "5"], ["--budget", "10/0"], ["--trusted-documents", "on"]):
        refused = await jimu("shop", "policy", "policy-brand", *bad, env=env)
        assert refused.exit_code == 2, (bad, refused.output)
    missing = await jimu("shop", "policy", "no-such-shop", env=env)
    assert missing.exit_code == 1 and "no shop 'no-such-shop'" in missing.output
