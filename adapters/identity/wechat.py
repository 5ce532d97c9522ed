"""WeChat mini-program sign-in: the code2Session exchange."""

from __future__ import annotations

import httpx

from adapters.identity.port import (
    IdentityNotConfigured,
    IdentityRejected,
    IdentityUnavailable,
)

API_BASE = "https://api.weixin.qq.com"
CODE2SESSION_PATH = "/sns/jscode2session"
# errcode values that mean the code itself is bad (invalid, used, or from a blocked user).
_REJECTED = {40029, 40163, 40226, 45011}
# ...and those that mean the app id or secret is wrong: the shop's settings, not the shopper.
_MISCONFIGURED = {40013, 40125, 41002, 41004}


SUBJECT_PREFIX = "wx:"


def openid_of(subject: str) -> str | None:
    """The WeChat openid in a subject this provider vouched for; None for any other subject."""
    return subject[len(SUBJECT_PREFIX):] if subject.startswith(SUBJECT_PREFIX) else None


class WechatIdentityProvider:
    def __init__(self, app_id: str, app_secret: str, client: httpx.AsyncClient, api_base: str = API_BASE) -> None:
        self.app_id = app_id
        self._app_secret = app_secret
        self._client = client
        self._url = api_base.rstrip("/") + CODE2SESSION_PATH

    async def subject_for(self, code: str) -> str:
        params = {
            "appid": self.app_id,
            "secret": self._app_secret,
            "js_code": code,
            "grant_type": "authorization_code",
        }
        try:
            response = await self._client.get(self._url, params=params, timeout=5.0)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise IdentityUnavailable("WeChat sign-in did not answer") from exc
        if not isinstance(body, dict):
            raise IdentityUnavailable("WeChat sign-in answered something unexpected")
        errcode = body.get("errcode") or 0
        if errcode in _REJECTED:
            raise IdentityRejected(f"WeChat refused the code ({errcode}): {body.get('errmsg', '')}".strip())
        if errcode in _MISCONFIGURED:
            raise IdentityNotConfigured(f"WeChat refused this shop's app id or secret ({errcode})")
        openid = body.get("openid")
        if errcode or not isinstance(openid, str) or not openid:
            raise IdentityUnavailable(f"WeChat sign-in failed ({errcode})")
        return f"{SUBJECT_PREFIX}{openid}"
