"""A shop's keys and shoppers' tokens over GraphQL: listing, creating, revoking."""

from __future__ import annotations

from typing import Any

from tests.conftest import Gql, codes

KEYS = "{ merchant { keys { totalCount nodes { id kind hint createdAt revokedAt active } } } }"
CREATE = "mutation($kind: ShopKeyKind!) { shopKeyCreate(kind: $kind) { key shopKey { id kind hint active } userErrors { code field message } } }"
REVOKE = "mutation($id: ID!) { shopKeyRevoke(id: $id) { shopKey { id revokedAt active } userErrors { code field message } } }"
TOKENS_REVOKE = "mutation($id: ID!) { shopperTokensRevoke(shopperId: $id) { shopper { id } userErrors { code field message } } }"
SIGN_OUT = "mutation { shopperSignOutEverywhere { shopper { id } userErrors { code field message } } }"
LOGIN = 'mutation($code: String!) { shopperLogin(code: $code) { token shopper { id } } }'
ME = "{ me { id } }"
SK = "sk_demo_panda"


async def keys_of(gql: Gql, key: str = SK) -> list[dict[str, Any]]:
    return (await gql(KEYS, key=key))["data"]["merchant"]["keys"]["nodes"]


async def create(gql: Gql, kind: str, key: str = SK) -> dict[str, Any]:
    return (await gql(CREATE, {"kind": kind}, key=key))["data"]["shopKeyCreate"]


async def revoke(gql: Gql, id_: str, key: str = SK) -> dict[str, Any]:
    return (await gql(REVOKE, {"id": id_}, key=key))["data"]["shopKeyRevoke"]


async def login(gql: Gql, code: str) -> dict[str, Any]:
    return (await gql(LOGIN, {"code": code}))["data"]["shopperLogin"]


async def test_the_keys_are_listed_by_hint_never_shown(gql: Gql):
    # when
    keys = await keys_of(gql)
    # then the demo's pair, named by the import's hints
    assert [(k["kind"], k["hint"], k["active"]) for k in keys] == [
        ("PUBLISHABLE", "pk_…anda", True), ("SECRET", "sk_…anda", True)]
    assert all(k["id"].startswith("gid://jimu/ShopKey/") and k["revokedAt"] is None for k in keys)


async def test_a_publishable_key_sees_no_keys_and_makes_none(gql: Gql):
    assert codes(await gql(KEYS)) == ["FORBIDDEN"]
    assert codes(await gql(CREATE, {"kind": "SECRET"})) == ["FORBIDDEN"]
    assert codes(await gql(REVOKE, {"id": "gid://jimu/ShopKey/1"})) == ["FORBIDDEN"]


async def test_a_created_key_is_shown_once_and_opens_the_shop(gql: Gql):
    # when
    made = await create(gql, "PUBLISHABLE")
    # then
    assert made["userErrors"] == [] and made["key"].startswith("pk_")
    assert made["shopKey"]["hint"] == "pk_…" + made["key"][-4:] and made["shopKey"]["kind"] == "PUBLISHABLE"
    assert (await gql("{ shop { handle } }", key=made["key"]))["data"]["shop"]["handle"] == "panda-care"
    assert made["key"] not in str(await keys_of(gql))


async def test_a_revoked_key_is_refused_at_once_and_revoking_again_changes_nothing(gql: Gql):
    # given a second secret key, used once
    made = await create(gql, "SECRET")
    assert (await keys_of(gql, made["key"]))[-1]["id"] == made["shopKey"]["id"]
    # when the first secret key revokes it
    first = await revoke(gql, made["shopKey"]["id"])
    again = await revoke(gql, made["shopKey"]["id"])
    # then
    assert first["userErrors"] == [] and first["shopKey"]["active"] is False and first["shopKey"]["revokedAt"]
    assert again == first
    assert codes(await gql(KEYS, key=made["key"])) == ["UNAUTHENTICATED"]
    assert [k["active"] for k in await keys_of(gql)] == [True, True, False]


async def test_a_shop_cannot_revoke_its_last_active_secret_key_over_the_api(gql: Gql):
    # given the demo's one secret key
    secret = [k for k in await keys_of(gql) if k["kind"] == "SECRET"][0]
    # when it revokes itself
    refused = await revoke(gql, secret["id"])
    # then
    assert refused["shopKey"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [("INVALID_STATE", ["id"])]
    assert "last active secret key" in refused["userErrors"][0]["message"]
    assert (await keys_of(gql))[1]["active"] is True


async def test_with_a_second_secret_key_the_first_may_go(gql: Gql):
    # given
    made = await create(gql, "SECRET")
    secret = [k for k in await keys_of(gql) if k["kind"] == "SECRET"][0]
    # when the new key revokes the old one
    done = await revoke(gql, secret["id"], key=made["key"])
    # then the old one is refused, the new one still works, and it may not go now
    assert done["userErrors"] == []
    assert codes(await gql(KEYS, key=SK)) == ["UNAUTHENTICATED"]
    assert (await revoke(gql, made["shopKey"]["id"], key=made["key"]))["userErrors"][0]["code"] == "INVALID_STATE"


async def test_unknown_malformed_and_other_shops_key_ids_are_user_errors(gql: Gql):
    # given a key of the other demo shop
    aurelian = (await keys_of(gql, "sk_demo_aurelian"))[0]["id"]
    # when
    answers = {id_: await revoke(gql, id_) for id_ in (
        aurelian, "gid://jimu/ShopKey/999999", "gid://jimu/Product/1", "12", "", "gid://jimu/ShopKey/0")}
    # then
    found = {id_: [(e["code"], e["field"]) for e in a["userErrors"]] for id_, a in answers.items()}
    assert found == {
        aurelian: [("NOT_FOUND", ["id"])],
        "gid://jimu/ShopKey/999999": [("NOT_FOUND", ["id"])],
        "gid://jimu/Product/1": [("INVALID", ["id"])],
        "12": [("INVALID", ["id"])],
        "": [("INVALID", ["id"])],
        "gid://jimu/ShopKey/0": [("INVALID", ["id"])],
    }
    assert [k["active"] for k in await keys_of(gql, "sk_demo_aurelian")] == [True, True]


async def test_a_kind_that_is_not_one_is_a_graphql_error(gql: Gql):
    assert codes(await gql(CREATE, {"kind": "ROOT"}, key=SK)) == ["BAD_USER_INPUT"]


async def test_the_merchant_revokes_a_shoppers_tokens_and_a_new_sign_in_works(gql: Gql):
    # given two tokens of one shopper, and another shopper's
    first, second, other = await login(gql, "dev:fay"), await login(gql, "dev:fay"), await login(gql, "dev:gus")
    # when
    done = (await gql(TOKENS_REVOKE, {"id": first["shopper"]["id"]}, key=SK))["data"]["shopperTokensRevoke"]
    # then both of fay's tokens are refused, gus's is not, and fay signs in again
    assert done == {"shopper": first["shopper"], "userErrors": []}
    for token in (first["token"], second["token"]):
        refused = await gql(ME, token=token)
        assert codes(refused) == ["UNAUTHENTICATED"] and "revoked" in refused["errors"][0]["message"]
    assert (await gql(ME, token=other["token"]))["data"]["me"] == other["shopper"]
    again = await login(gql, "dev:fay")
    assert (await gql(ME, token=again["token"]))["data"]["me"] == first["shopper"]


async def test_revoking_tokens_of_no_such_shopper_is_a_user_error(gql: Gql):
    # given a shopper of the other shop
    elsewhere = (await gql(LOGIN, {"code": "dev:hal"}, key="pk_demo_aurelian"))["data"]["shopperLogin"]
    # when
    answers = [(await gql(TOKENS_REVOKE, {"id": id_}, key=SK))["data"]["shopperTokensRevoke"]
               for id_ in (elsewhere["shopper"]["id"], "gid://jimu/Shopper/999999", "gid://jimu/ShopKey/1")]
    # then
    assert [[(e["code"], e["field"]) for e in a["userErrors"]] for a in answers] == [
        [("NOT_FOUND", ["shopperId"])], [("NOT_FOUND", ["shopperId"])], [("INVALID", ["shopperId"])]]
    assert (await gql(ME, token=elsewhere["token"], key="pk_demo_aurelian"))["data"]["me"] == elsewhere["shopper"]
    assert codes(await gql(TOKENS_REVOKE, {"id": elsewhere["shopper"]["id"]})) == ["FORBIDDEN"]


async def test_a_shopper_signs_out_everywhere(gql: Gql):
    # given two sessions
    phone, laptop = await login(gql, "dev:ida"), await login(gql, "dev:ida")
    # when one signs out everywhere
    done = (await gql(SIGN_OUT, token=phone["token"]))["data"]["shopperSignOutEverywhere"]
    # then neither token works
    assert done == {"shopper": phone["shopper"], "userErrors": []}
    assert codes(await gql(ME, token=laptop["token"])) == ["UNAUTHENTICATED"]
    assert codes(await gql(SIGN_OUT, token=phone["token"])) == ["UNAUTHENTICATED"]
    assert codes(await gql(SIGN_OUT)) == ["UNAUTHENTICATED"]
