"""WeChat mini-program sign-in: the code2Session exchange."""

from __future__ import annotations

import httpx

from adapters.identity.port import IdentityRejected, IdentityUnavailable

CODE2SESSION_URL = "https://api.weixin.qq.com/sns/jscode2session"
# errcode values that mean the code itself is bad (invalid, used, or from a blocked user).
_REJECTED = {40029, 40163, 40226, 45011}


SUBJECT_PREFIX = "wx:"


def openid_of(subject: str) -> str | None:
    """The WeChat openid in a subject this provider vouched for; None for any other subject."""
    return subject[len(SUBJECT_PREFIX):] if subject.startswith(SUBJECT_PREFIX) else None


class WechatIdentityProvider:
    def __init__(self, app_id: str, app_secret: str, client: httpx.AsyncClient) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._client = client

    async def subject_for(self, code: str) -> str:
        params = {
            "appid": self._app_id,
            "secret": self._app_secret,
            "js_code": code,
            "grant_type": "authorization_code",
        }
        try:
            response = await self._client.get(CODE2SESSION_URL, params=params, timeout=5.0)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise IdentityUnavailable("WeChat sign-in did not answer") from exc
        if not isinstance(body, dict):
            raise IdentityUnavailable("WeChat sign-in answered something unexpected")
        errcode = body.get("errcode") or 0
        if errcode in _REJECTED:
            raise IdentityRejected(f"WeChat refused the code ({errcode}): {body.get('errmsg', '')}".strip())
        openid = body.get("openid")
        if errcode or not isinstance(openid, str) or not openid:
            raise IdentityUnavailable(f"WeChat sign-in failed ({errcode})")
        return f"{SUBJECT_PREFIX}{openid}"
