import httpx
import pytest

from adapters.identity.dev import DevIdentityProvider, DevThenProvider
from adapters.identity.port import IdentityRejected, IdentityUnavailable
from adapters.identity.wechat import WechatIdentityProvider


def wechat(handler) -> WechatIdentityProvider:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return WechatIdentityProvider("wx-app", "wx-secret", client)


async def test_code2session_signs_in_the_openid_it_returns():
    # given
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.url.params)
        return httpx.Response(200, json={"openid": "o-123", "session_key": "k"})

    # when
    subject = await wechat(handler).subject_for("code-1")
    # then
    assert subject == "wx:o-123"
    assert seen == {"appid": "wx-app", "secret": "wx-secret", "js_code": "code-1", "grant_type": "authorization_code"}


async def test_a_code_wechat_refuses_is_the_shoppers_fault():
    provider = wechat(lambda r: httpx.Response(200, json={"errcode": 40029, "errmsg": "invalid code"}))
    with pytest.raises(IdentityRejected, match="40029"):
        await provider.subject_for("bad")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(502, text="bad gateway"),
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json={"errcode": -1, "errmsg": "system busy"}),
        httpx.Response(200, json=["unexpected"]),
        httpx.Response(200, json={}),
    ],
)
async def test_an_unusable_answer_means_wechat_is_unavailable(response):
    with pytest.raises(IdentityUnavailable):
        await wechat(lambda r: response).subject_for("c")


async def test_a_network_failure_means_wechat_is_unavailable():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)

    with pytest.raises(IdentityUnavailable):
        await wechat(handler).subject_for("c")


async def test_dev_codes_are_stable_and_need_something_after_the_prefix():
    provider = DevIdentityProvider()
    assert await provider.subject_for("dev:alice") == await provider.subject_for("dev:alice")
    with pytest.raises(IdentityRejected):
        await provider.subject_for("dev:")


async def test_without_wechat_only_dev_codes_sign_in():
    provider = DevThenProvider(None)
    assert await provider.subject_for("dev:bob") == "dev:bob"
    with pytest.raises(IdentityRejected, match="not configured"):
        await provider.subject_for("0a3Xyz")
