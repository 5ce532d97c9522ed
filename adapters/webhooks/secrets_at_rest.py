"""Subscription secrets at rest: sealed with ``JIMU_SECRET_KEY`` when it is set.

jimu signs every delivery with the secret, so it must be able to read it back
(it cannot be hashed like an API key). Outside production a deployment without
``JIMU_SECRET_KEY`` keeps the secret as it is, marked so; production refuses to
store one unsealed.
"""

from __future__ import annotations

from adapters.wechat_accounts.port import SecretKeyMissing
from adapters.wechat_accounts.secret_box import SecretBox

SEALED = "sealed:"
PLAIN = "plain:"


class SubscriptionSecrets:
    """``what`` names the secrets in errors; ``again`` says how to store one anew."""

    def __init__(self, box: SecretBox, production: bool, what: str = "webhook secrets",
                 again: str = "create the subscription again") -> None:
        self._box = box
        self._production = production
        self._what, self._again = what, again

    def seal(self, secret: str) -> str:
        if self._box.ready:
            return SEALED + self._box.seal(secret.encode())
        if self._production:
            raise SecretKeyMissing(f"set JIMU_SECRET_KEY (jimu secrets generate-key makes one) to store {self._what}")
        return PLAIN + secret

    def open(self, stored: str) -> str:
        if stored.startswith(SEALED):
            return self._box.open(stored[len(SEALED):]).decode()
        if stored.startswith(PLAIN) and not self._production:
            return stored[len(PLAIN):]
        raise ValueError(f"the secret was stored unsealed: {self._again}")

    def reseal(self, stored: str) -> str:
        """Sealed again with the first key (``jimu secrets rotate``); one kept unsealed is sealed now."""
        if stored.startswith(SEALED):
            return SEALED + self._box.reseal(stored[len(SEALED):])
        return SEALED + self._box.seal(self.open(stored).encode())
