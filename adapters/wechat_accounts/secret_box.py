"""Sealing secrets at rest with the keys in ``JIMU_SECRET_KEY`` (Fernet: AES-128-CBC with HMAC-SHA256).

The first key seals; every key opens, so a new key goes first, ``jimu secrets
rotate`` seals everything again with it, and the old key can then be dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from adapters.wechat_accounts.port import SecretKeyMissing, SecretUnreadable


def new_key() -> str:
    return Fernet.generate_key().decode()


class SecretBox:
    def __init__(self, keys: Sequence[str]) -> None:
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys]) if keys else None
        except ValueError as exc:
            raise ValueError("each JIMU_SECRET_KEY entry is 32 url-safe base64-encoded bytes") from exc

    @property
    def ready(self) -> bool:
        return self._fernet is not None

    def seal(self, plain: bytes) -> str:
        return self._need().encrypt(plain).decode()

    def open(self, sealed: str) -> bytes:
        try:
            return self._need(opening=True).decrypt(sealed.encode())
        except InvalidToken as exc:
            raise SecretUnreadable("no key in JIMU_SECRET_KEY opens this secret "
                                   "(was the key it was sealed with dropped before jimu secrets rotate?)") from exc

    def reseal(self, sealed: str) -> str:
        """The secret sealed again with the first key; SecretUnreadable when no key opens it."""
        try:
            return self._need(opening=True).rotate(sealed.encode()).decode()
        except InvalidToken as exc:
            raise SecretUnreadable("no key in JIMU_SECRET_KEY opens a stored secret: nothing was changed") from exc

    def _need(self, opening: bool = False) -> MultiFernet:
        if self._fernet is None:
            if opening:
                raise SecretUnreadable("JIMU_SECRET_KEY is not set: stored WeChat secrets cannot be opened")
            raise SecretKeyMissing("set JIMU_SECRET_KEY (jimu secrets generate-key makes one) to store secrets")
        return self._fernet
