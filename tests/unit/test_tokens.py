import time

import jwt
import pytest

from gateway.auth import InvalidToken, ShopperTokens

SECRET = "s" * 64


def test_a_token_names_its_shopper_for_its_shop():
    tokens = ShopperTokens(SECRET, ttl_seconds=60)
    assert tokens.shopper_id(tokens.issue(shop_id=3, shopper_id=42), shop_id=3) == 42


def test_a_token_is_refused_by_another_shop():
    tokens = ShopperTokens(SECRET, ttl_seconds=60)
    with pytest.raises(InvalidToken, match="another shop"):
        tokens.shopper_id(tokens.issue(shop_id=3, shopper_id=42), shop_id=4)


def test_an_expired_token_is_refused():
    # given a token that expired a second ago
    claims = {"iss": "jimu", "sub": "42", "shp": 3, "iat": int(time.time()) - 61, "exp": int(time.time()) - 1}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    # then
    with pytest.raises(InvalidToken, match="expired"):
        ShopperTokens(SECRET, 60).shopper_id(token, shop_id=3)


def test_a_token_signed_with_another_secret_or_algorithm_is_refused():
    claims = {"iss": "jimu", "sub": "42", "shp": 3, "iat": int(time.time()), "exp": int(time.time()) + 60}
    forged = jwt.encode(claims, "another-secret-of-sufficient-length!", algorithm="HS256")
    other_alg = jwt.encode(claims, SECRET, algorithm="HS512")
    unsigned = jwt.encode(claims, None, algorithm="none")
    tokens = ShopperTokens(SECRET, 60)
    for token in (forged, other_alg, unsigned, "not-a-token", forged[:-3] + "abc"):
        with pytest.raises(InvalidToken):
            tokens.shopper_id(token, shop_id=3)


def test_a_token_without_its_shop_is_refused():
    claims = {"iss": "jimu", "sub": "42", "iat": int(time.time()), "exp": int(time.time()) + 60}
    with pytest.raises(InvalidToken):
        ShopperTokens(SECRET, 60).shopper_id(jwt.encode(claims, SECRET, algorithm="HS256"), shop_id=3)
