"""The error of a port whose capability another system serves and which did not answer it.

Goods and stock may be a shop's own systems (adapters/remote): the saga, the sweep and the API
hear of them failing through this error, not through the remote adapters' own, so nothing
above the ports depends on how a capability is reached."""

from __future__ import annotations


class Unavailable(Exception):
    """``capability`` (goods, inventory) did not answer in time, or not as its contract says."""

    def __init__(self, capability: str, reason: str) -> None:
        super().__init__(f"the merchant's {capability} system is unavailable: {reason}")
        self.capability = capability
        self.reason = reason
