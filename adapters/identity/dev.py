"""Sign-in without WeChat for development and tests, and the provider chain."""

from __future__ import annotations

from adapters.identity.port import (
    IdentityNotConfigured,
    IdentityProvider,
    IdentityRejected,
)

DEV_PREFIX = "dev:"


class DevIdentityProvider:
    """``dev:<anything>`` always signs in the same shopper for the same string."""

    async def subject_for(self, code: str) -> str:
        if not code.startswith(DEV_PREFIX) or len(code) == len(DEV_PREFIX):
            raise IdentityRejected("development codes look like dev:<anything>")
        return code


class DevThenProvider:
    """Development codes go to the dev provider, all others to the real one (if any)."""

    def __init__(self, real: IdentityProvider | None) -> None:
        self._dev = DevIdentityProvider()
        self._real = real

    async def subject_for(self, code: str) -> str:
        if code.startswith(DEV_PREFIX):
            return await self._dev.subject_for(code)
        if self._real is None:
            raise IdentityRejected("WeChat sign-in is not configured here; use a dev:<anything> code")
        return await self._real.subject_for(code)


class NoIdentityProvider:
    """Production without a deployment-wide WeChat app: only shops with their own sign shoppers in."""

    async def subject_for(self, code: str) -> str:
        raise IdentityNotConfigured("this shop has no WeChat mini-program set up (jimu shop wechat set)")
