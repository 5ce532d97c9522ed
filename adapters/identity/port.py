"""Identity providers turn a mini-program login code into a stable subject.

Errors::

    IdentityError
    ├── IdentityRejected       the code is wrong, used or expired: the shopper's fault
    ├── IdentityNotConfigured  the shop has no WeChat app, or WeChat refuses its id or secret: the operator's
    └── IdentityUnavailable    the provider did not answer usably: nobody's fault, retry
"""

from __future__ import annotations

from typing import Protocol


class IdentityError(Exception):
    pass


class IdentityRejected(IdentityError):
    pass


class IdentityNotConfigured(IdentityError):
    pass


class IdentityUnavailable(IdentityError):
    pass


class IdentityProvider(Protocol):
    async def subject_for(self, code: str) -> str:
        """The subject the code vouches for, e.g. ``wx:<openid>``."""
        ...
